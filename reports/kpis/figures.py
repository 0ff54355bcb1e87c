"""The KPI figures (one function each), the per-agent and per-tier tables, and the dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

from .definitions import Period, Scope
from .snapshot import Components, Snapshot, _backlog_parts, snapshot

# A figure's value: a rate (``Fraction``), seconds (a median, ``float``) or a count; ``None`` when
# there is nothing to measure. A day of a trend may also be a mean (``Decimal`` seconds).
Value: TypeAlias = Fraction | float | int | None
TrendValue: TypeAlias = Fraction | Decimal | float | int | None


def ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def mean(total, count: int) -> Decimal | None:
    return (Decimal(total) / count) if count else None


@dataclass
class Figure:
    """One KPI: its value now, in the previous period, the change, and its daily trend.

    ``value``/``previous`` are a ``Fraction`` (rates), a float (seconds) or an int
    (counts); ``parts`` holds the named sub-values (e.g. mean, counts) for page, API and CSV.
    """

    key: str
    label: str
    unit: str  # "rate", "seconds", "count", "score"
    value: Value
    previous: Value
    parts: dict = field(default_factory=dict)
    previous_parts: dict = field(default_factory=dict)
    trend: list[tuple[dt.date, TrendValue]] = field(default_factory=list)

    @property
    def change(self) -> Value:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def _trend(snap: Snapshot, compute: Callable[[Components], TrendValue]) -> list[tuple[dt.date, TrendValue]]:
    return [(day, compute(snap.days.get(day, Components()))) for day in snap.period.day_list()]


def _median(comps: Components, name: str) -> float | None:
    return comps.get(name)


def first_response_time(snap: Snapshot) -> Figure:
    """First response time: median (the figure) and mean, business and wall seconds."""

    def parts(c: Components) -> dict:
        return {
            "median": _median(c, "frt_median"),
            "mean": mean(c["frt_sum"], c["frt_n"]),
            "wall_median": _median(c, "frt_wall_median"),
            "wall_mean": mean(c["frt_wall_sum"], c["frt_n"]),
            "count": c["frt_n"],
        }

    cur, prev = parts(snap.current), parts(snap.previous)
    return Figure(
        "first_response_time",
        "First response time",
        "seconds",
        cur["median"],
        prev["median"],
        cur,
        prev,
        _trend(snap, lambda c: mean(c["frt_sum"], c["frt_n"])),
    )


def resolution_time(snap: Snapshot) -> Figure:
    """Resolution time (first resolution, business seconds, pauses excluded): median and mean."""

    def parts(c: Components) -> dict:
        return {"median": _median(c, "res_median"), "mean": mean(c["res_sum"], c["res_n"]), "count": c["res_n"]}

    cur, prev = parts(snap.current), parts(snap.previous)
    return Figure(
        "resolution_time",
        "Resolution time",
        "seconds",
        cur["median"],
        prev["median"],
        cur,
        prev,
        _trend(snap, lambda c: mean(c["res_sum"], c["res_n"])),
    )


def _rate_figure(snap: Snapshot, key: str, label: str, num: str, den: str) -> Figure:
    def parts(c: Components) -> dict:
        return {"numerator": c[num], "denominator": c[den]}

    return Figure(
        key,
        label,
        "rate",
        ratio(snap.current[num], snap.current[den]),
        ratio(snap.previous[num], snap.previous[den]),
        parts(snap.current),
        parts(snap.previous),
        _trend(snap, lambda c: ratio(c[num], c[den])),
    )


def fcr_rate(snap: Snapshot) -> Figure:
    """First contact resolution: of tickets first resolved in the period, the share FCR."""
    return _rate_figure(snap, "fcr_rate", "First contact resolution", "fcr", "resolved")


def reopen_rate(snap: Snapshot) -> Figure:
    """Of tickets first resolved in the period, the share reopened at least once."""
    return _rate_figure(snap, "reopen_rate", "Reopen rate", "reopened", "resolved")


def sla_response_compliance(snap: Snapshot) -> Figure:
    """Response targets (first and next response) that came due or were met in the period: share met."""
    return _rate_figure(snap, "sla_response", "SLA compliance: response", "resp_met", "resp_due")


def sla_resolution_compliance(snap: Snapshot) -> Figure:
    """Resolution targets that came due or were met in the period: share met."""
    return _rate_figure(snap, "sla_resolution", "SLA compliance: resolution", "res_met", "res_due")


def csat(snap: Snapshot) -> Figure:
    """CSAT: answers scoring 4-5 / answers; also mean score and response rate."""

    def parts(c: Components) -> dict:
        return {
            "happy": c["happy"],
            "answered": c["answered"],
            "surveys": c["surveys"],
            "mean_score": mean(c["score_sum"], c["answered"]),
            "response_rate": ratio(c["answered"], c["surveys"]),
        }

    return Figure(
        "csat",
        "Customer satisfaction (CSAT)",
        "rate",
        ratio(snap.current["happy"], snap.current["answered"]),
        ratio(snap.previous["happy"], snap.previous["answered"]),
        parts(snap.current),
        parts(snap.previous),
        _trend(snap, lambda c: ratio(c["happy"], c["answered"])),
    )


def backlog(snap: Snapshot) -> Figure:
    """Open tickets at the end of the period by age bucket (the trend: at the end of each day)."""
    cur = _backlog_parts(snap.days.get(snap.period.last, Components()))
    prev = _backlog_parts(snap.previous_last_day)
    return Figure(
        "backlog",
        "Backlog",
        "count",
        cur["total"],
        prev["total"],
        cur,
        prev,
        _trend(snap, lambda c: _backlog_parts(c)["total"]),
    )


def escalation_rate(snap: Snapshot) -> Figure:
    """Of tickets created in the period, the share escalated at least once; per tier in ``parts``."""

    def parts(c: Components) -> dict:
        per_tier = {
            tier: {
                "escalated": c[f"esc_from_{tier}"],
                "entered": c[f"entered_{tier}"],
                "rate": ratio(c[f"esc_from_{tier}"], c[f"entered_{tier}"]),
            }
            for tier in (1, 2, 3)
        }
        return {"escalated": c["escalated"], "created": c["created"], "per_tier": per_tier}

    return Figure(
        "escalation_rate",
        "Escalation rate",
        "rate",
        ratio(snap.current["escalated"], snap.current["created"]),
        ratio(snap.previous["escalated"], snap.previous["created"]),
        parts(snap.current),
        parts(snap.previous),
        _trend(snap, lambda c: ratio(c["escalated"], c["created"])),
    )


def deflection_rate(snap: Snapshot) -> Figure:
    """Desk-wide: deflections / (deflections + portal tickets), by creation time."""

    def value(deflections: int, portal: int) -> Fraction | None:
        return ratio(deflections, deflections + portal)

    cur = {"deflections": snap.deflections["current"], "portal_tickets": snap.portal["current"]}
    prev = {"deflections": snap.deflections["previous"], "portal_tickets": snap.portal["previous"]}
    trend: list[tuple[dt.date, TrendValue]] = []
    for day in snap.period.day_list():
        key = day.isoformat()
        trend.append((day, value(snap.deflections.get(key, 0), snap.portal.get(key, 0))))
    return Figure(
        "deflection_rate",
        "Deflection rate",
        "rate",
        value(cur["deflections"], cur["portal_tickets"]),
        value(prev["deflections"], prev["portal_tickets"]),
        cur,
        prev,
        trend,
    )


def volume(snap: Snapshot) -> Figure:
    """Tickets created in the period; by channel in ``parts``."""
    channels = sorted(snap.by_channel)
    cur = {"total": snap.current["created"], "by_channel": {c: snap.by_channel[c][0] for c in channels}}
    prev = {"total": snap.previous["created"], "by_channel": {c: snap.by_channel[c][1] for c in channels}}
    return Figure(
        "volume",
        "Volume",
        "count",
        cur["total"],
        prev["total"],
        cur,
        prev,
        _trend(snap, lambda c: c["created"]),
    )


FIGURES = {
    "first_response_time": first_response_time,
    "resolution_time": resolution_time,
    "fcr_rate": fcr_rate,
    "sla_response": sla_response_compliance,
    "sla_resolution": sla_resolution_compliance,
    "csat": csat,
    "backlog": backlog,
    "reopen_rate": reopen_rate,
    "escalation_rate": escalation_rate,
    "deflection_rate": deflection_rate,
    "volume": volume,
}


def all_figures(snap: Snapshot) -> dict[str, Figure]:
    return {key: compute(snap) for key, compute in FIGURES.items()}


# --------------------------------------------------------------------------- tables


@dataclass
class TableRow:
    key: object
    label: str
    created: int
    resolved: int
    frt_mean: Decimal | None
    res_mean: Decimal | None
    fcr: Fraction | None
    reopen: Fraction | None
    sla_response: Fraction | None
    sla_resolution: Fraction | None
    csat: Fraction | None
    csat_mean: Decimal | None
    backlog: int


TABLE_COLUMNS = [
    ("created", "Created", "count"),
    ("resolved", "Resolved", "count"),
    ("frt_mean", "First response (mean)", "seconds"),
    ("res_mean", "Resolution (mean)", "seconds"),
    ("fcr", "FCR", "rate"),
    ("reopen", "Reopened", "rate"),
    ("sla_response", "SLA response", "rate"),
    ("sla_resolution", "SLA resolution", "rate"),
    ("csat", "CSAT", "rate"),
    ("csat_mean", "Mean score", "score"),
    ("backlog", "Backlog at end", "count"),
]


def _table_row(key, label: str, c: Components, backlog_now: int) -> TableRow:
    return TableRow(
        key=key,
        label=label,
        created=c["created"],
        resolved=c["resolved"],
        frt_mean=mean(c["frt_sum"], c["frt_n"]),
        res_mean=mean(c["res_sum"], c["res_n"]),
        fcr=ratio(c["fcr"], c["resolved"]),
        reopen=ratio(c["reopened"], c["resolved"]),
        sla_response=ratio(c["resp_met"], c["resp_due"]),
        sla_resolution=ratio(c["res_met"], c["res_due"]),
        csat=ratio(c["happy"], c["answered"]),
        csat_mean=mean(c["score_sum"], c["answered"]),
        backlog=backlog_now,
    )


def agent_table(snap: Snapshot, names: dict[int, str]) -> list[TableRow]:
    """One row per current assignee (and "Unassigned") over the period."""
    rows = []
    for agent_id, comps in snap.by_agent.items():
        label = names.get(agent_id, f"#{agent_id}") if agent_id is not None else "Unassigned"
        rows.append(_table_row(agent_id, label, comps, snap.backlog_by_agent.get(agent_id, 0)))
    return sorted(rows, key=lambda r: (r.key is None, r.label.lower()))


def tier_table(snap: Snapshot) -> list[TableRow]:
    """One row per current tier over the period (with its escalation rate out of the tier in ``escalation``)."""
    rows = []
    for tier, comps in sorted(snap.by_tier.items()):
        row = _table_row(tier, f"Tier {tier}", comps, snap.backlog_by_tier.get(tier, 0))
        rows.append(row)
    return rows


@dataclass
class Dashboard:
    snapshot: Snapshot
    figures: dict[str, Figure]
    agents: list[TableRow] | None
    tiers: list[TableRow] | None


def dashboard(scope: Scope, period: Period, *, tables: bool = True, now: dt.datetime | None = None) -> Dashboard:
    """Every figure (and the per-agent and per-tier tables) for ``scope`` and ``period``: one snapshot."""
    from django.contrib.auth import get_user_model

    snap = snapshot(scope, period, now=now)
    agents = None
    if tables:
        ids = [pk for pk in snap.by_agent if pk is not None] + [pk for pk in snap.backlog_by_agent if pk is not None]
        users = get_user_model().objects.filter(pk__in=set(ids)).only("username", "first_name", "last_name")
        names = {u.pk: u.get_full_name() or u.username for u in users}
        for agent_id in snap.backlog_by_agent:
            snap.by_agent.setdefault(agent_id, Components())
        for tier in snap.backlog_by_tier:
            snap.by_tier.setdefault(tier, Components())
        agents = agent_table(snap, names)
    return Dashboard(snap, all_figures(snap), agents, tier_table(snap) if tables else None)
