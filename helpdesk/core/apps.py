from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Infrastructure shared by every app: the user model, the outbox, heartbeats, health."""

    name = "helpdesk.core"
    label = "core"
    verbose_name = "Helpdesk core"
