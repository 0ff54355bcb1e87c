"""SLA data: business calendars, ordered policies with their targets, and per-ticket clocks.

A ticket's clocks follow from its event history (see ``sla.engine``): they are written by
replaying the history whenever the ticket changes and can be rebuilt at any time
(``manage.py sla_recompute``). Warnings and breaches are different: the sweep records them as
``ClockEvent`` rows under a uniqueness constraint, once per clock and cycle, and they are
never deleted (the penalty and credit reports rely on them).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from tickets.models import Category, Channel, Priority, Status, Ticket, Tier, Vendor

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class BusinessCalendar(models.Model):
    """When clocks run: a time zone with working intervals and holidays, or every hour (24x7)."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name, e.g. Europe/Berlin.")
    always_open = models.BooleanField("24x7", default=False, help_text="Every hour counts; intervals are ignored.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingInterval(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, validators=[MaxValueValidator(6)])
    start = models.TimeField()
    end = models.TimeField(help_text="At or before the start: an overnight shift ending the next day.")

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [models.CheckConstraint(condition=Q(weekday__lte=6), name="sla_interval_weekday_range")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    day = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    yearly = models.BooleanField(default=False, help_text="Recurs on this month and day every year.")

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["calendar", "day"], name="sla_holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}".strip()


def default_pause_statuses() -> list[str]:
    return [Status.PENDING_REQUESTER, Status.PENDING_VENDOR]


class Policy(models.Model):
    """Targets per priority on a calendar, for the tickets its conditions match (first match wins).

    Empty conditions match everything; the default policy (exactly one) matches every ticket
    no other policy took.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Policies are tried in this order.")
    is_default = models.BooleanField(default=False)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requester_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pause_statuses = ArrayField(
        models.CharField(max_length=20, choices=Status.choices),
        default=default_pause_statuses,
        blank=True,
        help_text="SLA and OLA clocks pause in these statuses (vendor clocks pause only waiting for the requester).",
    )
    warning_percent = models.PositiveSmallIntegerField(
        default=75, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    notify_assignee = models.BooleanField("On breach: notify the assignee or tier", default=True)
    notify_managers = models.BooleanField("On breach: notify managers", default=True)
    escalate_on_breach = models.BooleanField("On breach: escalate one tier", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="sla_one_default_policy"),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=99), name="sla_warning_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"
    OLA = "ola", "Tier (OLA)"
    UC = "uc", "Vendor (UC)"


class Target(models.Model):
    """Business seconds allowed for one metric at one priority (OLA targets also name their tier)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=0, help_text="OLA only: the tier it binds.")
    seconds = models.PositiveIntegerField(validators=[MinValueValidator(60)])
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Leave empty to use the policy's calendar (e.g. P1 runs 24x7 on an office-hours policy).",
    )

    class Meta:
        ordering = ["metric", "tier", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "metric", "priority", "tier"], name="sla_target_unique"),
            models.CheckConstraint(condition=Q(seconds__gte=60), name="sla_target_positive"),
            models.CheckConstraint(
                condition=Q(metric="ola", tier__gte=1, tier__lte=3) | (~Q(metric="ola") & Q(tier=0)),
                name="sla_target_tier_only_for_ola",
            ),
        ]

    def __str__(self) -> str:
        scope = f" tier {self.tier}" if self.tier else ""
        return f"{self.get_metric_display()}{scope} P{self.priority}: {self.seconds // 60} min"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    STOPPED = "stopped", "Stopped"


class Clock(models.Model):
    """One clock of a ticket: identity (kind, scope, cycle) and its state as of the last change.

    ``scope`` is the tier of an OLA clock and the vendor id of a UC clock (0 otherwise).
    A running clock's ``due_at`` and ``warn_at`` are absolute, so the sweep only compares
    timestamps. ``warned``/``breached`` are set by the sweep alone.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    scope = models.BigIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=1)
    policy = models.ForeignKey(Policy, null=True, on_delete=models.SET_NULL, related_name="+")
    target_seconds = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(default=75)
    started_at = models.DateTimeField()
    accrued_seconds = models.FloatField(default=0, help_text="Business seconds counted up to accrued_at.")
    accrued_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=ClockState.choices)
    pause_reason = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    warned = models.BooleanField(default=False)
    breached = models.BooleanField(default=False)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric", "scope", "cycle"], name="sla_clock_identity"),
        ]
        indexes = [
            # The sweep: running clocks by the next line they cross.
            models.Index(fields=["warn_at"], condition=Q(warned=False), name="sla_clock_warn_idx"),
            models.Index(fields=["due_at"], condition=Q(breached=False), name="sla_clock_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} #{self.cycle} of ticket {self.ticket_id}"


class ClockEventKind(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACHED = "breached", "Breached"


class ClockEvent(models.Model):
    """A warning or breach of one clock cycle: written once (unique), never deleted.

    It names the clock by identity rather than by row, so rebuilding the clocks keeps it.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="sla_events")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    scope = models.BigIntegerField(default=0)
    cycle = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ClockEventKind.choices)
    at = models.DateTimeField(help_text="When the line was crossed (warn or due time).")
    recorded_at = models.DateTimeField(help_text="When the sweep saw it.")
    tier = models.PositiveSmallIntegerField(help_text="The ticket's tier when it was recorded.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric", "scope", "cycle", "kind"], name="sla_clock_event_once"),
        ]
        indexes = [models.Index(fields=["recorded_at"], name="sla_clockevent_recorded_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_metric_display()} #{self.cycle} of ticket {self.ticket_id}"


class SlaSettings(models.Model):
    """Marker row whose ``version`` changes whenever a calendar or policy does (process caches check it)."""

    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name_plural = "SLA settings"

    def __str__(self) -> str:
        return f"SLA settings version {self.version}"


__all__ = [
    "WEEKDAYS",
    "BusinessCalendar",
    "Clock",
    "ClockEvent",
    "ClockEventKind",
    "ClockState",
    "Holiday",
    "Metric",
    "Policy",
    "SlaSettings",
    "Target",
    "WorkingInterval",
]
