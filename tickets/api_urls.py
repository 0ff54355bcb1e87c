"""REST API routes (mounted at /api/): the tickets and the token endpoint."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import TicketViewSet, TokenView

app_name = "tickets_api"

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    *router.urls,
]
