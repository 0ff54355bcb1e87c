# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608
"""Every KPI of the dashboard, its API and its CSV export: one function per figure, computed in SQL.

Definitions (DESIGN.md "KPI definitions", made exact)
=====================================================

Periods and days
----------------
* Days are calendar days in ``settings.TIME_ZONE``. A period is a run of whole days
  ``[first day 00:00, day after the last day 00:00)``: "today" is today, "7/30/90 days" are the
  last 7/30/90 days including today, "custom" is a first and last day (at most 366 days, not
  after today). The *previous period* is the same number of days just before it.
* "Now" caps everything: nothing that has not happened yet is counted, and "at the end of the
  period" means ``min(end of the last day, now)``.

Scope
-----
The filters (tier, category, agent, channel, priority) select tickets by their attributes
**now** (the agent is the current assignee). The ticket lists behind the figures filter the
same way, so a figure and its list always agree. The deflection rate is desk-wide: a
deflection has no tier, category or agent, so the scope does not apply to it.

Which timestamp places a ticket in a period
-------------------------------------------
* **Volume** (and by channel): the ticket's creation time.
* **First response time**: the end of the ticket's first SLA ``first_response`` clock when it
  was met (by the first public agent reply, or by a resolution without any reply, as the SLA
  engine counts it). Business time = that clock's ``accrued_seconds`` (business time of the
  ticket's SLA calendar, pauses excluded); wall time = clock end - ticket creation. Median
  and mean. Tickets without such a clock (no target) are not counted.
* **Resolution time**: the end of the first ``resolution`` clock when met, i.e. the ticket's
  first resolution; business seconds from creation, paused time excluded. Median and mean.
* **Resolved** tickets (base of FCR and reopen rate): the ticket's *first* RESOLVED event.
  **FCR**: of those, the tickets never escalated (no ESCALATED event, up to now), never
  reopened (no REOPENED event, up to now) and without a public requester reply after the
  first public agent reply and before that first resolution. **Reopen rate**: of those, the
  share with at least one REOPENED event (up to now).
* **SLA compliance** (response = first and next response clocks of every cycle; resolution =
  resolution clocks of every cycle; OLA and UC are internal and not part of it): a clock
  counts when its target *came due or was met*: a clock met within its target at the moment
  it was met; any other clock at its due time, once that is past (a clock met late, breached
  while running or paused, or stopped after its due time). Clocks stopped before their due
  time (ticket merged or closed unresolved) never count. Compliance = met within target / counted.
* **CSAT**: one survey per resolution (cycle); it belongs to the period of the resolution it
  rates. Response rate = answered / surveys; CSAT = answers scoring 4 or 5 / answered; mean
  score over answered ones.
* **Backlog** at the end of the period (and of each day, for the trend): tickets created
  before that instant whose status at that instant was new, open or waiting (the last status
  change before it), by age at that instant: < 1 day, 1-3 days, 3-7 days, >= 7 days.
* **Escalation rate**: of the tickets created in the period, the share escalated at least once
  (up to now). Per tier N (1-3): of those tickets that were ever in tier N (created there, or
  moved into it), the share escalated out of tier N.
* **Deflection rate** = deflections / (deflections + tickets submitted through the portal), both
  counted by their creation time.
* Each figure's change is against the same figure of the previous period; the trend is the
  figure per day of the period (for the backlog: at the end of each day; for the two times:
  the daily *mean*, medians being computed for whole periods only). The per-agent and
  per-tier tables give mean times.

How it is computed
------------------
``_live_sql`` turns the ticket, event, SLA clock and survey tables into additive components
per day and scope combination (counts, exact ``numeric`` sums, sorted value arrays for the
medians). ``reports.rollup`` stores those very rows for closed days (``DailyFigure``); a
figure reads them for days that are built and unchanged since, and runs ``_live_sql`` for
every other day (today, changed days, days never built) in the same statement, so figures
are exact whether or not beat has run. Medians are ``percentile_cont(0.5)`` over the values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from tickets.models import OPEN_STATUSES

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


def today() -> dt.date:
    return timezone.localdate()


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
    errors = {}
    if start is None:
        errors["start"] = ["A custom period needs a first day."]
    if end is None:
        errors["end"] = ["A custom period needs a last day."]
    if errors:
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

    def sql(self, alias: str) -> tuple[str, list]:
        parts, params = [], []
        for name in DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{alias}.{name} = %s")
                params.append(value)
        return (" AND ".join(parts) or "TRUE"), params

    def as_params(self) -> dict[str, str]:
        """Query-string form (the names the filter form and the API take)."""
        names = {"tier": "tier", "category_id": "category", "assignee_id": "agent", "channel": "channel"}
        names["priority"] = "priority"
        return {names[n]: str(getattr(self, n)) for n in DIMENSIONS if getattr(self, n) is not None}


# --------------------------------------------------------------------------- the live SQL

_TZ = "%(tz)s"


def _day(expr: str) -> str:
    return f"(({expr}) AT TIME ZONE {_TZ})::date"


_SIDE = "COALESCE({e}.data->>'side', CASE WHEN {e}.actor_id = t.requester_id THEN 'requester' ELSE 'agent' END)"
# Where a response/resolution clock is placed in time (see the module docstring); an expression
# index on it (migration 0002) finds a day's clocks without reading the whole table.
CLOCK_PLACED = "(CASE WHEN c.state = 'met' AND c.due_at IS NULL THEN c.ended_at ELSE c.due_at END)"
CLOCK_MET = "(c.state = 'met' AND c.due_at IS NULL)"


def _bucket(age: str) -> dict[str, str]:
    return {
        "backlog_1d": f"({age} < interval '1 day')::int",
        "backlog_3d": f"({age} >= interval '1 day' AND {age} < interval '3 days')::int",
        "backlog_7d": f"({age} >= interval '3 days' AND {age} < interval '7 days')::int",
        "backlog_old": f"({age} >= interval '7 days')::int",
    }


def _parts() -> dict[str, tuple[str, str, dict[str, str]]]:
    """Per-ticket rows of each component: (FROM ... WHERE ..., day expression, column expressions).

    Every part reads ``t`` (the ticket) for the scope attributes; ``%(lo)s``/``%(hi)s`` bound the
    placing timestamp, ``%(now)s`` is now.
    """
    # The tier moves of the tickets created in the range, grouped once (not a subquery per
    # ticket: PostgreSQL cannot decorrelate a LATERAL, and a busy day has tens of thousands).
    tier_events = """
        LEFT JOIN (
            SELECT e.ticket_id,
                   bool_or(e.kind = 'escalated') AS esc,
                   bool_or(e.kind = 'escalated' AND (e.data->>'from')::int = 1) AS f1,
                   bool_or(e.kind = 'escalated' AND (e.data->>'from')::int = 2) AS f2,
                   bool_or(e.kind = 'escalated' AND (e.data->>'from')::int = 3) AS f3,
                   bool_or((e.data->>'to')::int = 1) AS t1,
                   bool_or((e.data->>'to')::int = 2) AS t2,
                   bool_or((e.data->>'to')::int = 3) AS t3,
                   (array_agg((e.data->>'from')::int ORDER BY e.at, e.id))[1] AS first_from
            FROM tickets_ticketevent e
            JOIN tickets_ticket moved ON moved.id = e.ticket_id
            WHERE e.kind IN ('escalated', 'deescalated')
              AND moved.created_at >= %(lo)s AND moved.created_at < %(hi)s
            GROUP BY e.ticket_id
        ) m ON m.ticket_id = t.id"""
    initial = "COALESCE(m.first_from, t.tier)"
    created = (
        f"FROM tickets_ticket t {tier_events} WHERE t.created_at >= %(lo)s AND t.created_at < %(hi)s",
        _day("t.created_at"),
        {
            "created": "1",
            "escalated": "COALESCE(m.esc, false)::int",
            **{f"entered_{k}": f"({initial} = {k} OR COALESCE(m.t{k}, false))::int" for k in (1, 2, 3)},
            **{f"esc_from_{k}": f"COALESCE(m.f{k}, false)::int" for k in (1, 2, 3)},
        },
    )
    wall = "extract(epoch FROM c.ended_at - t.created_at)"
    frt = (
        "FROM sla_clock c JOIN tickets_ticket t ON t.id = c.ticket_id "
        "WHERE c.metric = 'first_response' AND c.cycle = 1 AND c.state = 'met' "
        "AND c.ended_at >= %(lo)s AND c.ended_at < %(hi)s",
        _day("c.ended_at"),
        {
            "frt_n": "1",
            "frt_sum": "c.accrued_seconds::numeric",
            "frt_wall_sum": f"{wall}::numeric",
            "frt_value": "c.accrued_seconds",
            "frt_wall_value": f"{wall}::float8",
        },
    )
    resolution = (
        "FROM sla_clock c JOIN tickets_ticket t ON t.id = c.ticket_id "
        "WHERE c.metric = 'resolution' AND c.cycle = 1 AND c.state = 'met' "
        "AND c.ended_at >= %(lo)s AND c.ended_at < %(hi)s",
        _day("c.ended_at"),
        {"res_n": "1", "res_sum": "c.accrued_seconds::numeric", "res_value": "c.accrued_seconds"},
    )
    requester_after = f"""EXISTS (
            SELECT 1 FROM tickets_ticketevent q
            WHERE q.ticket_id = t.id AND q.kind = 'replied' AND {_SIDE.format(e="q")} = 'requester'
              AND q.at > f.first_agent AND q.at < r.at)"""
    resolved = (
        f"""FROM tickets_ticketevent r JOIN tickets_ticket t ON t.id = r.ticket_id
        LEFT JOIN LATERAL (
            SELECT bool_or(e.kind = 'escalated') AS esc, bool_or(e.kind = 'reopened') AS reo,
                   min(e.at) FILTER (WHERE e.kind = 'replied' AND {_SIDE.format(e="e")} = 'agent') AS first_agent
            FROM tickets_ticketevent e
            WHERE e.ticket_id = t.id AND e.kind IN ('escalated', 'reopened', 'replied')
        ) f ON TRUE
        WHERE r.kind = 'resolved' AND r.at >= %(lo)s AND r.at < %(hi)s
          AND NOT EXISTS (SELECT 1 FROM tickets_ticketevent p WHERE p.ticket_id = r.ticket_id
                          AND p.kind = 'resolved' AND (p.at, p.id) < (r.at, r.id))""",
        _day("r.at"),
        {
            "resolved": "1",
            "fcr": f"(NOT COALESCE(f.esc, false) AND NOT COALESCE(f.reo, false) AND NOT {requester_after})::int",
            "reopened": "COALESCE(f.reo, false)::int",
        },
    )
    sla = (
        f"FROM sla_clock c JOIN tickets_ticket t ON t.id = c.ticket_id "
        f"WHERE c.metric IN ('first_response', 'next_response', 'resolution') "
        f"AND {CLOCK_PLACED} >= %(lo)s AND {CLOCK_PLACED} < %(hi)s AND {CLOCK_PLACED} <= %(now)s",
        _day(CLOCK_PLACED),
        {
            "resp_due": "(c.metric <> 'resolution')::int",
            "resp_met": f"(c.metric <> 'resolution' AND {CLOCK_MET})::int",
            "res_due": "(c.metric = 'resolution')::int",
            "res_met": f"(c.metric = 'resolution' AND {CLOCK_MET})::int",
        },
    )
    surveys = (
        "FROM reports_survey s JOIN tickets_ticket t ON t.id = s.ticket_id "
        "WHERE s.resolved_at >= %(lo)s AND s.resolved_at < %(hi)s",
        _day("s.resolved_at"),
        {
            "surveys": "1",
            "answered": "(s.score IS NOT NULL)::int",
            "happy": "(s.score >= 4)::int",
            "score_sum": "COALESCE(s.score, 0)",
        },
    )
    # Backlog now (today's row): the current status is the status at this instant.
    # The ages are compared as creation times against now minus 1/3/7 days (exact durations,
    # computed in Python): the same buckets as ``_bucket``, without interval arithmetic per ticket.
    backlog_now = (
        "FROM tickets_ticket t WHERE %(today_live)s AND t.status IN %(open_statuses)s AND t.created_at < %(now)s",
        "%(today)s::date",
        {
            "backlog_1d": "(t.created_at > %(now_1d)s)::int",
            "backlog_3d": "(t.created_at <= %(now_1d)s AND t.created_at > %(now_3d)s)::int",
            "backlog_7d": "(t.created_at <= %(now_3d)s AND t.created_at > %(now_7d)s)::int",
            "backlog_old": "(t.created_at <= %(now_7d)s)::int",
        },
    )
    # Backlog at the end of past days: open spans rebuilt from the status changes of the tickets
    # that can have been open then (open now, or last resolved at or after the first instant).
    backlog_past = (
        f"""FROM (
            SELECT t.id, t.created_at, t.tier, t.category_id, t.assignee_id, t.channel, t.priority
            FROM tickets_ticket t
            WHERE %(past_hi)s IS NOT NULL AND t.created_at < %(past_hi)s
              AND (t.status IN %(open_statuses)s OR t.resolved_at >= %(past_lo)s)
        ) t
        JOIN LATERAL (
            SELECT x.status, x.at AS since, lead(x.at) OVER (ORDER BY x.at, x.eid) AS until
            FROM (SELECT 'new' AS status, t.created_at AS at, 0::bigint AS eid
                  UNION ALL
                  SELECT e.data->>'to', e.at, e.id FROM tickets_ticketevent e
                  WHERE e.ticket_id = t.id AND e.kind = 'status_changed' AND e.at < %(past_hi)s) x
        ) s ON TRUE
        CROSS JOIN LATERAL generate_series(
            GREATEST({_day("s.since")}, %(past_first)s::date),
            LEAST(COALESCE({_day("s.until")} - 1, %(past_last)s::date), %(past_last)s::date),
            interval '1 day') AS g(d)
        WHERE s.status IN %(open_statuses)s""",
        "g.d::date",
        _bucket(f"(((g.d::date + 1)::timestamp AT TIME ZONE {_TZ}) - t.created_at)"),
    )
    return {
        "created": created,
        "frt": frt,
        "resolution": resolution,
        "resolved": resolved,
        "sla": sla,
        "surveys": surveys,
        "backlog_now": backlog_now,
        "backlog_past": backlog_past,
    }


PARTS = _parts()
ROW_VALUE_COLUMNS = [*COUNT_COLUMNS, *SUM_COLUMNS, *VALUE_OF_ARRAY.values()]


def _part_select(name: str, *, with_ticket: bool = False) -> str:
    body, day, columns = PARTS[name]
    cols = []
    for column in ROW_VALUE_COLUMNS:
        if column in columns:
            cols.append(f"{columns[column]} AS {column}")
        elif column in SUM_COLUMNS:
            cols.append(f"0::numeric AS {column}")
        elif column in VALUE_OF_ARRAY.values():
            cols.append(f"NULL::float8 AS {column}")
        else:
            cols.append(f"0 AS {column}")
    ticket = "t.id AS ticket_id, " if with_ticket else ""
    dims = ", ".join(f"t.{d}" for d in DIMENSIONS)
    return f"SELECT {day} AS day, {ticket}{dims}, {', '.join(cols)} {body}"


def _aggregate_columns() -> str:
    cols = [f"sum({c})::int AS {c}" for c in COUNT_COLUMNS]
    cols += [f"sum({c}) AS {c}" for c in SUM_COLUMNS]
    cols += [
        f"COALESCE(array_agg({v} ORDER BY {v}) FILTER (WHERE {v} IS NOT NULL), '{{}}') AS {a}"
        for a, v in VALUE_OF_ARRAY.items()
    ]
    return ", ".join(cols)


def _daily_part(name: str) -> str:
    """A part as daily rows: parts without per-ticket values are summed per scope combination first
    (the backlog alone is tens of thousands of rows), which the outer sum does not notice."""
    if any(v in PARTS[name][2] for v in VALUE_OF_ARRAY.values()):
        return _part_select(name)
    dims = ", ".join(DIMENSIONS)
    sums = ", ".join(
        [f"sum({c})::int AS {c}" for c in COUNT_COLUMNS]
        + [f"0::numeric AS {c}" for c in SUM_COLUMNS]
        + [f"NULL::float8 AS {v}" for v in VALUE_OF_ARRAY.values()]
    )
    return f"SELECT day, {dims}, {sums} FROM ({_part_select(name)}) q GROUP BY day, {dims}"


LIVE_DAILY_SQL = f"""
SELECT day, {", ".join(DIMENSIONS)}, {_aggregate_columns()}
FROM ({" UNION ALL ".join(_daily_part(name) for name in PARTS)}) p
WHERE day BETWEEN %(first)s AND %(last)s
GROUP BY day, {", ".join(DIMENSIONS)}
"""
STORED_COLUMNS = ["day", *DIMENSIONS, *COUNT_COLUMNS, *SUM_COLUMNS, *ARRAY_COLUMNS]


def live_params(first: dt.date, last: dt.date, now: dt.datetime) -> dict:
    """Parameters of the live SQL for the local days ``first``..``last`` (``last`` at most today)."""
    now_day = timezone.localdate(now)
    past_last = min(last, now_day - dt.timedelta(days=1))
    has_past = past_last >= first
    return {
        "tz": settings.TIME_ZONE,
        "first": first,
        "last": last,
        "lo": day_start(first),
        "hi": min(day_start(last + dt.timedelta(days=1)), now + dt.timedelta(microseconds=1)),
        "now": now,
        # A tuple, which psycopg2 sends as the SQL list ('new', 'open', ...) that IN takes.
        "open_statuses": tuple(str(s) for s in OPEN_STATUSES),
        **{f"now_{days}d": now - dt.timedelta(days=days) for days in (1, 3, 7)},
        "today": now_day,
        "today_live": first <= now_day <= last,
        "past_first": first,
        "past_last": past_last,
        "past_lo": day_start(first + dt.timedelta(days=1)) if has_past else None,
        "past_hi": day_start(past_last + dt.timedelta(days=1)) if has_past else None,
    }


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of sorted days: [(first, last), ...]."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def live_daily_rows(first: dt.date, last: dt.date, now: dt.datetime | None = None) -> list[tuple]:
    """The components of every (day, scope combination) of ``first``..``last``, computed live.

    Rows in ``STORED_COLUMNS`` order; the rollup stores exactly these for closed days.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(LIVE_DAILY_SQL, live_params(first, last, now))
        return cursor.fetchall()


# --------------------------------------------------------------------------- reading: rollup + live


def _rows_cte(
    period_first: dt.date, period_last: dt.date, now: dt.datetime, *, use_rollup: bool
) -> tuple[str, list, list[tuple]]:
    """SQL of every daily row of ``period_first``..``period_last`` (unscoped): rollup where clean, else live.

    The rows carry ``rolled`` (read from the rollup, not computed live). Also returns the clean
    days with the highest id of their stored rows: a rebuilt day gets new ids, so the list names
    exactly the stored data read (the key of the cached median windows).
    """
    params: list = []
    clean: list[tuple] = []
    if use_rollup:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT r.day, (SELECT max(f.id) FROM reports_dailyfigure f WHERE f.day = r.day)
                   FROM reports_rollupday r
                   WHERE r.day BETWEEN %s AND %s
                     AND NOT EXISTS (SELECT 1 FROM reports_dirtyday x WHERE x.day = r.day)
                   ORDER BY r.day""",
                [period_first, min(period_last, timezone.localdate(now) - dt.timedelta(days=1))],
            )
            clean = cursor.fetchall()
    clean_days = [day for day, _ in clean]
    clean_set = set(clean_days)
    live_days = [d for d in _days(period_first, period_last) if d not in clean_set]
    selects = []
    if clean:
        selects.append(
            f"SELECT {', '.join(STORED_COLUMNS)}, true AS rolled FROM reports_dailyfigure "
            "WHERE day BETWEEN %s AND %s AND day = ANY(%s) "
            # Outside a repeatable-read snapshot, a change committed after the clean-day check
            # marks the day dirty: skip it here too.
            "AND NOT EXISTS (SELECT 1 FROM reports_dirtyday x WHERE x.day = reports_dailyfigure.day)"
        )
        params += [min(clean_days), max(clean_days), clean_days]
    for first, last in _runs(live_days):
        live = _inline(LIVE_DAILY_SQL, live_params(first, last, now), params)
        selects.append(f"SELECT *, false AS rolled FROM ({live}) live")
    return " UNION ALL ".join(selects) or _empty_rows(), params, clean


def _empty_rows() -> str:
    return f"SELECT {', '.join(STORED_COLUMNS)}, true AS rolled FROM reports_dailyfigure WHERE FALSE"


def _inline(sql: str, named: dict, params: list) -> str:
    """Turn a ``%(name)s`` statement into a positional one appended to ``params``."""
    import re

    def replace(match):
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", replace, sql)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _sums(alias: str = "") -> str:
    return ", ".join(
        [f"sum({c})::int AS {c}" for c in COUNT_COLUMNS] + [f"COALESCE(sum({c}), 0) AS {c}" for c in SUM_COLUMNS]
    )


MEDIANS = (("frt_median", "frt_values"), ("frt_wall_median", "frt_wall_values"), ("res_median", "res_values"))
BUCKETS = ("current", "previous")
# Values kept on each side of a period's middle in a cached median window, on top of twice the
# number of live values at the time it was cut (today grows; the window must still hold the median).
MEDIAN_MARGIN = 1000
MEDIAN_CACHE_SECONDS = 24 * 3600
_MEDIAN_FIELDS = ("n", "lo", "window", "live")


def _median_columns() -> list[str]:
    return [f"{name}_{field}" for name, _ in MEDIANS for field in _MEDIAN_FIELDS]


def _medians(scope_sql: str, *, with_rolled: bool) -> str:
    """SQL of what the exact medians need, per period (``k`` = current/previous) and value array.

    ``live``: the values of the rows computed live (today, changed days). ``n``/``lo``/``window``:
    how many values the rollup rows hold and, sorted, the ones from 0-based rank ``lo`` around
    their middle (``with_rolled``; else NULL and the rollup rows are not read: their window comes
    from the cache). The median of rollup + live values is then found in Python from the window
    and the live values alone (``_window_median``), so a cached window spares sorting the period.
    Takes the period's first day, then the scope parameters, once per array.
    """
    buckets = {"current": "x.cur", "previous": "NOT x.cur"}
    selects = []
    for name, array in MEDIANS:
        aggs, cols = [], []
        for bucket, test in buckets.items():
            aggs.append(f"array_agg(x.v) FILTER (WHERE {test} AND NOT x.rolled) AS {bucket}_live")
            cols.append(f"a.{bucket}_live")
            if with_rolled:
                aggs.append(f"array_agg(x.v ORDER BY x.v) FILTER (WHERE {test} AND x.rolled) AS {bucket}_sorted")
                n, live_n = f"COALESCE(cardinality(a.{bucket}_sorted), 0)", f"COALESCE(cardinality(a.{bucket}_live), 0)"
                lo = f"GREATEST(0, {n} / 2 - 2 * {live_n} - {MEDIAN_MARGIN} - 1)"
                cols += [
                    f"{n} AS {bucket}_n",
                    f"{lo} AS {bucket}_lo",
                    f"a.{bucket}_sorted[{lo} + 1 : {n} / 2 + 2 * {live_n} + {MEDIAN_MARGIN} + 1] AS {bucket}_window",
                ]
            else:
                cols += [f"NULL::int AS {bucket}_n", f"NULL::int AS {bucket}_lo", f"NULL::float8[] AS {bucket}_window"]
        only_live = "" if with_rolled else " AND NOT r.rolled"
        selects.append(
            f"(SELECT {', '.join(cols)} FROM (SELECT {', '.join(aggs)} FROM ("
            f"SELECT r.day >= %s AS cur, r.rolled, unnest(r.{array}) AS v FROM rows r WHERE {scope_sql}{only_live}"
            f") x) a) AS {name}"
        )
    values = ", ".join(
        f"('{bucket}', " + ", ".join(f"{name}.{bucket}_{part}" for name, _ in MEDIANS for part in _MEDIAN_FIELDS) + ")"
        for bucket in BUCKETS
    )
    columns = ", ".join(_median_columns())
    return f"SELECT v.* FROM {', '.join(selects)} CROSS JOIN LATERAL (VALUES {values}) AS v(k, {columns})"


def _kth(k: int, n: int, lo: int, window: list[float], live: list[float]) -> float | None:
    """The value of 0-based rank ``k`` among rollup values (``n`` of them, ranks ``lo``.. in ``window``)
    and ``live`` values; ``None`` when the window does not reach it.

    At most ``len(live)`` of the ``k + 1`` smallest values are live, so the rollup values of rank
    below ``k - len(live)`` all precede it and those above ``k`` all follow it: the ranks
    ``k - len(live)``..``k`` of the rollup, merged with the live values, decide.
    """
    first, last = max(0, k - len(live)), min(n - 1, k)
    if first <= last and (first < lo or last >= lo + len(window)):
        return None
    merged = sorted(window[first - lo : last - lo + 1] + live) if first <= last else sorted(live)
    return merged[k - first]


def _window_median(n: int, lo: int, window: list[float], live: list[float]) -> tuple[bool, float | None]:
    """``percentile_cont(0.5)`` (PostgreSQL's interpolation) of rollup + live values: (found, value)."""
    total = n + len(live)
    if total == 0:
        return True, None
    position = 0.5 * (total - 1)
    below, above = int(position // 1), -int(-position // 1)
    low = _kth(below, n, lo, window, live)
    high = low if above == below else _kth(above, n, lo, window, live)
    if low is None or high is None:
        return False, None
    return True, low + (position - below) * (high - low)


def _median_cache_key(scope: Scope, first: dt.date, middle: dt.date, last: dt.date, clean: list[tuple]) -> str:
    identity = repr((scope, first, middle, last, clean))
    return "reports:median-windows:" + hashlib.sha256(identity.encode()).hexdigest()


@dataclass
class Components:
    """The summed components of one group (a period, a day, an agent, a tier...)."""

    values: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.values.get(key) or 0

    def get(self, key, default=None):
        return self.values.get(key, default)


@dataclass
class Snapshot:
    """Everything the figures need for one scope and period, read in one statement."""

    period: Period
    scope: Scope
    now: dt.datetime
    current: Components
    previous: Components
    days: dict[dt.date, Components]
    by_agent: dict[int | None, Components]
    by_tier: dict[int, Components]
    by_channel: dict[str, tuple[int, int]]  # channel -> (current, previous) volume
    deflections: dict[str, int]  # "current"/"previous" and per day "YYYY-MM-DD"
    portal: dict[str, int]
    backlog_by_agent: dict[int | None, int] = field(default_factory=dict)
    backlog_by_tier: dict[int, int] = field(default_factory=dict)
    previous_last_day: Components = field(default_factory=Components)


def _read(scope: Scope, period: Period, now: dt.datetime, *, use_rollup: bool, refresh: bool) -> tuple[list, dict]:
    """Run the snapshot statement; fill in the medians (from the cached windows where they serve)."""
    previous = period.previous()
    rows_sql, params, clean = _rows_cte(previous.first, period.last, now, use_rollup=use_rollup)
    key = _median_cache_key(scope, previous.first, period.first, period.last, clean) if clean else None
    windows = None if (key is None or refresh) else cache.get(key)
    scope_sql, scope_params = scope.sql("r")
    median_columns = _median_columns()
    nulls = ", ".join(["NULL"] * len(median_columns))
    sql = f"""
    WITH rows AS MATERIALIZED ({rows_sql}),
    srows AS MATERIALIZED (
        SELECT {", ".join("r." + c for c in ["day", *DIMENSIONS, *COUNT_COLUMNS, *SUM_COLUMNS])},
               CASE WHEN r.day >= %s THEN 'current' ELSE 'previous' END AS bucket
        FROM rows r WHERE {scope_sql}
    ),
    cur AS MATERIALIZED (SELECT * FROM srows WHERE bucket = 'current'),
    totals AS (SELECT 'period' AS grp, bucket AS k, {_sums()} FROM srows GROUP BY bucket),
    totals_m AS ({_medians(scope_sql, with_rolled=windows is None)}),
    trend AS (SELECT 'day' AS grp, day::text AS k, {_sums()} FROM cur GROUP BY day),
    agents AS (SELECT 'agent' AS grp, COALESCE(assignee_id::text, '') AS k, {_sums()} FROM cur GROUP BY assignee_id),
    tiers AS (SELECT 'tier' AS grp, tier::text AS k, {_sums()} FROM cur GROUP BY tier),
    last_agent AS (SELECT 'last_agent' AS grp, COALESCE(assignee_id::text, '') AS k, {_sums()}
                   FROM srows WHERE day = %s GROUP BY assignee_id),
    last_tier AS (SELECT 'last_tier' AS grp, tier::text AS k, {_sums()} FROM srows WHERE day = %s GROUP BY tier),
    prev_last AS (SELECT 'prev_last' AS grp, '' AS k, {_sums()} FROM srows WHERE day = %s),
    channels AS (SELECT 'channel' AS grp, bucket || ':' || channel AS k, {_sums()} FROM srows GROUP BY bucket, channel),
    portal AS (SELECT 'portal' AS grp, CASE WHEN day >= %s THEN day::text ELSE 'previous' END AS k, {_sums()}
               FROM rows WHERE channel = 'portal' GROUP BY 2)
    SELECT a.*, {", ".join("m." + c for c in median_columns)}
      FROM totals a LEFT JOIN totals_m m USING (k)
    UNION ALL SELECT a.*, {nulls} FROM trend a
    UNION ALL SELECT a.*, {nulls} FROM agents a
    UNION ALL SELECT a.*, {nulls} FROM tiers a
    UNION ALL SELECT a.*, {nulls} FROM last_agent a
    UNION ALL SELECT a.*, {nulls} FROM last_tier a
    UNION ALL SELECT a.*, {nulls} FROM prev_last a
    UNION ALL SELECT a.*, {nulls} FROM channels a
    UNION ALL SELECT a.*, {nulls} FROM portal a
    """
    all_params = [*params, period.first, *scope_params, *[period.first, *scope_params] * len(MEDIANS)]
    all_params += [period.last, period.last, previous.last, period.first]
    deflection_sql = """
        SELECT CASE WHEN d.created_at >= %s THEN ((d.created_at AT TIME ZONE %s)::date)::text ELSE 'previous' END,
               count(*)
        FROM knowledgebase_deflection d WHERE d.created_at >= %s AND d.created_at < %s AND d.created_at <= %s
        GROUP BY 1"""
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        names = [c.name for c in cursor.description]
        result = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(
            deflection_sql,
            [
                day_start(period.first),
                settings.TIME_ZONE,
                day_start(previous.first),
                day_start(period.last + dt.timedelta(days=1)),
                now,
            ],
        )
        deflection_rows = dict(cursor.fetchall())
    fresh = windows is None
    windows = windows or {}
    for row in result:
        fields = {c: row.pop(c) for c in median_columns}
        if row["grp"] != "period":
            continue
        for name, _ in MEDIANS:
            if fresh:
                windows[(row["k"], name)] = (fields[f"{name}_n"], fields[f"{name}_lo"], fields[f"{name}_window"] or [])
            n, lo, window = windows.get((row["k"], name), (0, 0, []))
            found, row[name] = _window_median(n, lo, window, fields[f"{name}_live"] or [])
            if not found:  # today outgrew the cached window: cut a new one
                return _read(scope, period, now, use_rollup=use_rollup, refresh=True)
    if fresh and key is not None:
        cache.set(key, windows, MEDIAN_CACHE_SECONDS)
    return result, deflection_rows


def snapshot(scope: Scope, period: Period, *, now: dt.datetime | None = None, use_rollup: bool = True) -> Snapshot:
    """Read every component for ``scope`` and ``period`` (and the previous period): one SQL statement.

    Outside a transaction, the clean-day check and the statement share one repeatable-read
    snapshot, so a day changed in between is read as it was, consistently.
    """
    now = now or timezone.now()
    if connection.in_atomic_block:
        result, deflection_rows = _read(scope, period, now, use_rollup=use_rollup, refresh=False)
    else:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            result, deflection_rows = _read(scope, period, now, use_rollup=use_rollup, refresh=False)
    snap = Snapshot(
        period=period,
        scope=scope,
        now=now,
        current=Components(),
        previous=Components(),
        days={},
        by_agent={},
        by_tier={},
        by_channel={},
        deflections={},
        portal={},
    )
    channel_volume: dict[str, list[int]] = {}
    for row in result:
        grp, key = row.pop("grp"), row.pop("k")
        comps = Components(row)
        if grp == "period":
            setattr(snap, key, comps)
        elif grp == "day":
            snap.days[dt.date.fromisoformat(key)] = comps
        elif grp == "agent":
            snap.by_agent[int(key) if key else None] = comps
        elif grp == "tier":
            snap.by_tier[int(key)] = comps
        elif grp == "last_agent":
            snap.backlog_by_agent[int(key) if key else None] = _backlog_parts(comps)["total"]
        elif grp == "last_tier":
            snap.backlog_by_tier[int(key)] = _backlog_parts(comps)["total"]
        elif grp == "prev_last":
            snap.previous_last_day = comps
        elif grp == "channel":
            bucket, channel = key.split(":", 1)
            channel_volume.setdefault(channel, [0, 0])[0 if bucket == "current" else 1] += row["created"]
        elif grp == "portal":
            snap.portal[key] = row["created"]
    snap.by_channel = {c: (v[0], v[1]) for c, v in channel_volume.items()}
    snap.portal["current"] = sum(v for k, v in snap.portal.items() if k != "previous")
    snap.portal.setdefault("previous", 0)
    snap.deflections = dict(deflection_rows)
    snap.deflections["current"] = sum(v for k, v in deflection_rows.items() if k != "previous")
    snap.deflections.setdefault("previous", 0)
    return snap


# --------------------------------------------------------------------------- figures


def ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def mean(total, count: int) -> Decimal | None:
    return (Decimal(total) / count) if count else None


@dataclass
class Figure:
    """One KPI: its value now, in the previous period, the change, and its daily trend.

    ``value``/``previous`` are a ``Fraction`` (rates), ``Decimal``/float (seconds) or int
    (counts); ``parts`` holds the named sub-values (e.g. mean, counts) for page, API and CSV.
    """

    key: str
    label: str
    unit: str  # "rate", "seconds", "count", "score"
    value: object
    previous: object
    parts: dict = field(default_factory=dict)
    previous_parts: dict = field(default_factory=dict)
    trend: list[tuple[dt.date, object]] = field(default_factory=list)

    @property
    def change(self):
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def _trend(snap: Snapshot, compute) -> list[tuple[dt.date, object]]:
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


def _backlog_parts(comps: Components) -> dict:
    buckets = {key: comps[column] for (key, _), column in zip(AGE_BUCKETS, BACKLOG_COLUMNS, strict=True)}
    return {**buckets, "total": sum(buckets.values())}


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
    trend = []
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


# --------------------------------------------------------------------------- the tickets behind a figure

# list key -> (parts it reads, condition on their rows, label)
TICKET_LISTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "created": (("created",), "created = 1", "Created"),
    "portal": (("created",), "channel = 'portal'", "Submitted through the portal"),
    "frt": (("frt",), "frt_n = 1", "First response in the period"),
    "resolution": (("resolution",), "res_n = 1", "First resolution (resolution time)"),
    "resolved": (("resolved",), "resolved = 1", "First resolved in the period"),
    "fcr": (("resolved",), "fcr = 1", "Resolved at first contact"),
    "not_fcr": (("resolved",), "fcr = 0", "Resolved, not at first contact"),
    "reopened": (("resolved",), "reopened = 1", "Resolved and reopened"),
    "escalated": (("created",), "escalated = 1", "Created and escalated"),
    "escalated_1": (("created",), "esc_from_1 = 1", "Escalated out of tier 1"),
    "escalated_2": (("created",), "esc_from_2 = 1", "Escalated out of tier 2"),
    "escalated_3": (("created",), "esc_from_3 = 1", "Escalated out of tier 3"),
    "sla_response": (("sla",), "resp_due = 1", "Response targets due or met"),
    "sla_response_missed": (("sla",), "resp_due = 1 AND resp_met = 0", "Response targets missed"),
    "sla_resolution": (("sla",), "res_due = 1", "Resolution targets due or met"),
    "sla_resolution_missed": (("sla",), "res_due = 1 AND res_met = 0", "Resolution targets missed"),
    "surveys": (("surveys",), "surveys = 1", "Surveys sent"),
    "answered": (("surveys",), "answered = 1", "Surveys answered"),
    "unhappy": (("surveys",), "answered = 1 AND happy = 0", "Surveys scoring 1-3"),
    "backlog": (("backlog_now", "backlog_past"), "day = %(last)s", "Backlog at the end of the period"),
    **{
        f"backlog_{key}": (("backlog_now", "backlog_past"), f"day = %(last)s AND {column} = 1", f"Backlog, {label}")
        for (key, label), column in zip(AGE_BUCKETS, BACKLOG_COLUMNS, strict=True)
    },
}


def tickets_behind_sql(key: str, scope: Scope, period: Period, *, now: dt.datetime | None = None) -> tuple[str, list]:
    """SQL (and parameters) of the ids of the tickets behind list ``key`` for ``scope`` and ``period``.

    The same per-ticket rows the figures aggregate, filtered instead of summed.
    """
    if key not in TICKET_LISTS:
        raise ValidationError({"figure": [f"Unknown figure “{key}”."]})
    parts, condition, _ = TICKET_LISTS[key]
    now = now or timezone.now()
    named = live_params(period.first, period.last, now)
    params: list = []
    union = " UNION ALL ".join(_inline(_part_select(name, with_ticket=True), named, params) for name in parts)
    where = _inline(condition, named, params)
    scope_sql, scope_params = scope.sql("p")
    params += [period.first, period.last, *scope_params]
    return (
        f"SELECT DISTINCT p.ticket_id FROM ({union}) p WHERE {where} AND p.day BETWEEN %s AND %s AND {scope_sql}",
        params,
    )


def ticket_list_label(key: str) -> str:
    return TICKET_LISTS[key][2] if key in TICKET_LISTS else key


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
