"""The sweep under concurrency, rebuilt clocks against live ones, and the real Celery worker."""

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction

from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import relay_outbox
from sla import services as sla
from sla.models import Clock, ClockEvent, Policy
from sla.tasks import sweep_task
from tests import factories
from tests.conftest import wait_until
from tests.mailfiles import mails_in
from tickets import services
from tickets.models import EventKind, Status, Ticket, TicketEvent

START = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _p1_tickets(count: int) -> list[Ticket]:
    requester = factories.make_requester()
    with time_machine.travel(START, tick=False):
        return [factories.make_ticket(requester, impact="high", urgency="high") for _ in range(count)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_record_each_crossing_once():
    tickets = _p1_tickets(30)  # 3 clocks each, all crossed at 20:00
    now = START + timedelta(hours=12)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            results.append(sla.sweep(now=now, batch=7))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    clocks = 3 * len(tickets)
    assert sum(r["warning"] for r in results) == clocks
    assert sum(r["breached"] for r in results) == clocks
    assert ClockEvent.objects.count() == 2 * clocks
    assert OutboxMessage.objects.filter(task=sla.CLOCK_EVENT_TASK).count() == 2 * clocks
    assert TicketEvent.objects.filter(kind=EventKind.SLA).count() == 2 * clocks
    assert sla.sweep(now=now) == {"warning": 0, "breached": 0}


def _random_history(rng: random.Random, people: dict, ticket: Ticket, start: datetime) -> None:
    """Drive ``ticket`` through a random but legal sequence of changes, minutes to days apart."""
    now = start
    vendor = people["vendor"]
    for _ in range(rng.randint(3, 12)):
        now += timedelta(minutes=rng.choice([5, 30, 90, 240, 600, 1500, 3000]))
        ticket.refresh_from_db()
        agent = people["manager"]
        choices = []
        if ticket.is_open:
            choices += ["reply", "note", "requester", "priority", "resolve"]
            choices += ["wait"] if ticket.status in (Status.NEW, Status.OPEN) else ["open"]
            if ticket.tier < 3:
                choices.append("escalate")
            elif ticket.tier == 3:
                choices.append("vendor")
            if ticket.tier > 1:
                choices.append("deescalate")
        elif ticket.status == Status.RESOLVED:
            choices += ["reopen"]
        else:
            return
        action = rng.choice(choices)
        with time_machine.travel(now, tick=False):
            if action == "reply":
                services.add_reply(ticket_id=ticket.pk, by=agent, body="An answer")
            elif action == "note":
                services.add_note(ticket_id=ticket.pk, by=agent, body="A note")
            elif action == "requester":
                services.add_reply(ticket_id=ticket.pk, by=ticket.requester, body="More details")
            elif action == "priority":
                level = rng.choice(["low", "medium", "high"])
                services.change_priority(ticket_id=ticket.pk, by=agent, impact=level, urgency="high", reason="")
            elif action == "resolve":
                services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed")
            elif action == "wait":
                services.change_status(ticket_id=ticket.pk, by=agent, status=Status.PENDING_REQUESTER)
            elif action == "open":
                services.change_status(ticket_id=ticket.pk, by=agent, status=Status.OPEN)
            elif action == "escalate":
                services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="Up")
            elif action == "vendor":
                services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="To vendor", vendor=vendor)
            elif action == "deescalate":
                services.deescalate_ticket(ticket_id=ticket.pk, by=agent, reason="Down")
            elif action == "reopen":
                services.reopen_ticket(ticket_id=ticket.pk, by=agent, reason="Again")


FIELDS = ["metric", "scope", "cycle", "state", "target_seconds", "started_at", "due_at", "warn_at", "ended_at"]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(12))
def test_rebuilt_clocks_equal_the_live_ones_after_random_histories(seed):
    rng = random.Random(seed)
    people = {"manager": factories.make_manager(), "vendor": factories.VendorFactory(name=f"Vendor {seed}")}
    factories.make_agent(1, 2, 3)
    start = START + timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
    with time_machine.travel(start, tick=False):
        ticket = factories.make_ticket(
            impact=rng.choice(["low", "medium", "high"]), urgency=rng.choice(["low", "medium", "high"])
        )
    _random_history(rng, people, ticket, start)

    def snapshot():
        return sorted(
            (tuple(getattr(c, f) for f in FIELDS), round(c.accrued_seconds, 3))
            for c in Clock.objects.filter(ticket=ticket)
        )

    live = snapshot()
    assert live, "the history started clocks"
    Clock.objects.filter(ticket=ticket).delete()
    with transaction.atomic():
        sla.sync_ticket_clocks(Ticket.objects.select_related("requester").get(pk=ticket.pk))
    assert snapshot() == live


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_breach_end_to_end_through_redis_and_the_worker(celery_worker_process):
    """A P1 ticket whose lines passed: the worker's sweep records them once, mails once, escalates once."""
    Policy.objects.filter(is_default=True).update(escalate_on_breach=True)
    sla.bump_settings_version()
    manager = factories.make_manager(email="boss@example.com")
    factories.make_agent(1, email="first-line@example.com")
    factories.make_agent(2, email="second-line@example.com")
    requester = factories.make_requester()
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=5)):
        ticket = factories.make_ticket(requester, subject="Core switch down", impact="high", urgency="high")
    OutboxMessage.objects.all().delete()  # the "received" mail is not what this test follows

    # The sweep runs in the worker, sent through Redis as beat sends it every minute.
    assert sweep_task.delay().get(timeout=30) == {"warning": 3, "breached": 3}
    assert sweep_task.delay().get(timeout=30) == {"warning": 0, "breached": 0}
    assert relay_outbox() == 6

    def all_done():
        return not OutboxMessage.objects.exclude(status=OutboxMessage.Status.DONE).exists()

    sla_actions = OutboxMessage.objects.filter(task=sla.CLOCK_EVENT_TASK)
    wait_until(
        lambda: not sla_actions.exclude(status=OutboxMessage.Status.DONE).exists(),
        timeout=60,
        message="every SLA action done by the worker",
    )
    # The escalation the worker made queued its own notice to tier 2, relayed as beat would.
    assert relay_outbox() == 1
    wait_until(all_done, timeout=60, message="the escalation notice sent")
    ticket.refresh_from_db()
    assert ticket.tier == 2
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED).count() == 1
    tier2 = Clock.objects.get(ticket=ticket, metric="ola", scope=2)
    assert tier2.state == "running" and tier2.due_at > tier2.started_at
    assert ClockEvent.objects.filter(ticket=ticket).count() == 6

    mails = mails_in(celery_worker_process.mail_dir)
    ours = [m for m in mails if ticket.reference in m["Subject"]]
    breach_mails = [m for m in ours if "SLA breached" in m["Subject"]]
    warning_mails = [m for m in ours if "about to breach" in m["Subject"]]
    assert len(breach_mails) == 3 and len(warning_mails) == 3
    assert all(manager.email in m["To"] for m in breach_mails)

    # Nothing more happens on the next sweep and relay: each line fired once.
    assert sweep_task.delay().get(timeout=30) == {"warning": 0, "breached": 0}
    assert relay_outbox() == 0
    assert connection.vendor == "postgresql"
