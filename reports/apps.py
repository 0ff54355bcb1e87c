from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """KPI dashboards and satisfaction surveys (reacts to ticket events)."""

    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from knowledgebase.models import Deflection
        from tickets.events import ticket_events
        from tickets.panels import TicketPanel, register_ticket_panel

        from . import surveys

        ticket_events.connect(surveys.on_ticket_events, dispatch_uid="reports-kpis-surveys")
        post_save.connect(surveys.on_deflection_saved, sender=Deflection, dispatch_uid="reports-deflections")
        register_ticket_panel(TicketPanel("survey", "reports/_survey_panel.html", surveys.survey_panel, order=30))
