# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608
"""The snapshot: every component one scope and period need (and the previous period), read in one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .definitions import AGE_BUCKETS, BACKLOG_COLUMNS, COUNT_COLUMNS, DIMENSIONS, SUM_COLUMNS, Period, Scope, day_start
from .medians import MEDIAN_CACHE_SECONDS, MEDIANS, _median_cache_key, _median_columns, _medians, _window_median
from .sql import _rows_cte, _sums
from .tables import DEFLECTION


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
    params.update(scope_params, period_first=period.first, period_last=period.last, previous_last=previous.last)
    median_columns = _median_columns()
    nulls = ", ".join(["NULL"] * len(median_columns))
    sql = f"""
    WITH rows AS MATERIALIZED ({rows_sql}),
    srows AS MATERIALIZED (
        SELECT {", ".join("r." + c for c in ["day", *DIMENSIONS, *COUNT_COLUMNS, *SUM_COLUMNS])},
               CASE WHEN r.day >= %(period_first)s THEN 'current' ELSE 'previous' END AS bucket
        FROM rows r WHERE {scope_sql}
    ),
    cur AS MATERIALIZED (SELECT * FROM srows WHERE bucket = 'current'),
    totals AS (SELECT 'period' AS grp, bucket AS k, {_sums()} FROM srows GROUP BY bucket),
    totals_m AS ({_medians(scope_sql, with_rolled=windows is None)}),
    trend AS (SELECT 'day' AS grp, day::text AS k, {_sums()} FROM cur GROUP BY day),
    agents AS (SELECT 'agent' AS grp, COALESCE(assignee_id::text, '') AS k, {_sums()} FROM cur GROUP BY assignee_id),
    tiers AS (SELECT 'tier' AS grp, tier::text AS k, {_sums()} FROM cur GROUP BY tier),
    last_agent AS (SELECT 'last_agent' AS grp, COALESCE(assignee_id::text, '') AS k, {_sums()}
                   FROM srows WHERE day = %(period_last)s GROUP BY assignee_id),
    last_tier AS (SELECT 'last_tier' AS grp, tier::text AS k, {_sums()}
                  FROM srows WHERE day = %(period_last)s GROUP BY tier),
    prev_last AS (SELECT 'prev_last' AS grp, '' AS k, {_sums()} FROM srows WHERE day = %(previous_last)s),
    channels AS (SELECT 'channel' AS grp, bucket || ':' || channel AS k, {_sums()} FROM srows GROUP BY bucket, channel),
    portal AS (SELECT 'portal' AS grp, CASE WHEN day >= %(period_first)s THEN day::text ELSE 'previous' END AS k,
                      {_sums()}
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
    created_at = f"d.{DEFLECTION.created_at}"
    deflection_sql = f"""
        SELECT CASE WHEN {created_at} >= %(first)s THEN (({created_at} AT TIME ZONE %(tz)s)::date)::text
                    ELSE 'previous' END,
               count(*)
        FROM {DEFLECTION.table} d WHERE {created_at} >= %(lo)s AND {created_at} < %(hi)s AND {created_at} <= %(now)s
        GROUP BY 1"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        result = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(
            deflection_sql,
            {
                "first": day_start(period.first),
                "tz": settings.TIME_ZONE,
                "lo": day_start(previous.first),
                "hi": day_start(period.last + dt.timedelta(days=1)),
                "now": now,
            },
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


def _backlog_parts(comps: Components) -> dict:
    buckets = {key: comps[column] for (key, _), column in zip(AGE_BUCKETS, BACKLOG_COLUMNS, strict=True)}
    return {**buckets, "total": sum(buckets.values())}
