from django.apps import AppConfig


class SlaConfig(AppConfig):
    """SLA, OLA and UC clocks on business calendars (reacts to ticket events)."""

    name = "sla"
    verbose_name = "SLA"
