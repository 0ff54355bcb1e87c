"""The agent workspace's records: saved queue views, macros and the attention inbox's notifications.

Models of the ``tickets`` app (imported by ``tickets.models``, so Django and every importer find
them there).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .models import Category, MessageKind, Priority, Status, Ticket, Tier


class SavedView(models.Model):
    """A named queue filter and sort (the queue page's query string), personal or shared with every agent."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    shared = models.BooleanField(default=False, help_text="Shown to every agent, not only its owner.")
    query = models.CharField(max_length=1000, blank=True, help_text="The queue's query string (filters and sort).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_unique_per_owner")]
        indexes = [models.Index(fields=["shared", "name"], name="saved_view_shared_idx")]

    def __str__(self) -> str:
        return self.name


class Macro(models.Model):
    """A named reply or note (with placeholders) and field changes, applied in one click.

    Personal when ``owner`` is set; otherwise for the agents of ``tier`` (every tier when empty).
    A blank field change leaves that field as it is.
    """

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="macros"
    )
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.PUBLIC)
    body = models.TextField(blank=True, help_text="Placeholders: {requester}, {reference}, {subject}, {agent}.")
    status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assign_to_me = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["tier", "name"], name="macro_tier_idx")]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """One line of a person's in-app attention inbox (the bell): something on a ticket that needs them."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to you"
        REPLY = "reply", "New reply on your ticket"
        MENTION = "mention", "Mentioned in a note"
        SLA_WARNING = "sla_warning", "SLA warning"
        SLA_BREACH = "sla_breach", "SLA breached"
        ESCALATED = "escalated", "Escalated into your tier"
        MANAGERS = "managers", "Managers notified"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.ticket_id} for {self.user_id}"
