"""REST API routes of the SLA app.

``urlpatterns`` are mounted at /api/sla/ (calendars and policies, for managers);
``ticket_urls`` at /api/ (``tickets/<id>/sla/``, next to the ticket API, which never imports sla).
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import CalendarViewSet, PolicyViewSet, TicketClocksView

app_name = "sla_api"

router = SimpleRouter()
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("policies", PolicyViewSet, basename="policy")

urlpatterns = router.urls

ticket_urls = (
    [path("tickets/<int:pk>/sla/", TicketClocksView.as_view(), name="ticket-sla")],
    "sla_ticket_api",
)
