# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608
"""The live SQL of the KPI components: per-ticket parts, daily rows, and the rows of a period (rollup + live)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tickets.models import OPEN_STATUSES

from .definitions import (
    ARRAY_COLUMNS,
    COUNT_COLUMNS,
    DIMENSIONS,
    SUM_COLUMNS,
    VALUE_OF_ARRAY,
    day_start,
)

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
