from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class User(AbstractUser):
    """A person using the helpdesk. Roles come from groups, tiers and vendor links (see tickets.roles).

    E-mail addresses are unique ignoring case, so an inbound e-mail maps to one person.
    """

    # Essential mail (password reset, a new ticket's confirmation, replies to and resolution of
    # one's own ticket, SLA breaches, manager alerts) is always sent; see tickets.mail.outbound.
    receive_optional_email = models.BooleanField(
        "Non-essential e-mail",
        default=True,
        help_text="Status changes, watcher copies, assignment and escalation notices, SLA warnings.",
    )

    time_zone = models.CharField(
        "Time zone",
        max_length=64,
        blank=True,
        default="",
        help_text="Times are shown in this zone (an IANA name such as Europe/Berlin). Empty: the desk's zone.",
    )
    # The queue columns this person chose to see, in order; empty means the default set.
    queue_columns = models.JSONField(default=list, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="core_user_email_unique_ci",
                violation_error_message="A user with this e-mail address already exists.",
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.name_from(self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(first_name: str, last_name: str, username: str) -> str:
        """``display_name`` from the columns alone (for lists read with ``values()``)."""
        return f"{first_name} {last_name}".strip() or username


class OutboxQuerySet(models.QuerySet):
    def due(self, *, now, redeliver_before):
        """Rows the relay should hand to Celery: pending and due, or relayed long ago and never finished."""
        return self.filter(
            Q(status=OutboxMessage.Status.PENDING, available_at__lte=now)
            | Q(status=OutboxMessage.Status.RELAYED, relayed_at__lt=redeliver_before)
        )


class OutboxMessage(models.Model):
    """Work for Celery recorded in the same transaction as the change that caused it.

    The relay (a beat task) hands rows to Celery; the consumer marks a row done in the same
    transaction as its own effect, so a message delivered twice acts once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RELAYED = "relayed", "Handed to Celery"
        DONE = "done", "Done"
        FAILED = "failed", "Failed (gave up)"

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    relayed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay's only query walks this in id order and stops after a batch; it stays
            # small because done rows drop out of it.
            models.Index(
                fields=["id"],
                name="outbox_open_id_idx",
                condition=Q(status__in=["pending", "relayed"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "relayed", "done", "failed"]),
                name="outbox_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="done", done_at__isnull=False) | ~Q(status="done"),
                name="outbox_done_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk} ({self.status})"


class Heartbeat(models.Model):
    """Last time a background process (beat, worker) proved it was alive; read by /healthz."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class RateCounter(models.Model):
    """How often one key (action, who) was counted in one fixed window: the rate limiter's
    PostgreSQL fallback, used only while its Redis is down or does not answer (see
    ``helpdesk.core.ratelimit``). Rows of ended windows are purged by the same statement that
    counts, a few at a time.
    """

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The upsert's conflict target: one counter per key and window.
            models.UniqueConstraint(fields=["key", "window_start"], name="core_ratecounter_key_window"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="core_ratecounter_expires_idx")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M:%S}: {self.count}"
