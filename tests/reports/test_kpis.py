"""Every KPI to the exact value over a hand-built history (tests/reports/histories.py).

Period Monday-Wednesday, read on Thursday 12:00 (UTC, office hours 09:00-17:00, P3 targets).
"""

from datetime import date
from fractions import Fraction

import pytest
import time_machine
from django.core.exceptions import ValidationError

from reports import kpis, rollup
from tests.reports.histories import NOW, PERIOD, at, build_desk
from tickets import services

pytestmark = pytest.mark.django_db

H = 3600


@pytest.fixture
def desk(db):
    return build_desk()


def board(scope=None, period=PERIOD, use_rollup=True):
    with time_machine.travel(NOW, tick=False):
        snap = kpis.snapshot(scope or kpis.Scope(), period, use_rollup=use_rollup)
        return snap, kpis.all_figures(snap)


def test_every_figure_to_the_exact_value(desk):
    _, f = board()
    frt = f["first_response_time"].parts
    # T1 1 h (wall 1 h), T2 Mon 16-17 + Tue 9-10 = 2 h (wall 18 h), T3 2 h (wall 2 h).
    assert frt == {"median": 2 * H, "mean": 6000, "wall_median": 2 * H, "wall_mean": 25200, "count": 3}
    # Resolution: T1 3 h, T2 1 h + 6 h = 7 h, T3 8 h + 0.5 h = 8.5 h (business, first resolution).
    assert f["resolution_time"].parts == {"median": 7 * H, "mean": 22200, "count": 3}
    assert f["fcr_rate"].value == Fraction(1, 3)  # T1 only (T2: requester wrote back; T3: escalated)
    assert f["reopen_rate"].value == Fraction(1, 3)  # T3
    # Response targets: FR of T1, T2, T3 met, T2's next response met, T4's FR came due unmet.
    assert f["sla_response"].parts == {"numerator": 4, "denominator": 5}
    # Resolution targets: the three first resolutions met; T3's second cycle and T4 not yet due.
    assert f["sla_resolution"].parts == {"numerator": 3, "denominator": 3}
    assert f["csat"].value == Fraction(1, 2)
    assert f["csat"].parts == {
        "happy": 1,
        "answered": 2,
        "surveys": 3,
        "mean_score": 3.5,
        "response_rate": Fraction(2, 3),
    }
    # Backlog at Wednesday's end: T3 (39 h old) and T4 (15 h old).
    assert f["backlog"].parts == {"lt1d": 1, "1to3d": 1, "3to7d": 0, "gt7d": 0, "total": 2}
    assert f["backlog"].previous == 0
    assert [v for _, v in f["backlog"].trend] == [1, 1, 2]
    assert f["escalation_rate"].value == Fraction(1, 4)
    assert f["escalation_rate"].parts["per_tier"] == {
        1: {"escalated": 1, "entered": 4, "rate": Fraction(1, 4)},
        2: {"escalated": 0, "entered": 1, "rate": Fraction(0)},
        3: {"escalated": 0, "entered": 0, "rate": None},
    }
    assert f["deflection_rate"].value == Fraction(2, 4)
    assert f["deflection_rate"].parts == {"deflections": 2, "portal_tickets": 2}
    assert f["volume"].parts == {"total": 4, "by_channel": {"email": 1, "phone": 1, "portal": 2}}
    assert f["volume"].previous == 0 and f["volume"].change == 4
    assert [v for _, v in f["volume"].trend] == [2, 1, 1]
    assert [v for _, v in f["first_response_time"].trend] == [H, 2 * H, None]


def test_scope_filters_use_the_tickets_attributes_now(desk):
    _, f = board(kpis.Scope(assignee_id=desk.a1.pk))
    assert f["volume"].value == 2 and f["fcr_rate"].value == Fraction(1, 2)
    _, f = board(kpis.Scope(tier=2))
    assert f["volume"].value == 1 and f["backlog"].value == 1 and f["reopen_rate"].value == 1
    _, f = board(kpis.Scope(channel="portal"))
    assert f["volume"].value == 2 and f["deflection_rate"].value == Fraction(1, 2)  # desk-wide


def test_agent_and_tier_tables(desk):
    with time_machine.travel(NOW, tick=False):
        board_ = kpis.dashboard(kpis.Scope(), PERIOD)
    agents = {row.label: row for row in board_.agents}
    assert set(agents) == {desk.a1.get_full_name(), desk.a2.get_full_name(), "Unassigned"}
    alice = agents[desk.a1.get_full_name()]
    assert (alice.created, alice.resolved, alice.fcr) == (2, 2, Fraction(1, 2))
    assert (alice.frt_mean, alice.backlog) == (1.5 * H, 0)
    assert agents["Unassigned"].backlog == 1 and agents[desk.a2.get_full_name()].backlog == 1
    tiers = {row.key: row for row in board_.tiers}
    assert (tiers[1].created, tiers[2].created, tiers[2].res_mean) == (3, 1, 8.5 * H)


def test_tickets_behind_the_figures(desk):
    def ids(key, scope=None):
        with time_machine.travel(NOW, tick=False):
            from django.db import connection

            sql, params = kpis.tickets_behind_sql(key, scope or kpis.Scope(), PERIOD)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return {row[0] for row in cursor.fetchall()}

    assert ids("backlog") == {desk.t3.pk, desk.t4.pk}
    assert ids("backlog_lt1d") == {desk.t4.pk}
    assert ids("fcr") == {desk.t1.pk}
    assert ids("reopened") == {desk.t3.pk}
    assert ids("sla_response_missed") == {desk.t4.pk}
    assert ids("created", kpis.Scope(channel="email")) == {desk.t2.pk}
    assert ids("escalated_1") == {desk.t3.pk}


def test_rollup_equals_live_and_stays_exact_after_a_change(desk):
    live = board(use_rollup=False)[1]
    with time_machine.travel(NOW, tick=False):
        result = rollup.refresh_rollup(horizon=10)
    assert result["days"] == 10 and result["rows"] > 0
    from reports.models import DirtyDay, RollupDay

    assert RollupDay.objects.filter(day__range=(date(2026, 3, 2), date(2026, 3, 4))).count() == 3
    assert not DirtyDay.objects.exists()
    rolled = board()[1]
    assert {k: v.__dict__ for k, v in rolled.items()} == {k: v.__dict__ for k, v in live.items()}
    # T1 is reopened on Thursday: its Monday to Wednesday are marked dirty and read live again.
    with time_machine.travel(at(3, 11), tick=False):
        services.reopen_ticket(ticket_id=desk.t1.pk, by=desk.a1, reason="Again")
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)}
    after = board()[1]
    assert after["fcr_rate"].value == 0 and after["reopen_rate"].value == Fraction(2, 3)
    assert {k: v.__dict__ for k, v in after.items()} == {k: v.__dict__ for k, v in board(use_rollup=False)[1].items()}
    with time_machine.travel(NOW, tick=False):
        assert rollup.refresh_rollup(horizon=10)["days"] == 3
        assert rollup.refresh_rollup(horizon=10)["days"] == 0  # a second run changes nothing
    assert {k: v.__dict__ for k, v in board()[1].items()} == {k: v.__dict__ for k, v in after.items()}


def test_periods():
    with time_machine.travel(NOW, tick=False):
        assert kpis.make_period("today") == kpis.Period(date(2026, 3, 5), date(2026, 3, 5), "today")
        seven = kpis.make_period("7d")
        assert (seven.first, seven.last) == (date(2026, 2, 27), date(2026, 3, 5))
        assert seven.previous() == kpis.Period(date(2026, 2, 20), date(2026, 2, 26), "7d")
        bad_periods = [
            ("custom", None, None),
            ("custom", date(2026, 3, 5), date(2026, 3, 1)),
            ("custom", date(2026, 3, 1), date(2026, 3, 9)),
            ("year", None, None),
        ]
        for bad in bad_periods:
            with pytest.raises(ValidationError):
                kpis.make_period(*bad)
