"""Several threads, each with its own database connection, racing on the same tickets."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests import factories
from tickets import services
from tickets.models import EventKind, Ticket, TicketEvent, Tier

pytestmark = pytest.mark.django_db(transaction=True)


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
