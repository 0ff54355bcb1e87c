"""Events written in bulk (the auto-close, the SLA sweep) are announced like single ones: each once.

A receiver of this module's own listens to ``tickets.events.ticket_events`` next to the apps'
receivers (``sla``, ``reports``) and keeps every batch it hears.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import kpis, rollup
from reports.models import DirtyDay
from sla import services as sla
from tests import factories
from tests.reports.histories import MONDAY, NOW, PERIOD, build_desk
from tests.sla.test_sweep_and_rebuild import START, _p1_tickets
from tickets import events, services
from tickets.events import record_events_bulk, ticket_events
from tickets.models import EventKind, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """Every batch announced while the test runs, as lists of events."""
    batches: list[list[TicketEvent]] = []

    def listen(sender, events, **kwargs):
        batches.append(list(events))

    ticket_events.connect(listen, dispatch_uid="test-bulk-events")
    yield batches
    ticket_events.disconnect(dispatch_uid="test-bulk-events")


def _pks(batches: list[list[TicketEvent]]) -> list[int]:
    return sorted(e.pk for batch in batches for e in batch)


def test_a_batch_is_one_insert_and_one_announcement_with_the_tickets_loaded(heard):
    first, second = factories.make_ticket(), factories.make_ticket()
    heard.clear()  # the CREATED events
    now = timezone.now()
    line = {"metric": "resolution", "scope": 0, "cycle": 1, "due": now, "at": now}
    batch = [
        events.sla_crossed(first.pk, crossing="warning", **line),
        events.sla_crossed(second.pk, crossing="warning", **line),
        events.sla_crossed(first.pk, crossing="breached", **line),
    ]
    with CaptureQueriesContext(connection) as queries:
        written = record_events_bulk(batch)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "tickets_ticketevent"')]
    assert len(inserts) == 1
    assert len(heard) == 1 and _pks(heard) == sorted(e.pk for e in written)
    assert TicketEvent.objects.filter(kind=EventKind.SLA).count() == 3
    # Receivers read event.ticket without a query per event.
    with CaptureQueriesContext(connection) as reads:
        assert {e.ticket.reference for e in heard[0]} == {first.reference, second.reference}
    assert len(reads.captured_queries) == 0


def test_a_batch_of_sla_events_costs_the_same_statements_whatever_its_size():
    tickets = [factories.make_ticket() for _ in range(6)]

    def statements(some: list[Ticket]) -> int:
        with CaptureQueriesContext(connection) as queries:
            now = timezone.now()
            line = {"metric": "resolution", "scope": 0, "cycle": 1, "due": now, "at": now}
            record_events_bulk([events.sla_crossed(t.pk, crossing="warning", **line) for t in some])
        return len(queries.captured_queries)

    assert statements(tickets[:1]) == statements(tickets)


def test_the_auto_close_announces_each_of_its_events_once(heard, settings):
    settings.TICKET_REOPEN_WINDOW_DAYS = 7
    agent = factories.make_agent(1)
    tickets = [factories.make_ticket() for _ in range(3)]
    for ticket in tickets:
        services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="fixed")
    heard.clear()
    later = timezone.now() + timedelta(days=8)
    assert services.close_expired_resolved(now=later) == 3
    written = TicketEvent.objects.filter(at=later)
    assert sorted(written.values_list("kind", flat=True)) == [EventKind.CLOSED] * 3 + [EventKind.STATUS_CHANGED] * 3
    assert len(heard) == 1  # one batch
    assert _pks(heard) == sorted(written.values_list("pk", flat=True))  # each event, once
    assert len(_pks(heard)) == 6
    assert services.close_expired_resolved(now=later) == 0
    assert len(heard) == 1  # the second run writes and announces nothing


def test_the_auto_close_marks_the_closed_days_of_the_rollup_dirty():
    """The bug this fixes: the auto-close wrote its events unannounced, so the rollup kept stale days."""
    desk = build_desk()  # resolved Monday to Wednesday; the rollup is built on Thursday
    with time_machine.travel(NOW, tick=False):
        rollup.refresh_rollup(horizon=10)
    assert not DirtyDay.objects.exists()
    later = NOW + timedelta(days=8)  # every resolution's reopen window has ended
    with time_machine.travel(later, tick=False):
        closed = services.close_expired_resolved()
    desk_tickets = [desk.t1.pk, desk.t2.pk, desk.t3.pk, desk.t4.pk]
    assert closed == Ticket.objects.filter(pk__in=desk_tickets, status=Status.CLOSED).count()
    assert Ticket.objects.get(pk=desk.t1.pk).status == Status.CLOSED  # created Monday, resolved Monday
    dirty = set(DirtyDay.objects.values_list("day", flat=True))
    # From the oldest closed ticket's creation (Monday) to the day before the close.
    last = (later - timedelta(days=1)).date()
    assert dirty == {MONDAY.date() + timedelta(days=n) for n in range((last - MONDAY.date()).days + 1)}
    # Read through the rollup, every figure still equals the live one.
    with time_machine.travel(later, tick=False):
        rolled = kpis.all_figures(kpis.snapshot(kpis.Scope(), PERIOD, use_rollup=True))
        live = kpis.all_figures(kpis.snapshot(kpis.Scope(), PERIOD, use_rollup=False))
    assert {k: v.__dict__ for k, v in rolled.items()} == {k: v.__dict__ for k, v in live.items()}


def test_each_crossing_of_the_sweep_is_announced_once(heard):
    tickets = _p1_tickets(3)  # three clocks each, both lines crossed by 20:00
    heard.clear()
    recorded = sla.sweep(now=START + timedelta(hours=12), batch=4)
    assert recorded == {"warning": 9, "breached": 9}
    written = TicketEvent.objects.filter(ticket__in=tickets, kind=EventKind.SLA)
    assert _pks(heard) == sorted(written.values_list("pk", flat=True))
    assert len(_pks(heard)) == 18
    assert all(len(batch) <= 4 for batch in heard)
    event = written.filter(data__sla="breached").first()
    assert event.internal and event.actor_id is None
    assert set(event.data) == {"sla", "metric", "scope", "cycle", "due"}


def test_the_sweeps_statement_count_does_not_grow_with_the_crossings():
    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            recorded = sla.sweep(now=START + timedelta(hours=12))
        assert recorded["breached"] > 0
        return len(queries.captured_queries)

    _p1_tickets(1)
    few = statements()
    _p1_tickets(5)
    assert statements() == few


def test_the_auto_closes_statement_count_does_not_grow_with_the_tickets(settings):
    settings.TICKET_REOPEN_WINDOW_DAYS = 7
    agent = factories.make_agent(1)

    def close(count: int, days: int) -> int:
        for ticket in [factories.make_ticket() for _ in range(count)]:
            services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="fixed")
        with CaptureQueriesContext(connection) as queries:
            assert services.close_expired_resolved(now=timezone.now() + timedelta(days=days)) == count
        return len(queries.captured_queries)

    # The receivers take the batch as a set: sla replays its tickets together, reports marks once.
    assert close(1, 8) == close(4, 9)
