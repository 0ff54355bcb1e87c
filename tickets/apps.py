from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from . import option_lists
        from .models import Category, TierMembership

        user_model = get_user_model()
        for model in (Category, TierMembership, user_model, Group):
            for signal in (post_save, post_delete):
                signal.connect(option_lists.bump_version, sender=model, dispatch_uid=f"queue-options-{model.__name__}")
        m2m_changed.connect(
            option_lists.bump_version, sender=user_model.groups.through, dispatch_uid="queue-options-groups"
        )
