from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Infrastructure shared by every app: the user model, the outbox, heartbeats, health."""

    name = "helpdesk.core"
    label = "core"
    verbose_name = "Helpdesk core"

    def ready(self) -> None:
        from . import (
            lookups,  # noqa: F401 - registers ``__in_array`` on every field
            ratelimit,  # noqa: F401 - registers the check of the RATE_LIMITS settings
        )
