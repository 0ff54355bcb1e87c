"""Changing SLA calendars and policies: the services the manager pages and the API share.

Every function validates the whole change first and raises ``ValidationError`` with
messages keyed by field (``name``, ``timezone``, ``intervals``, ``holidays``, ``targets``,
``is_default``...) or ``__all__``; then writes it in one transaction, so a refused change
leaves nothing half-saved; and finally calls ``bump_settings_version`` in that transaction,
so every process drops its cached policy snapshot. Row locks: the default policy, other policies
in ascending id, calendars, then the settings row; a deadlock or serialization failure runs the whole
change again (``retry_on_conflict``). Open tickets take the change afterwards, each in its own
transaction (``sla.tasks.recompute_open_task``), never while these rows are locked.

Invariants kept here:
* a calendar's zone exists, its intervals do not overlap (overnight shifts included) and it
  has working time unless it is 24x7 (``sla.clock.validate``); a holiday date appears once;
* a calendar in use by a policy or a target is not deleted;
* there is always exactly one default policy: it cannot be deleted or un-defaulted, and
  making another policy the default moves the flag in the same transaction;
* targets are whole minutes, at least one minute, within a sane bound; OLA targets name
  tier 1-3, others none; a policy has at least one target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Model, QuerySet

from helpdesk.core.db import retry_on_conflict
from tickets.models import OPEN_STATUSES, Channel, Priority

from . import clock as bt
from .models import BusinessCalendar, Holiday, Metric, Policy, Target, WorkingInterval
from .services import bump_settings_version

MINUTE = 60
# Ten years of minutes: more than any agreement needs, and it fits the seconds column.
MAX_TARGET_MINUTES = 10 * 366 * 24 * 60

# The columns of the targets grid: (metric, tier) with a heading. OLA targets exist per tier.
TARGET_COLUMNS: tuple[tuple[str, int, str], ...] = (
    (Metric.FIRST_RESPONSE, 0, "First response"),
    (Metric.NEXT_RESPONSE, 0, "Next response"),
    (Metric.RESOLUTION, 0, "Resolution"),
    (Metric.OLA, 1, "Tier 1 (OLA)"),
    (Metric.OLA, 2, "Tier 2 (OLA)"),
    (Metric.OLA, 3, "Tier 3 (OLA)"),
    (Metric.UC, 0, "Vendor (UC)"),
)
PRIORITIES: tuple[int, ...] = tuple(Priority.values)
PAUSE_STATUS_CHOICES = [(s.value, s.label) for s in OPEN_STATUSES]

_M = TypeVar("_M", bound=Model)


def column_label(metric: str, tier: int) -> str:
    return next(label for m, t, label in TARGET_COLUMNS if m == metric and t == tier)


# --------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class HolidayInput:
    day: date
    name: str = ""
    yearly: bool = False


@dataclass(frozen=True)
class CalendarInput:
    name: str
    timezone: str
    always_open: bool = False
    intervals: tuple[bt.WorkingInterval, ...] = ()
    holidays: tuple[HolidayInput, ...] = ()

    @classmethod
    def of(cls, calendar: BusinessCalendar) -> CalendarInput:
        """The stored calendar as input (intervals and holidays prefetched), to merge a partial change into."""
        return cls(
            name=calendar.name,
            timezone=calendar.timezone,
            always_open=calendar.always_open,
            intervals=tuple(bt.WorkingInterval(i.weekday, i.start, i.end) for i in calendar.intervals.all()),
            holidays=tuple(HolidayInput(h.day, h.name, h.yearly) for h in calendar.holidays.all()),
        )

    def pure(self) -> bt.Calendar:
        return bt.Calendar(
            timezone=self.timezone,
            intervals=self.intervals,
            holidays=tuple(bt.Holiday(h.day, h.yearly) for h in self.holidays),
            always_open=self.always_open,
        )


def _others(queryset: QuerySet[_M], pk: int | None) -> QuerySet[_M]:
    """The rows of ``queryset`` other than ``pk``; all of them for ``None`` (a row not saved yet)."""
    return queryset if pk is None else queryset.exclude(pk=pk)


def _field_of(problem: str) -> str:
    """Which input a problem of ``sla.clock.validate`` is about."""
    if problem.startswith("Unknown time zone"):
        return "timezone"
    if problem.startswith("Holiday") or "yearly holidays" in problem:
        return "holidays"
    return "intervals"


def calendar_problems(data: CalendarInput, *, calendar_id: int | None = None) -> dict[str, list[str]]:
    """Every problem of ``data`` by field (empty when it can be saved). Reads the names in use."""
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors.setdefault("name", []).append("Give the calendar a name.")
    elif _others(BusinessCalendar.objects.filter(name__iexact=name), calendar_id).exists():
        errors.setdefault("name", []).append(f"A calendar named “{name}” already exists.")
    for problem in bt.validate(data.pure()):
        errors.setdefault(_field_of(problem), []).append(problem)
    seen: set[date] = set()
    for holiday in data.holidays:
        if holiday.day in seen:
            errors.setdefault("holidays", []).append(f"The holiday on {holiday.day:%Y-%m-%d} is listed twice.")
        seen.add(holiday.day)
    return errors


@retry_on_conflict
def save_calendar(*, calendar_id: int | None, data: CalendarInput) -> BusinessCalendar:
    """Create (``calendar_id=None``) or replace a calendar with its intervals and holidays.

    Validates first (``ValidationError`` by field, nothing written); then one transaction
    writes the calendar, replaces its intervals and holidays and bumps the settings version.
    """
    errors = calendar_problems(data, calendar_id=calendar_id)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if calendar_id is None:
                calendar = BusinessCalendar(name=data.name.strip())
            else:
                calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
                calendar.name = data.name.strip()
            calendar.timezone = data.timezone
            calendar.always_open = data.always_open
            calendar.save()
            calendar.intervals.all().delete()
            calendar.holidays.all().delete()
            WorkingInterval.objects.bulk_create(
                WorkingInterval(calendar=calendar, weekday=i.weekday, start=i.start, end=i.end) for i in data.intervals
            )
            Holiday.objects.bulk_create(
                Holiday(calendar=calendar, day=h.day, name=h.name.strip(), yearly=h.yearly) for h in data.holidays
            )
            bump_settings_version()
    except IntegrityError as error:  # a concurrent change took the name (the check above saw it free)
        raise ValidationError({"name": [f"A calendar named “{data.name.strip()}” already exists."]}) from error
    return calendar


def calendar_users(calendar: BusinessCalendar) -> list[str]:
    """Names of the policies using ``calendar``, as their calendar or for one of their targets."""
    names = set(Policy.objects.filter(calendar=calendar).values_list("name", flat=True))
    names |= set(Target.objects.filter(calendar=calendar).values_list("policy__name", flat=True))
    return sorted(names)


@retry_on_conflict
def delete_calendar(*, calendar_id: int) -> str:
    """Delete a calendar nobody uses; refuse (``ValidationError``) one a policy or target uses. Returns its name."""
    with transaction.atomic():
        calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
        users = calendar_users(calendar)
        if users:
            raise ValidationError(
                f"The calendar “{calendar.name}” is in use by {_policies(users)} and cannot be deleted. "
                "Move them to another calendar first."
            )
        name = calendar.name
        calendar.delete()
        bump_settings_version()
    return name


def _policies(names: list[str]) -> str:
    quoted = ", ".join(f"“{n}”" for n in names)
    return f"the polic{'y' if len(names) == 1 else 'ies'} {quoted}"


# --------------------------------------------------------------------------- policies

TargetKey = tuple[str, int, int]  # (metric, priority, tier or 0)


@dataclass(frozen=True)
class TargetInput:
    minutes: int
    calendar_id: int | None = None


@dataclass(frozen=True)
class PolicyInput:
    name: str
    calendar_id: int
    category_id: int | None = None
    requester_group_id: int | None = None
    channel: str = ""
    vendor_id: int | None = None
    pause_statuses: tuple[str, ...] = ()
    warning_percent: int = 75
    notify_assignee: bool = True
    notify_managers: bool = True
    escalate_on_breach: bool = False
    is_default: bool = False
    targets: dict[TargetKey, TargetInput] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: Policy) -> PolicyInput:
        """The stored policy as input (targets prefetched), to merge a partial change into."""
        return cls(
            name=policy.name,
            calendar_id=policy.calendar_id,
            category_id=policy.category_id,
            requester_group_id=policy.requester_group_id,
            channel=policy.channel,
            vendor_id=policy.vendor_id,
            pause_statuses=tuple(policy.pause_statuses),
            warning_percent=policy.warning_percent,
            notify_assignee=policy.notify_assignee,
            notify_managers=policy.notify_managers,
            escalate_on_breach=policy.escalate_on_breach,
            is_default=policy.is_default,
            targets={
                (t.metric, t.priority, t.tier): TargetInput(t.seconds // MINUTE, t.calendar_id)
                for t in policy.targets.all()
            },
        )


def target_problems(targets: dict[TargetKey, TargetInput]) -> list[str]:
    problems = []
    columns = {(metric, tier) for metric, tier, _ in TARGET_COLUMNS}
    for (metric, priority, tier), target in sorted(targets.items()):
        if (metric, tier) not in columns or priority not in PRIORITIES:
            problems.append(f"There is no target {metric} for priority {priority} and tier {tier}.")
            continue
        where = f"{column_label(metric, tier)} P{priority}"
        if isinstance(target.minutes, bool) or not isinstance(target.minutes, int) or target.minutes < 1:
            problems.append(f"{where}: a target must be a positive number of minutes.")
        elif target.minutes > MAX_TARGET_MINUTES:
            problems.append(f"{where}: a target can be at most {MAX_TARGET_MINUTES} minutes (ten years).")
    if not targets:
        problems.append("Give the policy at least one target.")
    return problems


def policy_problems(data: PolicyInput, *, policy: Policy | None = None) -> dict[str, list[str]]:
    """Every problem of ``data`` by field (empty when it can be saved)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    name = data.name.strip()
    if not name:
        add("name", "Give the policy a name.")
    elif _others(Policy.objects.filter(name__iexact=name), policy.pk if policy else None).exists():
        add("name", f"A policy named “{name}” already exists.")
    calendar_ids = {data.calendar_id} | {t.calendar_id for t in data.targets.values() if t.calendar_id is not None}
    known = set(BusinessCalendar.objects.filter(pk__in=calendar_ids).values_list("pk", flat=True))
    if data.calendar_id not in known:
        add("calendar", "Choose a calendar.")
    if calendar_ids - known - {data.calendar_id}:
        add("targets", "A target names a calendar that does not exist.")
    if data.channel and data.channel not in Channel.values:
        add("channel", f"Unknown channel “{data.channel}”.")
    unknown = sorted(set(data.pause_statuses) - {value for value, _ in PAUSE_STATUS_CHOICES})
    if unknown:
        add("pause_statuses", f"Clocks can pause only in open statuses, not {', '.join(unknown)}.")
    if not 1 <= data.warning_percent <= 99:
        add("warning_percent", "The warning comes at 1 to 99 % of the target.")
    for problem in target_problems(data.targets):
        add("targets", problem)
    was_default = policy is not None and policy.is_default
    if was_default and not data.is_default:
        add(
            "is_default",
            "There must always be a default policy: make another policy the default instead of this one.",
        )
    elif (
        not data.is_default
        and not _others(Policy.objects.filter(is_default=True), policy.pk if policy else None).exists()
    ):
        add("is_default", "There is no default policy yet: make this one the default.")
    return errors


@retry_on_conflict
def save_policy(*, policy_id: int | None, data: PolicyInput) -> Policy:
    """Create (``policy_id=None``) or replace a policy and its targets.

    Validates first (``ValidationError`` by field, nothing written). In one transaction: a
    policy becoming the default takes the flag from the current one; a new policy goes last
    in the order; the targets are replaced; the settings version is bumped.
    """
    try:
        with transaction.atomic():
            # Lock the default first: two managers moving the flag at once queue up here.
            list(Policy.objects.select_for_update().filter(is_default=True))
            policy = None if policy_id is None else Policy.objects.select_for_update().get(pk=policy_id)
            errors = policy_problems(data, policy=policy)
            if errors:
                raise ValidationError(errors)
            if policy is None:
                last = Policy.objects.filter(is_default=False).aggregate(last=Max("position"))["last"] or 0
                policy = Policy(position=last + 10)
            if data.is_default and not policy.is_default:
                Policy.objects.filter(is_default=True).update(is_default=False)
            for name in (
                "calendar_id",
                "category_id",
                "requester_group_id",
                "channel",
                "vendor_id",
                "warning_percent",
                "notify_assignee",
                "notify_managers",
                "escalate_on_breach",
                "is_default",
            ):
                setattr(policy, name, getattr(data, name))
            policy.name = data.name.strip()
            policy.pause_statuses = sorted(set(data.pause_statuses))
            policy.save()
            policy.targets.all().delete()
            Target.objects.bulk_create(
                Target(
                    policy=policy,
                    metric=metric,
                    priority=priority,
                    tier=tier,
                    seconds=target.minutes * MINUTE,
                    calendar_id=target.calendar_id,
                )
                for (metric, priority, tier), target in sorted(data.targets.items())
            )
            bump_settings_version()
    except IntegrityError as error:  # a concurrent change took the name
        raise ValidationError({"name": [f"A policy named “{data.name.strip()}” already exists."]}) from error
    return policy


@retry_on_conflict
def delete_policy(*, policy_id: int) -> str:
    """Delete a policy other than the default (refused with ``ValidationError``). Returns its name.

    Clocks it set keep their targets (their ``policy`` becomes empty) until the ticket next
    changes or ``sla_recompute`` runs.
    """
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=policy_id)
        if policy.is_default:
            raise ValidationError(
                f"“{policy.name}” is the default policy and cannot be deleted: make another policy the default first."
            )
        name = policy.name
        policy.delete()
        bump_settings_version()
    return name


@retry_on_conflict
def move_policy(*, policy_id: int, up: bool) -> bool:
    """Move a non-default policy one place up or down in the matching order; False if it cannot move.

    Renumbers the non-default policies 10, 20, 30... in one transaction (the default policy
    applies only when none of them matches, wherever it stands).
    """
    with transaction.atomic():
        # Locked in ascending id (README, "Row locks"), then put in matching order.
        locked = Policy.objects.select_for_update().filter(is_default=False).order_by("pk")
        ordered = sorted(locked, key=lambda p: (p.position, p.pk))
        index = next((i for i, p in enumerate(ordered) if p.pk == policy_id), None)
        if index is None:
            return False
        other = index - 1 if up else index + 1
        if not 0 <= other < len(ordered):
            return False
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for number, policy in enumerate(ordered, start=1):
            policy.position = number * 10
        Policy.objects.bulk_update(ordered, ["position"])
        bump_settings_version()
    return True


__all__ = [
    "PAUSE_STATUS_CHOICES",
    "TARGET_COLUMNS",
    "CalendarInput",
    "HolidayInput",
    "PolicyInput",
    "TargetInput",
    "calendar_problems",
    "calendar_users",
    "delete_calendar",
    "delete_policy",
    "move_policy",
    "policy_problems",
    "save_calendar",
    "save_policy",
]
