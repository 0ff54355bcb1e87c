from django.apps import AppConfig


class KnowledgebaseConfig(AppConfig):
    """Tier 0 self-service: articles, search, suggestions and deflection."""

    name = "knowledgebase"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from tickets.panels import TicketPanel, register_ticket_panel

        from .panels import ticket_panel_context

        register_ticket_panel(
            TicketPanel(key="kb", template="knowledgebase/_ticket_panel.html", context=ticket_panel_context, order=50)
        )
