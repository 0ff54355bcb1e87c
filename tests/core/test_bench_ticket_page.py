"""``make bench`` measures the ticket page as people see it: a long ticket, the knowledge base seeded,
as many gunicorn workers as ``make run`` starts (``WEB_CONCURRENCY`` honoured)."""

import argparse
import io

import pytest
from django.core.management.base import OutputWrapper
from django.db import connection

import bench.__main__ as bench_main
from bench import core, knowledgebase, reports, sla, tickets, tools
from tests.tickets.test_event_schema import check_every_stored_event
from tickets.models import MessageKind, TicketEvent


def test_workers_follow_web_concurrency(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert tools.default_workers() == 3
    monkeypatch.setenv("WEB_CONCURRENCY", "")
    monkeypatch.setattr(tools.os, "cpu_count", lambda: 2)
    assert tools.default_workers() == 5  # two per core, plus one: as helpdesk.web starts make run's
    monkeypatch.delenv("WEB_CONCURRENCY")
    assert tools.default_workers() == 5
    monkeypatch.setenv("WEB_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="WEB_CONCURRENCY"):
        tools.default_workers()


def test_the_ticket_page_is_measured_after_the_knowledge_base_is_seeded(monkeypatch):
    steps = []
    for module, names in (
        (core, ["outbox_relay", "simple_pages"]),
        (tickets, ["seed", "measure", "seeded"]),
        (knowledgebase, ["seed", "measure", "seeded"]),
        (sla, ["sweep_benchmark"]),
        (reports, ["seed", "measure", "seeded"]),
    ):
        for name in names:
            label = f"{module.__name__.split('.')[-1]}.{name}"
            monkeypatch.setattr(module, name, lambda *args, _label=label, **kwargs: steps.append(_label))
    monkeypatch.setattr(connection.creation, "create_test_db", lambda **kwargs: None)
    monkeypatch.setattr(connection.creation, "destroy_test_db", lambda *args, **kwargs: None)
    options = argparse.Namespace(
        kb_only=False, keep=False, duration=1, connections=1, tickets=10, articles=10, outbox=10
    )
    bench_main.run(OutputWrapper(io.StringIO()), options)
    assert steps.index("knowledgebase.seed") < steps.index("tickets.measure")
    assert steps.index("tickets.seed") < steps.index("tickets.measure")


@pytest.mark.django_db
def test_the_long_ticket_holds_50_messages_and_200_events_of_the_schemas(agent, requester):
    ticket = tickets.long_ticket(agent, requester)
    assert ticket.subject == tickets.PAGE_SUBJECT
    assert ticket.messages.count() == tickets.PAGE_MESSAGES == 50
    assert ticket.messages.filter(kind=MessageKind.INTERNAL).exists()
    assert TicketEvent.objects.filter(ticket=ticket).count() == tickets.PAGE_EVENTS == 200
    check_every_stored_event()
    # Found again on a kept database, not made twice.
    assert tickets.long_ticket(agent, requester).pk == ticket.pk
    assert TicketEvent.objects.filter(ticket=ticket).count() == 200
