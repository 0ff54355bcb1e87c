"""Several threads, each with its own database connection, racing on the same tickets."""

import itertools
import threading
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.test import APIClient

from helpdesk.core.db import ATTEMPTS, TransactionConflict
from helpdesk.core.models import OutboxMessage
from sla import configure
from sla import services as sla_services
from sla.defaults import ensure_defaults
from sla.models import Clock, ClockState, Policy
from sla.tasks import recompute_open_task
from tests import db_faults, factories
from tests.tickets.ticket_page_helpers import page_text, snapshot, url
from tickets import services
from tickets.models import EventKind, Status, Ticket, TicketEvent, Tier

pytestmark = pytest.mark.django_db(transaction=True)
inject_deadlock = db_faults.inject_deadlock  # the fixture, for this module's tests


def run_threads(target, count: int) -> list:
    results: list = []
    errors: list = []
    start = threading.Barrier(count)

    def worker(n):
        try:
            start.wait(10)
            results.append(target(n))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_take_next_never_gives_a_ticket_twice():
    agents = [factories.make_agent(1) for _ in range(6)]
    tickets = [factories.make_ticket() for _ in range(4)]

    def take(n):
        ticket = services.take_next(by=agents[n])
        return ticket.pk if ticket else None

    results, errors = run_threads(take, len(agents))
    assert errors == []
    claimed = [pk for pk in results if pk is not None]
    assert sorted(claimed) == sorted(t.pk for t in tickets)  # each ticket once, none twice
    assert results.count(None) == 2
    assignees = dict(Ticket.objects.values_list("pk", "assignee_id"))
    assert len(set(assignees.values())) == 4
    assert TicketEvent.objects.filter(kind=EventKind.ASSIGNED).count() == 4


def test_concurrent_escalations_lose_no_event():
    agents = [factories.make_agent(1, 2, 3) for _ in range(3)]
    ticket = factories.make_ticket()

    def escalate(n):
        return services.escalate_ticket(ticket_id=ticket.pk, by=agents[n], reason=f"note {n}").tier

    results, errors = run_threads(escalate, 3)
    # Row locks serialise them: 1 -> 2, 2 -> 3, and the third finds tier 3, whose next step
    # (tier 4) needs a vendor, so it is refused cleanly.
    assert sorted(results) == [2, 3]
    assert [str(e.messages[0]) for e in errors] == ["Escalating to tier 4 needs the vendor."]
    ticket.refresh_from_db()
    moves = list(TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED).order_by("id"))
    assert [(e.data["from"], e.data["to"]) for e in moves] == [(1, 2), (2, 3)]
    assert ticket.tier == Tier.T3


def test_concurrent_claims_have_one_winner():
    agents = [factories.make_agent(1) for _ in range(5)]
    ticket = factories.make_ticket()

    def claim(n):
        return services.claim_ticket(ticket_id=ticket.pk, by=agents[n]).assignee_id

    results, errors = run_threads(claim, 5)
    assert len(results) == 1
    assert len(errors) == 4 and all(isinstance(e, ValidationError) for e in errors)
    ticket.refresh_from_db()
    assert ticket.assignee_id == results[0]
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED).count() == 1


# --------------------------------------------------------------------------- every pair of actions on one ticket
#
# Each pair runs on a fresh incident T (P1, so its SLA lines are near) whose problem P is older
# (lower id): linking T to P locks two tickets, the recompute locks every open ticket in turn
# and the sweep finds clocks before tickets -- the three ways locks used to be taken out of
# order. Everyone acts as a manager, who may do everything, so the only refusals left are the
# lifecycle's own (e.g. escalating a ticket the other thread just resolved).

REFUSALS = (ValidationError, TransactionConflict)
CLOCK_FIELDS = ["metric", "scope", "cycle", "state", "target_seconds", "started_at", "due_at", "warn_at", "ended_at"]


@dataclass
class Scene:
    ticket: int
    problem: int
    deadline: datetime
    manager: object
    agent: object


def _edit_policy_and_recompute(scene: Scene) -> None:
    """A manager saves the default policy; the worker then runs the recompute it queued."""
    policy = Policy.objects.prefetch_related("targets").get(is_default=True)
    configure.save_policy(policy_id=policy.pk, data=configure.PolicyInput.of(policy))
    message = OutboxMessage.objects.filter(task=sla_services.RECOMPUTE_TASK).latest("pk")
    recompute_open_task(**message.kwargs, outbox_id=message.pk)


ACTIONS = {
    "transition": lambda s: services.change_status(ticket_id=s.ticket, by=s.manager, status=Status.PENDING_REQUESTER),
    "link-problem": lambda s: services.link_to_problem(incident_id=s.ticket, problem_id=s.problem, by=s.manager),
    "open-swarm": lambda s: services.open_swarm(ticket_id=s.ticket, by=s.manager),
    "escalate": lambda s: services.escalate_ticket(ticket_id=s.ticket, by=s.manager, reason="needs tier 2"),
    "resolve": lambda s: services.resolve_ticket(ticket_id=s.ticket, by=s.manager, resolution_note="fixed"),
    "assign": lambda s: services.assign_ticket(ticket_id=s.ticket, by=s.manager, assignee=s.agent),
    "reply": lambda s: services.add_reply(ticket_id=s.ticket, by=s.manager, body="Looking at it."),
    "sla-recompute": _edit_policy_and_recompute,
    "sweep": lambda s: sla_services.sweep(now=s.deadline),
}
PAIRS = list(itertools.combinations_with_replacement(ACTIONS, 2))


def _scene(manager, agent) -> Scene:
    problem = factories.make_ticket(subject="Mail server down", impact="high", urgency="high")
    ticket = factories.make_ticket(subject="No mail", impact="high", urgency="high")
    return Scene(ticket.pk, problem.pk, ticket.sla_due_at, manager, agent)


def _clock_rows(ticket_id: int) -> list[tuple]:
    return sorted(
        (*(getattr(c, f) for f in CLOCK_FIELDS), round(c.accrued_seconds, 3))
        for c in Clock.objects.filter(ticket_id=ticket_id)
    )


def _replayed_rows(ticket: Ticket) -> list[tuple]:
    return sorted(
        (*(getattr(r, f) for f in CLOCK_FIELDS), round(r.accrued_seconds, 3))
        for r in sla_services.replay_ticket(ticket)
    )


def _check_and_retire(scene: Scene, pair: tuple) -> None:
    """Every clock of the pair's tickets equals its replay from the history, and so does the queue summary."""
    for pk in (scene.ticket, scene.problem):
        ticket = Ticket.objects.get(pk=pk)
        assert _clock_rows(pk) == _replayed_rows(ticket), (pair, pk)
        running = [c.due_at for c in Clock.objects.filter(ticket_id=pk, state=ClockState.RUNNING)]
        assert ticket.sla_due_at == min(running, default=None), (pair, pk)
        if ticket.is_open:  # checked: resolved, so the next recomputes walk only the next pair's
            services.resolve_ticket(ticket_id=pk, by=scene.manager, resolution_note="checked")


def deadlocks_so_far() -> int:
    """Deadlocks PostgreSQL detected in this database (threads' stats are flushed as their connections close)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_every_pair_of_actions_on_one_ticket_ends_consistent():
    ensure_defaults()  # the SLA policy (transactional tests before this one emptied the tables)
    manager, agent = factories.make_manager(), factories.make_agent(1, 2, 3)
    deadlocks = deadlocks_so_far()
    unexpected, conflicts, ran = [], [], 0
    for pair in PAIRS:
        scene = _scene(manager, agent)
        results, errors = run_threads(lambda n, pair=pair, scene=scene: ACTIONS[pair[n]](scene), 2)
        ran += len(results)
        unexpected += [(pair, repr(e)) for e in errors if not isinstance(e, REFUSALS)]
        conflicts += [pair for e in errors if isinstance(e, TransactionConflict)]
        _check_and_retire(scene, pair)
    assert unexpected == []
    assert conflicts == []
    # Not one deadlock to retry: the locks were taken in order (a retry would hide a wrong one).
    assert deadlocks_so_far() == deadlocks
    assert ran >= len(PAIRS)  # most pairs both succeed; a refusal is the lifecycle's own rule


# Changes of two tickets, named in either order: problem P (older) and its incident T.
TWO_TICKET_ACTIONS = {
    "relate P-T": lambda s: services.link_related(ticket_id=s.problem, other_id=s.ticket, by=s.manager),
    "relate T-P": lambda s: services.link_related(ticket_id=s.ticket, other_id=s.problem, by=s.manager),
    "link T to P": lambda s: services.link_to_problem(incident_id=s.ticket, problem_id=s.problem, by=s.manager),
    "resolve P and its incidents": lambda s: services.resolve_ticket(
        ticket_id=s.problem, by=s.manager, resolution_note="fixed", resolve_incidents=True
    ),
    "merge T into P": lambda s: services.merge_tickets(duplicate_id=s.ticket, into_id=s.problem, by=s.manager),
    "merge P into T": lambda s: services.merge_tickets(duplicate_id=s.problem, into_id=s.ticket, by=s.manager),
}


def test_changes_of_two_tickets_in_either_order_never_deadlock():
    ensure_defaults()
    manager, agent = factories.make_manager(), factories.make_agent(1, 2, 3)
    deadlocks = deadlocks_so_far()
    unexpected = []
    for pair in itertools.combinations_with_replacement(TWO_TICKET_ACTIONS, 2):
        scene = _scene(manager, agent)
        services.link_to_problem(incident_id=scene.ticket, problem_id=scene.problem, by=manager)
        _, errors = run_threads(lambda n, pair=pair, scene=scene: TWO_TICKET_ACTIONS[pair[n]](scene), 2)
        unexpected += [(pair, repr(e)) for e in errors if not isinstance(e, ValidationError)]
        _check_and_retire(scene, pair)
    assert unexpected == []
    assert deadlocks_so_far() == deadlocks


API_ACTIONS = {
    "transition": lambda s: ("transition", {"status": Status.PENDING_REQUESTER}),
    "link-problem": lambda s: ("link-problem", {"problem": s.problem}),
    "open-swarm": lambda s: ("open-swarm", {}),
    "escalate": lambda s: ("escalate", {"reason": "needs tier 2"}),
    "resolve": lambda s: ("resolve", {"resolution_note": "fixed"}),
}


def test_every_pair_of_api_actions_on_one_ticket_answers_without_a_500():
    """The manager actions that answered 500 (the service-level test above covers the rest)."""
    ensure_defaults()
    manager, agent = factories.make_manager(), factories.make_agent(1, 2, 3)
    deadlocks = deadlocks_so_far()
    answers: list[tuple] = []

    def post(scene: Scene, name: str) -> int:
        client = APIClient()
        client.force_authenticate(manager)
        action, body = API_ACTIONS[name](scene)
        response = client.post(f"/api/tickets/{scene.ticket}/{action}/", body, format="json")
        assert response["Content-Type"].startswith("application/json")
        return response.status_code

    for pair in itertools.combinations_with_replacement(API_ACTIONS, 2):
        scene = _scene(manager, agent)
        results, errors = run_threads(lambda n, pair=pair, scene=scene: (pair[n], post(scene, pair[n])), 2)
        assert errors == [], pair
        answers += [(pair, name, code) for name, code in results]
        _check_and_retire(scene, pair)
    assert [a for a in answers if a[2] >= 500] == []
    # A refusal is the lifecycle's own (400), e.g. escalating what the other thread resolved.
    assert {code for *_, code in answers} <= {200, 201, 400}
    assert deadlocks_so_far() == deadlocks


# --------------------------------------------------------------------------- a deadlock reported by PostgreSQL


def test_a_deadlocked_change_runs_again_and_happens_once(inject_deadlock):
    ensure_defaults()  # the SLA policy, so the ticket has clocks to pause
    manager, ticket = factories.make_manager(), factories.make_ticket()
    inject_deadlock("tickets_ticket", when="n <= 2")  # the first two runs are aborted
    services.change_status(ticket_id=ticket.pk, by=manager, status=Status.PENDING_REQUESTER)
    assert db_faults.calls() > 2  # two aborted runs, then the one that wrote
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_REQUESTER
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED).count() == 1
    assert Clock.objects.filter(ticket=ticket, state=ClockState.PAUSED).exists()  # the SLA followed once


def test_a_change_that_keeps_deadlocking_is_refused_and_writes_nothing(inject_deadlock):
    manager, ticket, problem = factories.make_manager(), factories.make_ticket(), factories.make_ticket()
    before = snapshot(ticket)
    # After both tickets exist: creating one updates its row too (the SLA summary).
    inject_deadlock("tickets_ticket")
    with pytest.raises(TransactionConflict):
        services.link_to_problem(incident_id=ticket.pk, problem_id=problem.pk, by=manager)
    assert db_faults.calls() == ATTEMPTS
    assert snapshot(ticket) == before


def test_the_api_answers_409_with_a_json_detail_never_500(inject_deadlock):
    manager, ticket = factories.make_manager(), factories.make_ticket()
    before = snapshot(ticket)
    inject_deadlock("tickets_ticket")
    client = APIClient()
    client.force_authenticate(manager)
    response = client.post(f"/api/tickets/{ticket.pk}/transition/", {"status": "open"}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/json")
    assert "nothing was saved" in response.json()["detail"]
    assert snapshot(ticket) == before


def test_the_ticket_page_says_nothing_was_saved(client, inject_deadlock):
    manager, ticket = factories.make_manager(), factories.make_ticket()
    before = snapshot(ticket)
    inject_deadlock("tickets_ticket")
    client.force_login(manager)
    response = client.post(url(ticket, "escalate"), {"reason": "Needs the network team", "to_tier": "2"})
    assert response.status_code < 500
    assert snapshot(ticket) == before
    page = client.get(url(ticket))
    assert "nothing was saved" in page_text(page)
    assert "Needs the network team" in page.content.decode()  # what was typed is kept
