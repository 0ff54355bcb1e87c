import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Tier(models.IntegerChoices):
    """Support tiers of the seed documents. Code compares against these, never bare numbers."""

    SELF_SERVICE = 0, "Tier 0 - Self-service"
    T1 = 1, "Tier 1 - Service desk"
    T2 = 2, "Tier 2 - Technicians"
    T3 = 3, "Tier 3 - Specialists"
    T4 = 4, "Tier 4 - Vendors"


AGENT_TIERS = (Tier.T1, Tier.T2, Tier.T3)


class Vendor(models.Model):
    """An outside party that takes tier-4 escalations."""

    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TierMembership(models.Model):
    """An agent belongs to one or more of tiers 1-3 and works their queues."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tier_memberships")
    tier = models.PositiveSmallIntegerField(choices=[(t.value, t.label) for t in AGENT_TIERS])

    class Meta:
        ordering = ["tier"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tier"], name="tier_membership_unique"),
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=3), name="tier_membership_tier_1_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {Tier(self.tier).label}"


class VendorContact(models.Model):
    """Links a user account to the vendor they speak for; they see only that vendor's tickets."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_contact")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="contacts")

    def __str__(self) -> str:
        return f"{self.user} for {self.vendor}"


class Status(models.TextChoices):
    """Ticket lifecycle (DESIGN.md "Ticket lifecycle")."""

    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING_REQUESTER = "pending_requester", "Waiting for requester"
    PENDING_VENDOR = "pending_vendor", "Waiting for vendor"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING_REQUESTER, Status.PENDING_VENDOR)


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    API = "api", "API"


class Level(models.TextChoices):
    """Impact and urgency, in the words requesters are offered."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Priority(models.IntegerChoices):
    P1 = 1, "P1 - Critical"
    P2 = 2, "P2 - High"
    P3 = 3, "P3 - Medium"
    P4 = 4, "P4 - Low"


# Impact x urgency -> priority (DESIGN.md: high/high -> P1 ... low/low -> P4).
PRIORITY_MATRIX: dict[tuple[str, str], int] = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P4,
}


def priority_for(impact: str, urgency: str) -> int:
    return PRIORITY_MATRIX[(Level(impact), Level(urgency))]


class Category(models.Model):
    """A ticket category; a category may route new tickets to a tier other than tier 1."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    route_tier = models.PositiveSmallIntegerField(
        choices=[(t.value, t.label) for t in AGENT_TIERS], default=Tier.T1, help_text="Tier that new tickets land in."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.CheckConstraint(condition=Q(route_tier__gte=1, route_tier__lte=3), name="category_route_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


REFERENCE_PREFIX = "HD-"


def format_reference(pk: int) -> str:
    return f"{REFERENCE_PREFIX}{pk:06d}"


def parse_reference(text: str) -> int | None:
    """``HD-000123``, ``hd-123`` or ``123`` -> 123; anything else -> None."""
    text = text.strip().upper()
    if text.startswith(REFERENCE_PREFIX):
        text = text[len(REFERENCE_PREFIX) :]
    return int(text) if text.isdigit() and len(text) < 12 else None


class Ticket(models.Model):
    """A request for help. Invariants are database constraints; every change is a TicketEvent."""

    subject = models.CharField(max_length=200)
    description = models.TextField(help_text="Markdown.")
    # requester, assignee and vendor: no single-column index of their own; the composite indexes
    # of Meta (ticket_requester_idx, ticket_assignee_idx, ticket_vendor_idx) lead with them and
    # serve the same lookups, and every index is written again by each ticket insert and update.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets_requested", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    impact = models.CharField(max_length=6, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(max_length=6, choices=Level.choices, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3)
    priority_reason = models.CharField(
        max_length=500, blank=True, help_text="Why an agent overrode the impact x urgency matrix."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    tier = models.PositiveSmallIntegerField(choices=[(t.value, t.label) for t in Tier if t], default=Tier.T1)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets_assigned",
        db_index=False,
    )
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    vendor_reference = models.CharField(max_length=100, blank=True)
    is_swarm = models.BooleanField(default=False)
    collaborators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="tickets_swarming")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="tickets_watched")
    is_problem = models.BooleanField(default=False, help_text="A problem ticket that incidents can point at.")
    problem = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        limit_choices_to={"is_problem": True},
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Kept current by the ``sla`` app (which ``tickets`` never imports) for the queue lists: the
    # nearest due time of the ticket's running SLA/OLA/UC clocks and whether one is breached.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_breached = models.BooleanField(default=False, editable=False)
    # Optimistic concurrency: goes up by one with every change a person (or the lifecycle) makes
    # to the ticket's own fields, so an edit built on an older read can be refused instead of
    # silently overwriting (API If-Match/ETag, the version hidden in the page's forms). The SLA
    # summary above is bookkeeping and does not move it: a sweep must not fail a person's edit.
    # db_default: rows written by plain SQL (bench seeding) start at 1 too.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Queue pages: open tickets of a tier, highest priority and oldest first.
            models.Index(
                fields=["tier", "priority", "created_at"],
                name="ticket_queue_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # Queue tab counts: answered from this index alone (no table visits) on a vacuumed table.
            models.Index(
                fields=["tier", "assignee", "is_swarm"],
                name="ticket_open_counts_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["vendor", "status"], name="ticket_vendor_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_idx"),
            # Queue sort "breaching soonest" and the "breached" filter, over open tickets.
            models.Index(
                fields=["sla_due_at"],
                name="ticket_sla_due_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The API's default order (newest first, id as tie-breaker for cursor paging).
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=4), name="ticket_tier_1_to_4"),
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=4), name="ticket_priority_1_to_4"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in Status]), name="ticket_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=[c.value for c in Channel]), name="ticket_channel_valid"),
            # Tier 4 means "with a vendor", and only tier 4 has one.
            models.CheckConstraint(
                condition=Q(tier=4, vendor__isnull=False) | (~Q(tier=4) & Q(vendor__isnull=True)),
                name="ticket_vendor_iff_tier_4",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | Q(resolved_at__isnull=False),
                name="ticket_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="ticket_closed_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | ~Q(resolution_note=""),
                name="ticket_resolved_has_note",
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("pk")), name="ticket_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("tickets:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return format_reference(self.pk) if self.pk else "HD-new"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageKind(models.TextChoices):
    PUBLIC = "public", "Public reply"
    INTERNAL = "internal", "Internal note"
    # At tier 4: between the desk and the vendor's contacts; the requester does not see it.
    VENDOR = "vendor", "Vendor conversation"


class TicketMessage(models.Model):
    """A public reply (seen by the requester, watchers and the vendor) or an internal note (agents only)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.PUBLIC)
    body = models.TextField(help_text="Markdown.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["public", "internal", "vendor"]), name="message_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id} by #{self.author_id}"

    @property
    def is_internal(self) -> bool:
        return self.kind == MessageKind.INTERNAL


def attachment_key(instance, filename: str) -> str:
    """Storage key: generated, never derived from the uploaded name."""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on a ticket. Served only as a download, through a view that checks permission."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=attachment_key, max_length=200)
    filename = models.CharField(max_length=255, help_text="Cleaned-up name shown to people.")
    content_type = models.CharField(max_length=100, help_text="Decided from the content.")
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_internal(self) -> bool:
        # No query when there is no message: the relation is None without reading the database.
        message = self.message
        return message is not None and message.kind == MessageKind.INTERNAL


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    ESCALATED = "escalated", "Escalated"
    DEESCALATED = "deescalated", "De-escalated"
    ASSIGNED = "assigned", "Assigned"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    CATEGORY_CHANGED = "category_changed", "Category changed"
    REPLIED = "replied", "Public reply"
    NOTE_ADDED = "note_added", "Internal note"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added"
    MANAGERS_NOTIFIED = "managers_notified", "Managers notified"
    SWARM_OPENED = "swarm_opened", "Swarm opened"
    SWARM_JOINED = "swarm_joined", "Joined the swarm"
    WATCHER_ADDED = "watcher_added", "Watcher added"
    MERGED = "merged", "Merged"
    LINKED = "linked", "Linked"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    CLOSED = "closed", "Closed"
    SLA = "sla", "SLA event"


class TicketEvent(models.Model):
    """One line of a ticket's history. Append-only: a database trigger refuses UPDATE and DELETE."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system (beat tasks, SLA).",
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now, editable=False)
    data = models.JSONField(default=dict, blank=True)
    internal = models.BooleanField(default=False, help_text="Hidden from requesters and vendors.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="event_ticket_idx"),
            models.Index(fields=["kind", "at"], name="event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"


class CannedReply(models.Model):
    """A reply template for a tier; placeholders like {requester_name} and {reference} are filled in."""

    tier = models.PositiveSmallIntegerField(choices=[(t.value, t.label) for t in Tier if t])
    title = models.CharField(max_length=100)
    body = models.TextField()

    class Meta:
        ordering = ["tier", "title"]
        verbose_name_plural = "canned replies"
        constraints = [models.UniqueConstraint(fields=["tier", "title"], name="canned_reply_unique_title")]

    def __str__(self) -> str:
        return self.title


class InboundMail(models.Model):
    """One e-mail received (piped in or polled over IMAP), kept raw whatever became of it.

    Stored before it is looked at, so malformed, huge or refused mail is never lost; the
    dedupe key (its Message-ID, or a hash of the bytes when it has none) makes a message seen
    twice act once. ``status`` says what happened and ``reason`` why, for an admin.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (auto-reply, bounce, list)"
        HELD = "held", "Held for an admin"
        FAILED = "failed", "Failed"

    class Action(models.TextChoices):
        NONE = "", "-"
        CREATED = "created", "Created a ticket"
        REPLIED = "replied", "Added a reply"
        FOLLOW_UP = "follow_up", "Started a follow-up of a closed ticket"

    dedupe_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=254, blank=True, help_text="The From address (never Reply-To).")
    subject = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=20, help_text="pipe, imap ...")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    action = models.CharField(max_length=10, choices=Action.choices, blank=True, default="")
    reason = models.TextField(blank=True)
    size = models.PositiveBigIntegerField(default=0)
    raw = models.BinaryField(help_text="The message exactly as received.")
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ticket_message = models.ForeignKey(
        TicketMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "inbound e-mail"
        indexes = [
            models.Index(fields=["status", "-received_at"], name="inbound_status_idx"),
            models.Index(fields=["ticket", "received_at"], name="inbound_ticket_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "processed", "ignored", "held", "failed"]),
                name="inbound_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'} ({self.status})"


class OutboundMail(models.Model):
    """One notification e-mail: the delivery's idempotency record, unique per ``key``.

    The key names what the mail is for (an outbox message or an SLA event, and its recipient
    or audience). The row is written and committed on a connection of its own before the mail
    goes to the SMTP server and marked sent right after, so a redelivered task never sends it
    again, even if the task's own transaction was lost (see tickets.mail.outbound). No foreign
    key to the ticket: that connection must never wait on a lock the task's transaction holds.
    """

    class Status(models.TextChoices):
        SENDING = "sending", "Sending (or outcome unknown)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will be retried"
        SKIPPED = "skipped", "Skipped (loop brake)"

    key = models.CharField(max_length=255, unique=True)
    ticket_pk = models.BigIntegerField(null=True, blank=True, help_text="The ticket's id (not a foreign key).")
    kind = models.CharField(max_length=40)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=255, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound e-mail"
        indexes = [models.Index(fields=["ticket_pk", "created_at"], name="outbound_ticket_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["sending", "sent", "failed", "skipped"]), name="outbound_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.recipients)} ({self.status})"


# The agent workspace's own records (saved views, macros, the attention inbox) live in their own
# module; they are models of this app, named from here like every other.
from .workspace_models import Macro, Notification, SavedView  # noqa: E402, F401
