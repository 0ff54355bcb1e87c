from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from . import inbox, live
        from .events import ticket_events

        ticket_events.connect(inbox.on_ticket_events, dispatch_uid="tickets-inbox")
        ticket_events.connect(live.on_ticket_events, dispatch_uid="tickets-live")
