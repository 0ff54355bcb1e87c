from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """KPI dashboards and satisfaction surveys."""

    name = "reports"
    verbose_name = "Reports"
