"""Serializers of the SLA API. They check the shape of input only; ``sla.configure`` holds the rules.

Input serializers are strict like the ticket API's: a key they do not accept is a 400 naming
it. Output serializers read what the view's queryset loaded; none of them queries.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.core.serializers import StrictSerializer
from tickets.models import Category, Channel, Priority, Vendor

from .configure import MAX_TARGET_MINUTES, PAUSE_STATUS_CHOICES, TARGET_COLUMNS
from .forms import DurationMinutesField
from .models import WEEKDAYS, BusinessCalendar, ClockEvent, ClockEventKind, ClockState, Metric, Policy

STATE_WORDS = ["running", "warning", "paused", "met", "breached", "stopped"]

# --------------------------------------------------------------------------- ticket clocks


class ClockSerializer(serializers.Serializer):
    """One clock of a ticket as it stood at the last change, with its state word at the time of the request."""

    id = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=Metric.choices)
    # The serializer's metaclass takes declared fields off the class, so this does not replace
    # ``Field.label``; the stubs cannot tell.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="E.g. “Resolution”, “Tier 2 (OLA)”, “Vendor Acme (UC)”."
    )
    scope = serializers.IntegerField(help_text="The tier of an OLA clock, the vendor id of a UC clock, else 0.")
    cycle = serializers.IntegerField(help_text="1, then 2... when the clock starts again (reopen, next response).")
    state = serializers.ChoiceField(choices=STATE_WORDS, help_text="As on the ticket page, at the time of the request.")
    stored_state = serializers.ChoiceField(choices=ClockState.choices, help_text="As of the ticket's last change.")
    detail = serializers.CharField(help_text="The state in words, e.g. “due 2026-05-04 17:00”.")
    pause_reason = serializers.CharField(allow_blank=True)
    policy = serializers.IntegerField(source="policy_id", allow_null=True)
    target_seconds = serializers.IntegerField(help_text="Business seconds allowed.")
    accrued_seconds = serializers.FloatField(help_text="Business seconds counted up to `accrued_at`.")
    accrued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True, help_text="Running clocks only.")
    warn_at = serializers.DateTimeField(allow_null=True, help_text="Running clocks only.")
    ended_at = serializers.DateTimeField(allow_null=True)
    warned = serializers.BooleanField(help_text="The warning was recorded.")
    breached = serializers.BooleanField(help_text="The breach was recorded.")


class ClockEventSerializer(serializers.ModelSerializer):
    """A recorded warning or breach (permanent)."""

    # A plain string in the schema: an enum named "kind" would collide with the ticket message kinds.
    kind = serializers.CharField(help_text="One of: " + ", ".join(ClockEventKind.values) + ".")
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label (see above)

    class Meta:
        model = ClockEvent
        fields = ["id", "kind", "metric", "label", "scope", "cycle", "at", "recorded_at", "tier", "data"]
        read_only_fields = fields


class TicketClocksSerializer(serializers.Serializer):
    ticket = serializers.IntegerField()
    clocks = ClockSerializer(many=True)
    events = ClockEventSerializer(many=True, help_text="Warnings and breaches recorded, oldest first.")


# --------------------------------------------------------------------------- calendars


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A local time of day written HH:MM, in and out (OpenAPI's ``format: time`` would ask for seconds and a zone)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class IntervalSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=WEEKDAYS, help_text="0 = Monday ... 6 = Sunday.")
    start = ClockTimeField(help_text="Local time, HH:MM.")
    end = ClockTimeField(help_text="HH:MM; at or before `start`: the shift ends the next day.")


class HolidaySerializer(serializers.Serializer):
    day = serializers.DateField()
    name = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    yearly = serializers.BooleanField(required=False, default=False, help_text="Recurs on this month and day.")


class CalendarSerializer(serializers.ModelSerializer):
    intervals = IntervalSerializer(many=True, read_only=True)
    holidays = HolidaySerializer(many=True, read_only=True)
    used_by = serializers.SerializerMethodField(help_text="Names of the policies using it (then it cannot be deleted).")

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "always_open", "intervals", "holidays", "used_by", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_used_by(self, calendar: BusinessCalendar) -> list[str]:
        # Filled by the view from one query over all calendars (``used_by_names``).
        return self.context.get("used_by", {}).get(calendar.pk, [])


class CalendarInputSerializer(StrictSerializer):
    """A calendar: PUT/POST send all of it; PATCH any part (intervals and holidays are replaced as lists)."""

    readable = frozenset(CalendarSerializer.Meta.fields)

    name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/Berlin.")
    always_open = serializers.BooleanField(required=False, default=False, help_text="24x7: every hour counts.")
    intervals = IntervalSerializer(many=True, required=False, default=list)
    holidays = HolidaySerializer(many=True, required=False, default=list)


# --------------------------------------------------------------------------- policies

TARGET_METRIC_CHOICES = Metric.choices


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_TARGET_MINUTES},
            {"type": "string", "example": "1 d 4 h"},
        ]
    }
)
class TargetMinutesField(serializers.Field):
    """Business minutes as a number, or a duration as on the policy page ("90 min", "8 h", "3 d", "1 d 4 h").

    Parsed by the page's own field (``sla.forms.DurationMinutesField``), so both accept the same text.
    """

    def to_internal_value(self, data: object) -> int:
        try:
            minutes = DurationMinutesField().clean(data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        if minutes is None:  # not reached: the field is required, so clean() refuses an empty value
            raise serializers.ValidationError("This field is required.")
        return minutes

    def to_representation(self, value: int) -> int:
        return value


class TargetSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=TARGET_METRIC_CHOICES)
    priority = serializers.ChoiceField(choices=Priority.choices)
    tier = serializers.IntegerField(
        min_value=0, max_value=3, required=False, default=0, help_text="OLA targets: the tier (1-3); others 0."
    )
    minutes = TargetMinutesField(
        help_text="Business minutes (a number), or a duration such as “90 min”, “8 h”, “3 d” or “1 d 4 h” "
        "(a day is 24 hours of the calendar's counted time)."
    )
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Its own calendar; empty: the policy's.",
    )

    def validate(self, attrs: dict) -> dict:
        columns = {(metric, tier) for metric, tier, _ in TARGET_COLUMNS}
        if (attrs["metric"], attrs["tier"]) not in columns:
            raise serializers.ValidationError("OLA targets need tier 1, 2 or 3; other targets have tier 0.")
        return attrs


class TargetOutputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=TARGET_METRIC_CHOICES)
    priority = serializers.IntegerField()
    tier = serializers.IntegerField()
    minutes = serializers.SerializerMethodField()
    seconds = serializers.IntegerField()
    calendar = serializers.IntegerField(source="calendar_id", allow_null=True)

    @extend_schema_field(OpenApiTypes.INT)
    def get_minutes(self, target) -> int:
        return target.seconds // 60


class PolicySerializer(serializers.ModelSerializer):
    targets = TargetOutputSerializer(many=True, read_only=True)
    # Declared so the schema's enum includes "" (any channel): a read-only model field loses allow_blank.
    channel = serializers.ChoiceField(
        choices=Channel.choices, allow_blank=True, read_only=True, help_text="Empty: any channel."
    )
    pause_statuses = serializers.ListField(child=serializers.ChoiceField(choices=PAUSE_STATUS_CHOICES))

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "position",
            "is_default",
            "calendar",
            "category",
            "requester_group",
            "channel",
            "vendor",
            "pause_statuses",
            "warning_percent",
            "notify_assignee",
            "notify_managers",
            "escalate_on_breach",
            "targets",
            "updated_at",
        ]
        read_only_fields = fields


class PolicyInputSerializer(StrictSerializer):
    """A policy: PUT/POST send all of it (targets as the full list); PATCH any part."""

    readable = frozenset(PolicySerializer.Meta.fields)

    name = serializers.CharField(max_length=100)
    is_default = serializers.BooleanField(
        required=False,
        help_text="True moves the default flag here; the default policy cannot be un-set. Left out: unchanged "
        "(false for a new policy).",
    )
    calendar = serializers.PrimaryKeyRelatedField(queryset=BusinessCalendar.objects.all())
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True, default=None
    )
    requester_group = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), required=False, allow_null=True, default=None
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    vendor = serializers.PrimaryKeyRelatedField(
        queryset=Vendor.objects.all(), required=False, allow_null=True, default=None
    )
    pause_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=PAUSE_STATUS_CHOICES),
        required=False,
        default=lambda: [value for value, _ in PAUSE_STATUS_CHOICES if value.startswith("pending")],
    )
    warning_percent = serializers.IntegerField(min_value=1, max_value=99, required=False, default=75)
    notify_assignee = serializers.BooleanField(required=False, default=True)
    notify_managers = serializers.BooleanField(required=False, default=True)
    escalate_on_breach = serializers.BooleanField(required=False, default=False)
    targets = TargetSerializer(many=True, help_text="Every target of the policy (the list replaces the old one).")

    def validate_targets(self, value: list[dict]) -> list[dict]:
        keys = [(t["metric"], t["priority"], t["tier"]) for t in value]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            named = ", ".join(
                f"{metric} P{priority}" + (f" tier {tier}" if tier else "") for metric, priority, tier in duplicates
            )
            raise serializers.ValidationError(f"Each target may appear once: {named}.")
        return value


class MoveInput(StrictSerializer):
    direction = serializers.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
