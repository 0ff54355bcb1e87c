# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608
"""The live SQL of the KPI components: per-ticket parts, daily rows, and the rows of a period (rollup + live)."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import connection
from django.utils import timezone

from sla.models import ClockState, Metric
from tickets import events
from tickets.models import OPEN_STATUSES, EventKind

from .definitions import (
    ARRAY_COLUMNS,
    COUNT_COLUMNS,
    DIMENSIONS,
    SUM_COLUMNS,
    VALUE_OF_ARRAY,
    SqlParams,
    day_start,
    desk_date,
)
from .tables import CLOCK, DAILY_FIGURE, DIRTY_DAY, EVENT, ROLLUP_DAY, SURVEY, TICKET, data_key, literal

_TZ = "%(tz)s"


def _day(expr: str) -> str:
    return f"(({expr}) AT TIME ZONE {_TZ})::date"


# Event kinds and data keys, named by ``tickets`` (``EventKind``, the schemas in ``tickets.events``).
_ESCALATED, _DEESCALATED = literal(EventKind.ESCALATED), literal(EventKind.DEESCALATED)
_REPLIED, _REOPENED = literal(EventKind.REPLIED), literal(EventKind.REOPENED)
_RESOLVED, _STATUS_CHANGED = literal(EventKind.RESOLVED), literal(EventKind.STATUS_CHANGED)
_MOVED_FROM, _MOVED_TO = data_key(events.TierMoved, "from"), data_key(events.TierMoved, "to")
_STATUS_TO = data_key(events.StatusChanged, "to")
_SIDE = data_key(events.Replied, "side")
# Clock metrics and states, named by ``sla``.
_FIRST_RESPONSE, _NEXT_RESPONSE = literal(Metric.FIRST_RESPONSE), literal(Metric.NEXT_RESPONSE)
_RESOLUTION, _MET = literal(Metric.RESOLUTION), literal(ClockState.MET)
# Where a response/resolution clock is placed in time (see the module docstring); an expression
# index on it (migration 0002) finds a day's clocks without reading the whole table.
_STATE, _DUE, _ENDED = CLOCK.state, CLOCK.due_at, CLOCK.ended_at
CLOCK_PLACED = f"(CASE WHEN c.{_STATE} = {_MET} AND c.{_DUE} IS NULL THEN c.{_ENDED} ELSE c.{_DUE} END)"
CLOCK_MET = f"(c.{_STATE} = {_MET} AND c.{_DUE} IS NULL)"


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
    placing timestamp, ``%(now)s`` is now. Table and column names come from ``tables``.
    """
    T, E, C, S = TICKET, EVENT, CLOCK, SURVEY
    # The tier moves of the tickets created in the range, grouped once (not a subquery per
    # ticket: PostgreSQL cannot decorrelate a LATERAL, and a busy day has tens of thousands).
    tier_events = f"""
        LEFT JOIN (
            SELECT e.{E.ticket_id},
                   bool_or(e.{E.kind} = {_ESCALATED}) AS esc,
                   bool_or(e.{E.kind} = {_ESCALATED} AND (e.{E.data}->>{_MOVED_FROM})::int = 1) AS f1,
                   bool_or(e.{E.kind} = {_ESCALATED} AND (e.{E.data}->>{_MOVED_FROM})::int = 2) AS f2,
                   bool_or(e.{E.kind} = {_ESCALATED} AND (e.{E.data}->>{_MOVED_FROM})::int = 3) AS f3,
                   bool_or((e.{E.data}->>{_MOVED_TO})::int = 1) AS t1,
                   bool_or((e.{E.data}->>{_MOVED_TO})::int = 2) AS t2,
                   bool_or((e.{E.data}->>{_MOVED_TO})::int = 3) AS t3,
                   (array_agg((e.{E.data}->>{_MOVED_FROM})::int ORDER BY e.{E.at}, e.{E.id}))[1] AS first_from
            FROM {E.table} e
            JOIN {T.table} moved ON moved.{T.id} = e.{E.ticket_id}
            WHERE e.{E.kind} IN ({_ESCALATED}, {_DEESCALATED})
              AND moved.{T.created_at} >= %(lo)s AND moved.{T.created_at} < %(hi)s
            GROUP BY e.{E.ticket_id}
        ) m ON m.{E.ticket_id} = t.{T.id}"""
    initial = f"COALESCE(m.first_from, t.{T.tier})"
    created = (
        f"FROM {T.table} t {tier_events} WHERE t.{T.created_at} >= %(lo)s AND t.{T.created_at} < %(hi)s",
        _day(f"t.{T.created_at}"),
        {
            "created": "1",
            "escalated": "COALESCE(m.esc, false)::int",
            **{f"entered_{k}": f"({initial} = {k} OR COALESCE(m.t{k}, false))::int" for k in (1, 2, 3)},
            **{f"esc_from_{k}": f"COALESCE(m.f{k}, false)::int" for k in (1, 2, 3)},
        },
    )
    wall = f"extract(epoch FROM c.{C.ended_at} - t.{T.created_at})"
    frt = (
        f"FROM {C.table} c JOIN {T.table} t ON t.{T.id} = c.{C.ticket_id} "
        f"WHERE c.{C.metric} = {_FIRST_RESPONSE} AND c.{C.cycle} = 1 AND c.{C.state} = {_MET} "
        f"AND c.{C.ended_at} >= %(lo)s AND c.{C.ended_at} < %(hi)s",
        _day(f"c.{C.ended_at}"),
        {
            "frt_n": "1",
            "frt_sum": f"c.{C.accrued_seconds}::numeric",
            "frt_wall_sum": f"{wall}::numeric",
            "frt_value": f"c.{C.accrued_seconds}",
            "frt_wall_value": f"{wall}::float8",
        },
    )
    resolution = (
        f"FROM {C.table} c JOIN {T.table} t ON t.{T.id} = c.{C.ticket_id} "
        f"WHERE c.{C.metric} = {_RESOLUTION} AND c.{C.cycle} = 1 AND c.{C.state} = {_MET} "
        f"AND c.{C.ended_at} >= %(lo)s AND c.{C.ended_at} < %(hi)s",
        _day(f"c.{C.ended_at}"),
        {"res_n": "1", "res_sum": f"c.{C.accrued_seconds}::numeric", "res_value": f"c.{C.accrued_seconds}"},
    )
    requester_after = f"""EXISTS (
            SELECT 1 FROM {E.table} q
            WHERE q.{E.ticket_id} = t.{T.id} AND q.{E.kind} = {_REPLIED} AND q.{E.data}->>{_SIDE} = 'requester'
              AND q.{E.at} > f.first_agent AND q.{E.at} < r.{E.at})"""
    resolved = (
        f"""FROM {E.table} r JOIN {T.table} t ON t.{T.id} = r.{E.ticket_id}
        LEFT JOIN LATERAL (
            SELECT bool_or(e.{E.kind} = {_ESCALATED}) AS esc, bool_or(e.{E.kind} = {_REOPENED}) AS reo,
                   min(e.{E.at}) FILTER (WHERE e.{E.kind} = {_REPLIED} AND e.{E.data}->>{_SIDE} = 'agent')
                       AS first_agent
            FROM {E.table} e
            WHERE e.{E.ticket_id} = t.{T.id} AND e.{E.kind} IN ({_ESCALATED}, {_REOPENED}, {_REPLIED})
        ) f ON TRUE
        WHERE r.{E.kind} = {_RESOLVED} AND r.{E.at} >= %(lo)s AND r.{E.at} < %(hi)s
          AND NOT EXISTS (SELECT 1 FROM {E.table} p WHERE p.{E.ticket_id} = r.{E.ticket_id}
                          AND p.{E.kind} = {_RESOLVED} AND (p.{E.at}, p.{E.id}) < (r.{E.at}, r.{E.id}))""",
        _day(f"r.{E.at}"),
        {
            "resolved": "1",
            "fcr": f"(NOT COALESCE(f.esc, false) AND NOT COALESCE(f.reo, false) AND NOT {requester_after})::int",
            "reopened": "COALESCE(f.reo, false)::int",
        },
    )
    sla = (
        f"FROM {C.table} c JOIN {T.table} t ON t.{T.id} = c.{C.ticket_id} "
        f"WHERE c.{C.metric} IN ({_FIRST_RESPONSE}, {_NEXT_RESPONSE}, {_RESOLUTION}) "
        f"AND {CLOCK_PLACED} >= %(lo)s AND {CLOCK_PLACED} < %(hi)s AND {CLOCK_PLACED} <= %(now)s",
        _day(CLOCK_PLACED),
        {
            "resp_due": f"(c.{C.metric} <> {_RESOLUTION})::int",
            "resp_met": f"(c.{C.metric} <> {_RESOLUTION} AND {CLOCK_MET})::int",
            "res_due": f"(c.{C.metric} = {_RESOLUTION})::int",
            "res_met": f"(c.{C.metric} = {_RESOLUTION} AND {CLOCK_MET})::int",
        },
    )
    surveys = (
        f"FROM {S.table} s JOIN {T.table} t ON t.{T.id} = s.{S.ticket_id} "
        f"WHERE s.{S.resolved_at} >= %(lo)s AND s.{S.resolved_at} < %(hi)s",
        _day(f"s.{S.resolved_at}"),
        {
            "surveys": "1",
            "answered": f"(s.{S.score} IS NOT NULL)::int",
            "happy": f"(s.{S.score} >= 4)::int",
            "score_sum": f"COALESCE(s.{S.score}, 0)",
        },
    )
    # Backlog now (today's row): the current status is the status at this instant.
    # The ages are compared as creation times against now minus 1/3/7 days (exact durations,
    # computed in Python): the same buckets as ``_bucket``, without interval arithmetic per ticket.
    created_at = f"t.{T.created_at}"
    backlog_now = (
        f"FROM {T.table} t WHERE %(today_live)s AND t.{T.status} IN %(open_statuses)s AND {created_at} < %(now)s",
        "%(today)s::date",
        {
            "backlog_1d": f"({created_at} > %(now_1d)s)::int",
            "backlog_3d": f"({created_at} <= %(now_1d)s AND {created_at} > %(now_3d)s)::int",
            "backlog_7d": f"({created_at} <= %(now_3d)s AND {created_at} > %(now_7d)s)::int",
            "backlog_old": f"({created_at} <= %(now_7d)s)::int",
        },
    )
    # Backlog at the end of past days: open spans rebuilt from the status changes of the tickets
    # that can have been open then (open now, or last resolved at or after the first instant).
    # The subquery keeps the ticket's column names, so the outer query reads it as ``t`` too.
    ticket_columns = ", ".join(f"t.{T.column(name)}" for name in ["id", "created_at", *DIMENSIONS])
    backlog_past = (
        f"""FROM (
            SELECT {ticket_columns}
            FROM {T.table} t
            WHERE %(past_hi)s IS NOT NULL AND t.{T.created_at} < %(past_hi)s
              AND (t.{T.status} IN %(open_statuses)s OR t.{T.resolved_at} >= %(past_lo)s)
        ) t
        JOIN LATERAL (
            SELECT x.status, x.at AS since, lead(x.at) OVER (ORDER BY x.at, x.eid) AS until
            FROM (SELECT 'new' AS status, t.{T.created_at} AS at, 0::bigint AS eid
                  UNION ALL
                  SELECT e.{E.data}->>{_STATUS_TO}, e.{E.at}, e.{E.id} FROM {E.table} e
                  WHERE e.{E.ticket_id} = t.{T.id} AND e.{E.kind} = {_STATUS_CHANGED} AND e.{E.at} < %(past_hi)s) x
        ) s ON TRUE
        CROSS JOIN LATERAL generate_series(
            GREATEST({_day("s.since")}, %(past_first)s::date),
            LEAST(COALESCE({_day("s.until")} - 1, %(past_last)s::date), %(past_last)s::date),
            interval '1 day') AS g(d)
        WHERE s.status IN %(open_statuses)s""",
        "g.d::date",
        _bucket(f"(((g.d::date + 1)::timestamp AT TIME ZONE {_TZ}) - t.{T.created_at})"),
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
    ticket = f"t.{TICKET.id} AS ticket_id, " if with_ticket else ""
    dims = ", ".join(f"t.{TICKET.column(d)} AS {d}" for d in DIMENSIONS)
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


def live_params(first: dt.date, last: dt.date, now: dt.datetime) -> SqlParams:
    """Parameters of the live SQL for the local days ``first``..``last`` (``last`` at most today)."""
    now_day = desk_date(now)
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
) -> tuple[str, SqlParams, list[tuple[dt.date, int]]]:
    """SQL of every daily row of ``period_first``..``period_last`` (unscoped): rollup where clean, else live.

    The rows carry ``rolled`` (read from the rollup, not computed live). Also returns the
    statement's named parameters and the clean days with the highest id of their stored rows: a
    rebuilt day gets new ids, so the list names exactly the stored data read (the key of the
    cached median windows).
    """
    F, R, D = DAILY_FIGURE, ROLLUP_DAY, DIRTY_DAY
    params: SqlParams = {}
    clean: list[tuple[dt.date, int]] = []
    if use_rollup:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT r.{R.day}, (SELECT max(f.{F.id}) FROM {F.table} f WHERE f.{F.day} = r.{R.day})
                   FROM {R.table} r
                   WHERE r.{R.day} BETWEEN %(first)s AND %(last)s
                     AND NOT EXISTS (SELECT 1 FROM {D.table} x WHERE x.{D.day} = r.{R.day})
                   ORDER BY r.{R.day}""",
                {"first": period_first, "last": min(period_last, desk_date(now) - dt.timedelta(days=1))},
            )
            clean = cursor.fetchall()
    clean_days = [day for day, _ in clean]
    clean_set = set(clean_days)
    live_days = [d for d in _days(period_first, period_last) if d not in clean_set]
    selects = []
    if clean:
        selects.append(
            f"SELECT {_stored_columns()}, true AS rolled FROM {F.table} f "
            f"WHERE f.{F.day} BETWEEN %(clean_first)s AND %(clean_last)s AND f.{F.day} = ANY(%(clean_days)s) "
            # Outside a repeatable-read snapshot, a change committed after the clean-day check
            # marks the day dirty: skip it here too.
            f"AND NOT EXISTS (SELECT 1 FROM {D.table} x WHERE x.{D.day} = f.{F.day})"
        )
        params.update(clean_first=min(clean_days), clean_last=max(clean_days), clean_days=clean_days)
    for number, (first, last) in enumerate(_runs(live_days)):
        live = _prefixed(LIVE_DAILY_SQL, live_params(first, last, now), f"run{number}_", params)
        selects.append(f"SELECT *, false AS rolled FROM ({live}) live")
    return " UNION ALL ".join(selects) or _empty_rows(), params, clean


def _stored_columns() -> str:
    """The ``STORED_COLUMNS`` of ``DailyFigure`` (aliased ``f``), named as the live SQL names them."""
    return ", ".join(f"f.{DAILY_FIGURE.column(c)} AS {c}" for c in STORED_COLUMNS)


def _empty_rows() -> str:
    return f"SELECT {_stored_columns()}, true AS rolled FROM {DAILY_FIGURE.table} f WHERE FALSE"


def _prefixed(sql: str, named: SqlParams, prefix: str, params: SqlParams) -> str:
    """``sql`` with every ``%(name)s`` renamed ``%(<prefix>name)s``, its value added to ``params``.

    So one statement can hold the live SQL several times, each time with its own values.
    """

    def rename(match: re.Match[str]) -> str:
        name = prefix + match.group(1)
        params[name] = named[match.group(1)]
        return f"%({name})s"

    return re.sub(r"%\((\w+)\)s", rename, sql)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _sums(alias: str = "") -> str:
    return ", ".join(
        [f"sum({c})::int AS {c}" for c in COUNT_COLUMNS] + [f"COALESCE(sum({c}), 0) AS {c}" for c in SUM_COLUMNS]
    )
