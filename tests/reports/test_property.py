"""The SQL figures against a plain-Python reference computed from the raw rows, over random histories.

Seeded random histories go through the real ticket services under a frozen clock; the reference
re-derives every component from the definitions in ``reports.kpis`` (events, clocks, surveys).
"""

import random
import statistics
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from reports import kpis, rollup
from reports.models import Survey
from reports.surveys import answer_survey
from sla.models import Clock
from tests import factories
from tickets import services
from tickets.models import OPEN_STATUSES, Channel, EventKind, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 8, tzinfo=UTC)
ACTIONS = ["agent", "agent", "requester", "pending", "escalate", "resolve", "resolve", "reopen", "survey"]
COUNTS = ["created", "resolved", "fcr", "reopened", "escalated", "resp_due", "resp_met", "res_due", "res_met"]
COUNTS += ["surveys", "answered", "happy", "entered_1", "esc_from_1"]


def random_history(rng: random.Random) -> datetime:
    requester = factories.make_requester()
    agents = {1: factories.make_agent(1), 2: factories.make_agent(2), 3: factories.make_agent(3)}
    manager = factories.make_manager()
    last = START
    for _ in range(rng.randint(6, 10)):
        when = START + timedelta(minutes=rng.randint(0, 5 * 24 * 60))
        channel = rng.choice(list(Channel.values))
        impact, urgency = rng.choice(["high", "medium", "low"]), rng.choice(["high", "medium", "low"])
        with time_machine.travel(when, tick=False):
            ticket = factories.make_ticket(requester, channel=channel, impact=impact, urgency=urgency)
        for _ in range(rng.randint(0, 7)):
            when += timedelta(minutes=rng.randint(5, 30 * 60))
            ticket.refresh_from_db()
            action = rng.choice(
                ["agent", "agent", "requester", "pending", "escalate", "resolve", "resolve", "reopen", "survey"]
            )
            agent = agents.get(ticket.tier, manager)
            try:
                with time_machine.travel(when, tick=False):
                    if action == "agent":
                        services.add_reply(ticket_id=ticket.pk, by=agent, body="Try this.")
                    elif action == "requester":
                        services.add_reply(ticket_id=ticket.pk, by=requester, body="Still broken.")
                    elif action == "pending":
                        services.change_status(ticket_id=ticket.pk, by=agent, status=Status.PENDING_REQUESTER)
                    elif action == "escalate":
                        services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="Deeper look")
                    elif action == "resolve":
                        services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed.")
                    elif action == "reopen":
                        services.reopen_ticket(ticket_id=ticket.pk, by=agent, reason="Not fixed")
                    elif action == "survey":
                        survey = Survey.objects.filter(ticket=ticket).order_by("-cycle").first()
                        if survey:
                            answer_survey(survey_id=survey.pk, score=rng.randint(1, 5), by=requester)
                    if action in ("agent", "escalate") and rng.random() < 0.5:
                        ticket.refresh_from_db()
                        if ticket.assignee_id is None and ticket.is_open and ticket.tier in agents:
                            services.claim_ticket(ticket_id=ticket.pk, by=agents[ticket.tier])
            except (ValidationError, PermissionDenied):
                pass
            last = max(last, when)
    return last + timedelta(hours=1)


def reference(period: kpis.Period, now: datetime, tier: int | None) -> dict:
    """Every component, from the definitions, in Python."""
    lo, hi = kpis.day_start(period.first), kpis.day_start(period.last + timedelta(days=1))
    tickets = [t for t in Ticket.objects.all() if tier is None or t.tier == tier]
    out = dict.fromkeys(
        [
            "created",
            "resolved",
            "fcr",
            "reopened",
            "escalated",
            "resp_due",
            "resp_met",
            "res_due",
            "res_met",
            "surveys",
            "answered",
            "happy",
            "backlog_end",
        ],
        0,
    )
    out |= {"frt": [], "res": [], "entered_1": 0, "esc_from_1": 0}
    for t in tickets:
        events = list(TicketEvent.objects.filter(ticket=t).order_by("at", "pk"))
        clocks = list(Clock.objects.filter(ticket=t))
        kinds = {e.kind for e in events}
        moves = [e for e in events if e.kind in (EventKind.ESCALATED, EventKind.DEESCALATED)]
        initial = moves[0].data["from"] if moves else t.tier
        if lo <= t.created_at < hi:
            out["created"] += 1
            out["escalated"] += EventKind.ESCALATED in kinds
            out["entered_1"] += initial == 1 or any(m.data["to"] == 1 for m in moves)
            out["esc_from_1"] += any(m.kind == EventKind.ESCALATED and m.data["from"] == 1 for m in moves)
        for c in clocks:
            if c.cycle == 1 and c.state == "met" and c.ended_at and lo <= c.ended_at < hi:
                if c.metric == "first_response":
                    out["frt"].append(c.accrued_seconds)
                if c.metric == "resolution":
                    out["res"].append(c.accrued_seconds)
            if c.metric in ("first_response", "next_response", "resolution"):
                met = c.state == "met" and c.due_at is None
                placed = c.ended_at if met else c.due_at
                if placed is not None and lo <= placed < hi and placed <= now:
                    kind = "res" if c.metric == "resolution" else "resp"
                    out[f"{kind}_due"] += 1
                    out[f"{kind}_met"] += met
        resolutions = [e for e in events if e.kind == EventKind.RESOLVED]
        if resolutions and lo <= resolutions[0].at < hi:
            first = resolutions[0]
            out["resolved"] += 1

            def side(e, requester_id=t.requester_id):
                return e.data.get("side") or ("requester" if e.actor_id == requester_id else "agent")

            agent_replies = [e.at for e in events if e.kind == EventKind.REPLIED and side(e) == "agent"]
            wrote_back = bool(agent_replies) and any(
                e.kind == EventKind.REPLIED and side(e) == "requester" and agent_replies[0] < e.at < first.at
                for e in events
            )
            reopened = EventKind.REOPENED in kinds
            out["reopened"] += reopened
            out["fcr"] += not (EventKind.ESCALATED in kinds or reopened or wrote_back)
        for s in Survey.objects.filter(ticket=t):
            if lo <= s.resolved_at < hi:
                out["surveys"] += 1
                out["answered"] += s.score is not None
                out["happy"] += (s.score or 0) >= 4
        end = min(hi, now)
        if t.created_at < end:
            status = Status.NEW
            for e in events:
                if e.kind == EventKind.STATUS_CHANGED and e.at < end:
                    status = e.data["to"]
            out["backlog_end"] += status in OPEN_STATUSES
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sql_figures_equal_the_python_reference(seed):
    rng = random.Random(seed)
    now = random_history(rng)
    period = kpis.Period(START.date() + timedelta(days=1), START.date() + timedelta(days=4))
    for tier in (None, 1, 2):
        ref = reference(period, now, tier)
        with time_machine.travel(now, tick=False):
            snap = kpis.snapshot(kpis.Scope(tier=tier), period)
        f = kpis.all_figures(snap)
        c = snap.current
        for name in COUNTS:
            assert c[name] == ref[name], (seed, tier, name)
        assert f["backlog"].value == ref["backlog_end"]
        assert f["first_response_time"].parts["count"] == len(ref["frt"])
        if ref["frt"]:
            assert f["first_response_time"].value == pytest.approx(statistics.median(ref["frt"]), rel=1e-12)
            assert float(f["first_response_time"].parts["mean"]) == pytest.approx(statistics.fmean(ref["frt"]))
        if ref["res"]:
            assert f["resolution_time"].value == pytest.approx(statistics.median(ref["res"]), rel=1e-12)
        assert f["fcr_rate"].value == (Fraction(ref["fcr"], ref["resolved"]) if ref["resolved"] else None)
    # And the rollup gives the very same figures as the live query.
    with time_machine.travel(now, tick=False):
        live = kpis.all_figures(kpis.snapshot(kpis.Scope(), period, use_rollup=False))
        rollup.refresh_rollup(horizon=15)
        rolled = kpis.all_figures(kpis.snapshot(kpis.Scope(), period))
    assert {k: v.__dict__ for k, v in rolled.items()} == {k: v.__dict__ for k, v in live.items()}
