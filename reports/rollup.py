"""The daily rollup of the KPI components: written for closed days, kept exact by dirty marks.

Protocol (why a figure read from the rollup is never stale):

* Every change that can alter a closed day's components marks the day dirty *inside its own
  transaction*: a ticket event marks every day from the ticket's creation to yesterday (the
  scope is the ticket's attributes now, so any change may move all of its past
  contributions), a survey answer marks the day of the resolution it rates. Marking is an
  upsert of ``reports_dirtyday`` rows in ascending day order, so it takes their row locks.
* ``refresh_days`` rebuilds days in one transaction: it first upserts their dirty rows itself
  (waiting for every writer still holding one, so its later statements see those writers'
  changes), then replaces the days' ``DailyFigure`` rows with ``kpis.sql.live_daily_rows`` (the
  same SQL the live figures run), records them in ``RollupDay`` and deletes the dirty rows.
  A writer that changed data before the rebuild's snapshot but marks afterwards waits for the
  rebuild to commit and then inserts a fresh mark: the day is read live again.
* Readers use a day's rollup only if it is built and has no dirty row (``kpis.sql._rows_cte``).

The SQL here names its tables and columns from the models (``kpis.tables``).
"""

# SQL here is assembled from the models' names only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from helpdesk.core.db import retry_on_conflict

from .kpis.definitions import MAX_DAYS, desk_date
from .kpis.sql import STORED_COLUMNS, _runs, live_daily_rows
from .kpis.tables import DIRTY_DAY as D
from .kpis.tables import ROLLUP_DAY as R
from .models import DailyFigure

# Closed days the beat task keeps built: a year-long custom period and its previous period.
HORIZON_DAYS = 2 * MAX_DAYS
# Days rebuilt per transaction (one statement of live SQL per chunk).
CHUNK_DAYS = 31


def mark_days_dirty(first: dt.date, last: dt.date) -> None:
    """Mark the closed days ``first``..``last`` (clipped to yesterday) changed; inside the change's transaction."""
    last = min(last, desk_date() - dt.timedelta(days=1))
    if last < first:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {D.table} ({D.day}, {D.version})
               SELECT g::date, 1 FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g ORDER BY 1
               ON CONFLICT ({D.day}) DO UPDATE SET {D.version} = {D.table}.{D.version} + 1""",
            {"first": first, "last": last},
        )


def mark_ticket_dirty(created_at: dt.datetime) -> None:
    """A ticket created at ``created_at`` changed: its past days may have changed."""
    mark_days_dirty(desk_date(created_at), desk_date())


@retry_on_conflict
def refresh_days(first: dt.date, last: dt.date, *, now: dt.datetime | None = None) -> int:
    """Rebuild the closed days ``first``..``last`` (clipped to yesterday) in one transaction; returns rows written.

    Its day locks come last in the desk's order (``helpdesk.core.db``); a change of two tickets
    may still mark an older ticket's days after a newer one's, so a deadlock runs it again.
    """
    now = now or timezone.now()
    last = min(last, desk_date(now) - dt.timedelta(days=1))
    if last < first:
        return 0
    with transaction.atomic():
        mark_days_dirty(first, last)  # takes the days' locks: waits for writers in flight
        DailyFigure.objects.filter(day__range=(first, last)).delete()
        rows = live_daily_rows(first, last, now)
        DailyFigure.objects.bulk_create(
            [DailyFigure(**dict(zip(STORED_COLUMNS, row, strict=True))) for row in rows], batch_size=2000
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {R.table} ({R.day}, {R.deflections}, {R.built_at})
                   SELECT g::date, 0, %(now)s
                   FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g
                   ON CONFLICT ({R.day}) DO UPDATE SET {R.built_at} = EXCLUDED.{R.built_at}""",
                {"now": now, "first": first, "last": last},
            )
            cursor.execute(
                f"DELETE FROM {D.table} WHERE {D.day} BETWEEN %(first)s AND %(last)s", {"first": first, "last": last}
            )
    return len(rows)


def days_to_refresh(*, now: dt.datetime | None = None, horizon: int = HORIZON_DAYS) -> list[dt.date]:
    """Dirty days, and closed days of the horizon never built (yesterday after midnight, ...)."""
    now = now or timezone.now()
    yesterday = desk_date(now) - dt.timedelta(days=1)
    oldest = yesterday - dt.timedelta(days=horizon - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {D.day} FROM {D.table} WHERE {D.day} <= %(y)s
               UNION
               SELECT g::date FROM generate_series(%(o)s::date, %(y)s::date, interval '1 day') AS g
               WHERE NOT EXISTS (SELECT 1 FROM {R.table} r WHERE r.{R.day} = g::date)
               ORDER BY 1""",
            {"y": yesterday, "o": oldest},
        )
        return [row[0] for row in cursor.fetchall()]


def refresh_rollup(*, now: dt.datetime | None = None, horizon: int = HORIZON_DAYS) -> dict[str, int]:
    """Build missing and rebuild changed closed days, in chunks of contiguous days. Idempotent."""
    now = now or timezone.now()
    days = days_to_refresh(now=now, horizon=horizon)
    written = 0
    for first, last in _runs(days):
        start = first
        while start <= last:
            end = min(last, start + dt.timedelta(days=CHUNK_DAYS - 1))
            written += refresh_days(start, end, now=now)
            start = end + dt.timedelta(days=1)
    return {"days": len(days), "rows": written}


def rebuild_all(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute every built day (after ``sla_recompute`` or a calendar change rewrote old clocks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {D.table} ({D.day}, {D.version}) SELECT {R.day}, 1 FROM {R.table} ORDER BY {R.day}
               ON CONFLICT ({D.day}) DO UPDATE SET {D.version} = {D.table}.{D.version} + 1"""
        )
    return refresh_rollup(now=now)


__all__ = ["mark_days_dirty", "mark_ticket_dirty", "rebuild_all", "refresh_days", "refresh_rollup"]
