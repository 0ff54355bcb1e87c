"""Exact medians from a cached window of the rollup's values plus the live values (reports.kpis).

The window arithmetic is checked against a plain reference over random values (and against
PostgreSQL's own ``percentile_cont``); the cached path against the live computation on the
hand-built desk, including a day whose live values outgrow the cached window.
"""

import math
import random
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from reports import kpis, rollup
from tests import factories
from tests.reports.histories import MONDAY, NOW, at, build_desk
from tickets import services

values = st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False).map(lambda v: round(v, 3)), max_size=60)


def reference(all_values: list[float]) -> float | None:
    """percentile_cont(0.5) as PostgreSQL computes it: interpolation between the two middle values."""
    if not all_values:
        return None
    ordered = sorted(all_values)
    position = 0.5 * (len(ordered) - 1)
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    return low + (position - math.floor(position)) * (high - low)


def cut(rolled: list[float], live_count: int, margin: int) -> tuple[int, int, list[float]]:
    """The window the snapshot SQL cuts: ranks around the middle, 2 x live + margin on each side."""
    ordered, n = sorted(rolled), len(rolled)
    lo = max(0, n // 2 - 2 * live_count - margin - 1)
    return n, lo, ordered[lo : n // 2 + 2 * live_count + margin + 1]


@given(rolled=values, live=st.lists(st.integers(0, 10**6).map(float), max_size=12), margin=st.integers(0, 3))
def test_a_window_cut_for_the_live_values_gives_the_exact_median(rolled, live, margin):
    n, lo, window = cut(rolled, len(live), margin)
    assert kpis._window_median(n, lo, window, live) == (True, reference(rolled + live))


@given(rolled=values, live=values, lo=st.integers(0, 60), size=st.integers(0, 60))
def test_any_window_gives_the_exact_median_or_says_it_cannot(rolled, live, lo, size):
    ordered = sorted(rolled)
    lo = min(lo, len(ordered))
    found, value = kpis._window_median(len(ordered), lo, ordered[lo : lo + size], live)
    if found:
        assert value == reference(rolled + live)
    else:
        assert value is None


def test_the_window_median_matches_postgresql_to_the_last_bit(db):
    rng = random.Random(7)
    for size in (1, 2, 3, 10, 101, 1000):
        rolled = [rng.uniform(0, 1e6) for _ in range(size)]
        live = [rng.uniform(0, 1e6) for _ in range(rng.randint(0, 20))]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) v", [rolled + live]
            )
            expected = cursor.fetchone()[0]
        assert kpis._window_median(*cut(rolled, len(live), 0), live) == (True, expected)


THURSDAY = kpis.Period(MONDAY.date(), NOW.date())  # Monday to today (Thursday): today is live


def board(use_rollup=True):
    with time_machine.travel(NOW, tick=False):
        return kpis.all_figures(kpis.snapshot(kpis.Scope(), THURSDAY, use_rollup=use_rollup))


def medians(figures):
    return (
        figures["first_response_time"].parts["median"],
        figures["first_response_time"].parts["wall_median"],
        figures["resolution_time"].parts["median"],
    )


def answered_today(desk, count: int) -> None:
    """``count`` new tickets answered this morning (live values of today)."""
    for minute in range(count):
        ticket = factories.make_ticket(requester=desk.requester, subject=f"Today {minute}")
        with time_machine.travel(at(3, 10, minute), tick=False):
            services.add_reply(ticket_id=ticket.pk, by=desk.a1, body="On it.")


@pytest.mark.django_db
def test_cached_windows_and_todays_values_give_the_live_medians(monkeypatch):
    desk = build_desk()
    with time_machine.travel(NOW, tick=False):
        rollup.refresh_rollup(horizon=10)
    sets = []
    real_set = cache.set
    monkeypatch.setattr(cache, "set", lambda key, *a, **k: sets.append(key) or real_set(key, *a, **k))
    first = board()
    assert len(sets) == 1 and cache.get(sets[0]) is not None  # the windows were cut and kept
    assert medians(first) == medians(board(use_rollup=False))
    with time_machine.travel(NOW - timedelta(hours=3), tick=False):
        answered_today(desk, 2)
    again = board()
    assert len(sets) == 1  # the cached windows served: only today's values were read
    assert medians(again) == medians(board(use_rollup=False))
    assert again["first_response_time"].parts["count"] == first["first_response_time"].parts["count"] + 2


@pytest.mark.django_db
def test_a_window_outgrown_by_today_is_cut_again_and_stays_exact(monkeypatch):
    desk = build_desk()
    with time_machine.travel(NOW, tick=False):
        rollup.refresh_rollup(horizon=10)
    monkeypatch.setattr(kpis.medians, "MEDIAN_MARGIN", 0)
    sets = []
    real_set = cache.set
    monkeypatch.setattr(cache, "set", lambda key, *a, **k: sets.append(key) or real_set(key, *a, **k))
    board()  # windows cut with no live value and no margin: the middle values only
    with time_machine.travel(NOW - timedelta(hours=3), tick=False):
        answered_today(desk, 5)
    assert medians(board()) == medians(board(use_rollup=False))
    assert len(sets) == 2  # the second read found its window too narrow and cut a wider one


@pytest.mark.django_db
def test_a_rebuilt_day_is_not_read_from_an_old_window():
    build_desk()
    with time_machine.travel(NOW, tick=False):
        rollup.refresh_rollup(horizon=10)
    before = medians(board())
    # Clocks rewritten (as by sla_recompute after a calendar change), then every day rebuilt.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sla_clock SET accrued_seconds = accrued_seconds + 10800 WHERE metric = 'first_response'")
    with time_machine.travel(NOW, tick=False):
        assert rollup.rebuild_all()["days"] > 0
    after = medians(board())
    assert after == medians(board(use_rollup=False))
    assert after[0] == before[0] + 10800
