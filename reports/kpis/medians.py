# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608
"""Exact medians of a period: the SQL of the median windows, their cache key, and the median from a window."""

from __future__ import annotations

import datetime as dt
import hashlib

from .definitions import Scope

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
    Reads the parameters ``period_first`` (the period's first day) and those of ``scope_sql``.
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
            f"SELECT r.day >= %(period_first)s AS cur, r.rolled, unnest(r.{array}) AS v "
            f"FROM rows r WHERE {scope_sql}{only_live}"
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
