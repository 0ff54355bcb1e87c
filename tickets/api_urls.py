"""REST API routes (mounted at /api/): the tickets, the saved queue views, the macros and the token endpoint."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import TicketViewSet
from .api_token import TokenView
from .api_workspace import MacroViewSet, SavedViewViewSet

app_name = "tickets_api"

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("saved-views", SavedViewViewSet, basename="saved-view")
router.register("macros", MacroViewSet, basename="macro")  # the ticket page's macros

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    *router.urls,
]
