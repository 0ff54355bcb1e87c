"""KPI definitions shared by the SQL and the figures: periods, the scope filters and the component columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

from django.core.exceptions import ValidationError
from django.utils import timezone

# A value a cursor binds as a parameter (the types django-stubs accepts in ``cursor.execute``).
SqlValue: TypeAlias = (
    bool | int | float | Decimal | str | bytes | dt.date | dt.datetime | tuple[Any, ...] | list[Any] | None
)
SqlParams: TypeAlias = dict[str, SqlValue]

PRESETS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
PERIOD_CHOICES = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("custom", "Custom"),
]
MAX_DAYS = 366
AGE_BUCKETS = [("lt1d", "< 1 day"), ("1to3d", "1-3 days"), ("3to7d", "3-7 days"), ("gt7d", "> 7 days")]
BACKLOG_COLUMNS = ["backlog_1d", "backlog_3d", "backlog_7d", "backlog_old"]

# Additive components of one (day, scope combination); the order is the column order everywhere.
COUNT_COLUMNS = [
    "created",
    "frt_n",
    "res_n",
    "resolved",
    "fcr",
    "reopened",
    "escalated",
    "entered_1",
    "entered_2",
    "entered_3",
    "esc_from_1",
    "esc_from_2",
    "esc_from_3",
    "resp_due",
    "resp_met",
    "res_due",
    "res_met",
    "surveys",
    "answered",
    "happy",
    "score_sum",
    *BACKLOG_COLUMNS,
]
SUM_COLUMNS = ["frt_sum", "frt_wall_sum", "res_sum"]
ARRAY_COLUMNS = ["frt_values", "frt_wall_values", "res_values"]
VALUE_OF_ARRAY = {"frt_values": "frt_value", "frt_wall_values": "frt_wall_value", "res_values": "res_value"}
DIMENSIONS = ["tier", "category_id", "assignee_id", "channel", "priority"]


# --------------------------------------------------------------------------- period and scope


@dataclass(frozen=True)
class Period:
    """Whole local days ``first``..``last`` (inclusive)."""

    first: dt.date
    last: dt.date
    preset: str = "custom"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        return Period(self.first - dt.timedelta(days=self.days), self.first - dt.timedelta(days=1), self.preset)

    def day_list(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y-%m-%d}"
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"


def desk_date(value: dt.datetime | None = None) -> dt.date:
    """The desk's calendar day of ``value`` (now by default).

    KPI days are the desk's days (``TIME_ZONE``) whoever looks: a person's own time zone, active
    while their request runs, changes how times are shown, never which day a ticket counts on.
    """
    return timezone.localdate(value, timezone.get_default_timezone())


def today() -> dt.date:
    return desk_date()


def day_start(day: dt.date) -> dt.datetime:
    """The instant local ``day`` begins (DST-correct)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def make_period(preset: str = "30d", start: dt.date | None = None, end: dt.date | None = None) -> Period:
    """The period a picker means; ``ValidationError`` (shown as a 400 by the API) for a bad one."""
    now_day = today()
    if preset in PRESETS:
        return Period(now_day - dt.timedelta(days=PRESETS[preset] - 1), now_day, preset)
    if preset != "custom":
        raise ValidationError({"period": [f"Unknown period “{preset}”."]})
    if start is None or end is None:
        errors: dict[str, list[str]] = {}
        if start is None:
            errors["start"] = ["A custom period needs a first day."]
        if end is None:
            errors["end"] = ["A custom period needs a last day."]
        raise ValidationError(errors)
    if end < start:
        raise ValidationError({"end": ["The last day is before the first day."]})
    if end > now_day:
        raise ValidationError({"end": ["The last day is in the future."]})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError({"start": [f"A period is at most {MAX_DAYS} days."]})
    return Period(start, end, "custom")


@dataclass(frozen=True)
class Scope:
    """Ticket filters (attributes now); ``None`` = any."""

    tier: int | None = None
    category_id: int | None = None
    assignee_id: int | None = None
    channel: str | None = None
    priority: int | None = None

    def sql(self, alias: str) -> tuple[str, SqlParams]:
        """The condition on the rows ``alias`` (their columns named as ``DIMENSIONS``) and its parameters."""
        parts: list[str] = []
        params: SqlParams = {}
        for name in DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{alias}.{name} = %(scope_{name})s")
                params[f"scope_{name}"] = value
        return (" AND ".join(parts) or "TRUE"), params

    def as_params(self) -> dict[str, str]:
        """Query-string form (the names the filter form and the API take)."""
        names = {"tier": "tier", "category_id": "category", "assignee_id": "agent", "channel": "channel"}
        names["priority"] = "priority"
        return {names[n]: str(getattr(self, n)) for n in DIMENSIONS if getattr(self, n) is not None}
