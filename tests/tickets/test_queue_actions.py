"""Queue page actions: "Take next" and bulk assign / unassign / change status."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from tests import factories
from tickets.models import Status, Ticket, TicketEvent, Tier


def notes(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def last_note(response) -> tuple[str, str]:
    """The message this request added (earlier undisplayed ones stay queued in the test client)."""
    return notes(response)[-1]


def snapshot(*tickets) -> list[tuple]:
    return list(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets])
        .order_by("pk")
        .values_list("pk", "status", "assignee_id", "updated_at")
    )


# ----------------------------------------------------------------------------- take next


def test_take_next_claims_highest_priority_oldest_of_the_agents_tiers(client, db):
    now = timezone.now()
    agent = factories.make_agent(1)
    p3_oldest = factories.make_ticket(created_at=now - timedelta(days=9))
    p1_newer = factories.make_ticket(impact="high", urgency="high", created_at=now - timedelta(days=1))
    p1_older = factories.make_ticket(impact="high", urgency="high", created_at=now - timedelta(days=2))
    factories.make_ticket(impact="high", urgency="high", tier=Tier.T3, created_at=now - timedelta(days=30))
    factories.make_ticket(
        impact="high", urgency="high", created_at=now - timedelta(days=20), assignee=factories.make_agent(1)
    )
    client.force_login(agent)

    claimed = []
    for expected in (p1_older, p1_newer, p3_oldest):
        response = client.post("/queues/take-next/")
        assert response.status_code == 302
        assert response["Location"] == f"/tickets/{expected.pk}/"
        assert last_note(response) == ("success", f"You took {expected.reference}: {expected.subject}")
        expected.refresh_from_db()
        assert (expected.assignee, expected.status) == (agent, Status.OPEN)
        claimed.append(expected.pk)
    assert len(set(claimed)) == 3

    response = client.post("/queues/take-next/", {"next": "/queues/?queue=mine"})
    assert response["Location"] == "/queues/?queue=mine"
    assert last_note(response) == ("info", "No unassigned tickets in your queues")


def test_take_next_with_empty_queues_says_so(client, db):
    client.force_login(factories.make_agent(2))
    factories.make_ticket()  # tier 1: not this agent's
    response = client.post("/queues/take-next/", {"next": "https://evil.example/"})
    assert response["Location"] == "/queues/"
    assert notes(response) == [("info", "No unassigned tickets in your queues")]
    assert not Ticket.objects.filter(assignee__isnull=False).exists()


@pytest.mark.parametrize(
    ("maker", "status"),
    [(factories.make_requester, 403), (factories.make_vendor_contact, 403), (factories.make_manager, 302)],
)
def test_take_next_refused_to_those_without_a_tier(client, db, maker, status):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    client.force_login(maker())
    response = client.post("/queues/take-next/")
    assert response.status_code == status
    assert snapshot(ticket) == before


def test_take_next_is_post_only_and_needs_login(client, db):
    assert client.post("/queues/take-next/")["Location"].startswith("/accounts/login/")
    client.force_login(factories.make_agent(1))
    factories.make_ticket()
    assert client.get("/queues/take-next/").status_code == 405
    assert not Ticket.objects.filter(assignee__isnull=False).exists()


# ----------------------------------------------------------------------------- bulk


@pytest.fixture
def tier1_setup(db):
    agent = factories.make_agent(1)
    a, b = factories.make_ticket(), factories.make_ticket()
    hidden = factories.make_ticket(tier=Tier.T3)
    return agent, a, b, hidden


def test_bulk_assign_to_me_changes_visible_tickets_and_reports_the_rest(client, tier1_setup):
    agent, a, b, hidden = tier1_setup
    hidden_before = snapshot(hidden)
    client.force_login(agent)
    response = client.post(
        "/queues/bulk/",
        {"ids": [a.pk, b.pk, hidden.pk, 987654], "action": "assign_me", "next": "/queues/?queue=tier1&page=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/queues/?queue=tier1&page=1"
    for ticket in (a, b):
        ticket.refresh_from_db()
        assert ticket.assignee == agent
    assert snapshot(hidden) == hidden_before
    [(level, text)] = notes(response)
    assert level == "warning"
    assert text.startswith("2 updated")
    assert f"2 not found: {hidden.reference}, HD-987654" in text
    assert "Database" not in text  # nothing about the hidden ticket beyond the id the agent typed


def test_bulk_status_reports_refusals_without_undoing_the_others(client, tier1_setup):
    agent, a, b, _ = tier1_setup
    resolved = factories.make_ticket(status=Status.RESOLVED, resolved_at=timezone.now(), resolution_note="Fixed")
    client.force_login(agent)
    response = client.post(
        "/queues/bulk/", {"ids": [a.pk, resolved.pk, b.pk], "action": "status", "status": "pending_requester"}
    )
    for ticket in (a, b):
        ticket.refresh_from_db()
        assert ticket.status == Status.PENDING_REQUESTER
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED
    [(level, text)] = notes(response)
    assert level == "warning"
    assert text.startswith(f"2 updated, 1 refused: {resolved.reference} (")
    assert "resolved cannot be set to waiting for requester" in text

    response = client.post("/queues/bulk/", {"ids": [a.pk], "action": "status", "status": "pending_vendor"})
    a.refresh_from_db()
    assert a.status == Status.PENDING_REQUESTER
    assert last_note(response) == (
        "error",
        f"0 updated, 1 refused: {a.reference} (Only a ticket escalated to a vendor can wait for the vendor.)",
    )


def test_bulk_assign_to_an_agent_and_unassign(client, tier1_setup):
    agent, a, b, _ = tier1_setup
    colleague = factories.make_agent(1, first_name="Bea", last_name="Bauer")
    specialist = factories.make_agent(3, first_name="Sam", last_name="Special")
    client.force_login(agent)

    response = client.post("/queues/bulk/", {"ids": [a.pk, b.pk], "action": "assign", "assignee": colleague.pk})
    assert notes(response) == [("success", "2 updated")]
    assert set(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("assignee", flat=True)) == {colleague.pk}

    response = client.post("/queues/bulk/", {"ids": [a.pk], "action": "assign", "assignee": specialist.pk})
    a.refresh_from_db()
    assert a.assignee == colleague
    assert last_note(response) == ("error", f"0 updated, 1 refused: {a.reference} (Sam Special does not work tier 1.)")

    response = client.post("/queues/bulk/", {"ids": [a.pk, b.pk], "action": "unassign"})
    assert last_note(response) == ("success", "2 updated")
    assert not Ticket.objects.filter(pk__in=[a.pk, b.pk], assignee__isnull=False).exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "assign_me"},
        {"ids": ["abc"], "action": "assign_me"},
        {"ids": ["1 OR 1=1"], "action": "assign_me"},
        {"ids": ["99999999999999999999"], "action": "assign_me"},
        {"ids": ["{a}"], "action": "explode"},
        {"ids": ["{a}"], "action": "assign"},
        {"ids": ["{a}"], "action": "assign", "assignee": "nobody"},
        {"ids": ["{a}"], "action": "status"},
        {"ids": ["{a}"], "action": "status", "status": "resolved"},
        {"ids": ["{a}"], "action": "status", "status": "closed"},
    ],
)
def test_bulk_with_bad_input_changes_nothing(client, tier1_setup, data):
    agent, a, b, hidden = tier1_setup
    data = {k: [str(v).replace("{a}", str(a.pk)) for v in vs] if isinstance(vs, list) else vs for k, vs in data.items()}
    before, events = snapshot(a, b, hidden), TicketEvent.objects.count()
    client.force_login(agent)
    response = client.post("/queues/bulk/", data)
    assert response.status_code == 302
    assert snapshot(a, b, hidden) == before
    assert TicketEvent.objects.count() == events
    [(level, text)] = notes(response)
    assert level == "error" and text.startswith("Nothing changed:")


@pytest.mark.parametrize("maker", [factories.make_requester, factories.make_vendor_contact])
def test_bulk_refused_to_requesters_and_vendors(client, db, maker):
    user = maker()
    ticket = factories.make_ticket(user)
    before = snapshot(ticket)
    client.force_login(user)
    response = client.post("/queues/bulk/", {"ids": [ticket.pk], "action": "status", "status": "pending_requester"})
    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_manager_bulk_acts_in_every_tier(client, db):
    manager = factories.make_manager()
    tickets = [factories.make_ticket(tier=tier) for tier in (Tier.T1, Tier.T2, Tier.T3)]
    client.force_login(manager)
    response = client.post("/queues/bulk/", {"ids": [t.pk for t in tickets], "action": "status", "status": "open"})
    assert notes(response) == [("success", "3 updated")]
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.OPEN}


def test_queue_page_offers_the_actions(client, db):
    factories.make_ticket()
    client.force_login(factories.make_agent(1))
    page = client.get("/queues/").content.decode()
    assert 'action="/queues/take-next/"' in page
    assert 'action="/queues/bulk/"' in page
    assert 'href="/queues/phone/"' in page
    assert 'name="ids"' in page
    assert "<script>" not in page and " style=" not in page and "onclick" not in page
    assert "tickets/queue" in page and ".js" in page
