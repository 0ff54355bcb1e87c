from django.apps import AppConfig


class SlaConfig(AppConfig):
    """SLA, OLA and UC clocks on business calendars (reacts to ticket events)."""

    name = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from tickets.events import ticket_events
        from tickets.panels import TicketPanel, register_ticket_panel

        from . import panels, services

        ticket_events.connect(services.on_ticket_events, dispatch_uid="sla-clocks")
        register_ticket_panel(TicketPanel("sla", "sla/_ticket_panel.html", panels.clock_panel, order=10))
