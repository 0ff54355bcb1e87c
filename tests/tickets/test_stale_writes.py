"""Stale writes: an edit built on an older read of a ticket is refused instead of overwriting.

The ticket's version goes up with every change of its own fields; the API carries it as the
ETag and honours If-Match on PATCH (412 on a mismatch), the page's forms carry it hidden and
show a conflict naming both values. SLA bookkeeping does not move it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from sla import services as sla_services
from sla.defaults import ensure_defaults
from tests import factories
from tests.tickets.test_api_support import api
from tests.tickets.ticket_page_helpers import page_text, snapshot, url
from tickets import services
from tickets.models import Level, Priority, Status, Ticket, Tier


@pytest.fixture
def ticket(requester):
    return factories.make_ticket(requester, subject="VPN drops every hour")


def _version(ticket) -> int:
    return Ticket.objects.values_list("version", flat=True).get(pk=ticket.pk)


def _patch(user, ticket, data, if_match=None):
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    return api(user).patch(f"/api/tickets/{ticket.pk}/", data, format="json", **headers)


# --------------------------------------------------------------------------- the version itself


def test_every_change_of_the_tickets_fields_bumps_the_version_and_conversation_or_sla_do_not(agent, ticket):
    assert _version(ticket) == 1
    services.claim_ticket(ticket_id=ticket.pk, by=agent)
    assert _version(ticket) == 2
    services.change_priority(ticket_id=ticket.pk, by=agent, impact=Level.HIGH)
    assert _version(ticket) == 3
    services.change_status(ticket_id=ticket.pk, by=agent, status=Status.PENDING_REQUESTER)
    assert _version(ticket) == 4
    services.add_reply(ticket_id=ticket.pk, by=agent, body="Looking into it.")  # the first response
    assert _version(ticket) == 5
    # A later reply that moves no status and an internal note leave the ticket's fields as they were.
    services.add_reply(ticket_id=ticket.pk, by=agent, body="Still looking.")
    services.add_note(ticket_id=ticket.pk, by=agent, body="Probably the firewall.")
    assert _version(ticket) == 5
    services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="Needs the network team.")
    assert _version(ticket) == 6


def test_sla_bookkeeping_leaves_the_version_alone(agent, requester):
    """The SLA summary the sla app keeps on the row is bookkeeping: nobody's edit may fail for it."""
    ensure_defaults()
    ticket = factories.make_ticket(requester)
    assert Ticket.objects.values_list("sla_due_at", "sla_breached").get(pk=ticket.pk)[0] is not None
    sla_services.recompute_open_tickets()
    sla_services.sweep(now=timezone.now() + timedelta(days=30))
    assert Ticket.objects.values_list("sla_breached", flat=True).get(pk=ticket.pk) is True
    assert _version(ticket) == 1


def test_the_beat_closing_resolved_tickets_bumps_the_version(agent, ticket):
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Replaced the router.")
    before = _version(ticket)
    assert services.close_expired_resolved(now=timezone.now() + timedelta(days=60)) == 1
    assert _version(ticket) == before + 1


# --------------------------------------------------------------------------- API: ETag and If-Match


def test_retrieve_and_patch_send_the_version_as_etag_and_list_items_carry_it(agent, ticket):
    response = api(agent).get(f"/api/tickets/{ticket.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
    assert response.json()["version"] == 1
    patched = _patch(agent, ticket, {"impact": "high"}, if_match='W/"1"')
    assert patched.status_code == 200, patched.json()
    assert patched["ETag"] == 'W/"2"' and patched.json()["version"] == 2
    listed = api(agent).get("/api/tickets/").json()["results"]
    assert [(row["id"], row["version"]) for row in listed] == [(ticket.pk, 2)]
    # Actions answer with the ticket, and its new ETag, too.
    claimed = api(agent).post(f"/api/tickets/{ticket.pk}/claim/", {}, format="json")
    assert claimed.status_code == 200 and claimed["ETag"] == 'W/"3"'


@pytest.mark.parametrize("form", ['W/"{v}"', '"{v}"', "{v}", 'w/"{v}"', '"99", W/"{v}"'])
def test_a_matching_if_match_in_any_usual_form_applies_the_patch(agent, ticket, form):
    response = _patch(agent, ticket, {"impact": "high", "urgency": "high"}, if_match=form.format(v=1))
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == (Priority.P1, 2)


@pytest.mark.parametrize("form", ['W/"{v}"', '"{v}"', "{v}"])
def test_a_stale_if_match_is_a_412_and_changes_nothing(agent, manager, ticket, form):
    read = api(agent).get(f"/api/tickets/{ticket.pk}/")["ETag"]
    # Someone else changes the priority after the agent read the ticket.
    assert _patch(manager, ticket, {"impact": "low"}, if_match=read).status_code == 200
    before = snapshot(ticket)
    stale = form.format(v=1)
    response = _patch(agent, ticket, {"impact": "high", "category": None}, if_match=stale)
    assert response.status_code == 412
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "changed by someone else" in body["detail"] and body["version"] == 2
    assert response["ETag"] == 'W/"2"'
    assert snapshot(ticket) == before
    ticket.refresh_from_db()
    assert ticket.impact == Level.LOW


def test_without_if_match_or_with_a_star_the_patch_applies_to_the_current_ticket(agent, manager, ticket):
    services.change_priority(ticket_id=ticket.pk, by=manager, impact=Level.LOW)
    assert _patch(agent, ticket, {"urgency": "high"}).status_code == 200
    assert _patch(agent, ticket, {"impact": "high"}, if_match="*").status_code == 200
    ticket.refresh_from_db()
    assert (ticket.impact, ticket.urgency, ticket.version) == (Level.HIGH, Level.HIGH, 4)


ACTIONS = [
    ("claim", {}),
    ("transition", {"status": "pending_requester"}),
    ("escalate", {"reason": "Needs the network team"}),
    ("resolve", {"resolution_note": "Replaced the router."}),
    ("notify-managers", {"reason": "Blocks the whole floor"}),
    ("open-swarm", {}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_actions_honour_if_match_too(manager, ticket, action, data):
    read = api(manager).get(f"/api/tickets/{ticket.pk}/")["ETag"]
    services.change_priority(ticket_id=ticket.pk, by=manager, impact=Level.HIGH)  # someone else, meanwhile
    before = snapshot(ticket)
    stale = api(manager).post(f"/api/tickets/{ticket.pk}/{action}/", data, format="json", HTTP_IF_MATCH=read)
    assert stale.status_code == 412
    assert "changed by someone else" in stale.json()["detail"]
    assert stale["ETag"] == 'W/"2"'
    assert snapshot(ticket) == before
    fresh = api(manager).post(f"/api/tickets/{ticket.pk}/{action}/", data, format="json", HTTP_IF_MATCH=stale["ETag"])
    assert fresh.status_code == 200, fresh.json()
    assert snapshot(ticket) != before


def test_an_action_without_if_match_applies_to_the_current_ticket(manager, ticket):
    services.change_priority(ticket_id=ticket.pk, by=manager, impact=Level.HIGH)
    response = api(manager).post(f"/api/tickets/{ticket.pk}/claim/", {}, format="json")
    assert response.status_code == 200
    assert response["ETag"] == 'W/"3"'


@pytest.mark.parametrize("header", ["yesterday", 'W/"abc"', '"1" "2"', "-1"])
def test_an_unreadable_if_match_is_a_400_and_changes_nothing(agent, ticket, header):
    before = snapshot(ticket)
    response = _patch(agent, ticket, {"impact": "high"}, if_match=header)
    assert response.status_code == 400
    assert "If-Match" in response.json()["detail"]
    assert snapshot(ticket) == before


def test_the_version_cannot_be_written(agent, ticket):
    response = _patch(agent, ticket, {"version": 7})
    assert response.status_code == 400
    assert "version" in response.json()["detail"]
    assert _version(ticket) == 1


def test_a_hidden_ticket_is_a_404_whatever_the_if_match(other_requester, ticket):
    response = _patch(other_requester, ticket, {"impact": "high"}, if_match='"999"')
    assert response.status_code == 404


# --------------------------------------------------------------------------- the page's forms


def _conflict_page(client, ticket, action, data):
    """POST ``data`` built from an old read: redirected to the ticket, which shows the conflict."""
    before = snapshot(ticket)
    response = client.post(url(ticket, action), data)
    assert response.status_code == 303
    assert response["Location"] == url(ticket)
    assert snapshot(ticket) == before
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page_text(page), page


def test_a_stale_priority_form_shows_both_values_and_keeps_what_was_typed(client, agent, manager, ticket):
    client.force_login(agent)
    form_version = _version(ticket)  # the agent opens the page
    services.change_priority(  # meanwhile a manager overrides the priority
        ticket_id=ticket.pk, by=manager, priority=Priority.P2, reason="The CEO is affected."
    )
    data = {
        "impact": "low",
        "urgency": "low",
        "priority": "1",
        "reason": "Whole floor offline",
        "version": form_version,
    }
    text, page = _conflict_page(client, ticket, "priority", data)
    assert "changed by someone else" in text
    assert "Override priority — yours: P1 - Critical; current: P2 - High" in text
    assert "Reason for the override — yours: Whole floor offline; current: The CEO is affected." in text
    html = page.content.decode()
    assert 'value="Whole floor offline"' in html  # what was typed is still in the form
    # The form now carries the current version: sending it again applies the agent's choice.
    assert f'name="version" value="{_version(ticket)}"' in html
    again = client.post(url(ticket, "priority"), {**data, "version": _version(ticket)})
    assert again.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.priority_reason) == (Priority.P1, "Whole floor offline")


@pytest.mark.parametrize(
    ("action", "data", "expected"),
    [
        ("status", {"status": "pending_requester"}, "Status — yours: Waiting for requester; current: Open"),
        ("category", {"category": ""}, "Category — yours: No category; current: Network"),
        ("escalate", {"reason": "Tried twice.", "to_tier": "3"}, "Tier — yours: Tier 3 - Specialists; current: Tier 1"),
        ("resolve", {"resolution_note": "Rebooted."}, "Status — yours: Resolved; current: Open"),
    ],
)
def test_each_stale_field_form_shows_the_conflict_and_changes_nothing(
    client, agent, manager, ticket, action, data, expected
):
    client.force_login(manager)
    form_version = _version(ticket)
    category = factories.CategoryFactory(name="Network")
    services.change_category(ticket_id=ticket.pk, by=agent, category=category)
    services.change_status(ticket_id=ticket.pk, by=agent, status=Status.OPEN)
    text, _ = _conflict_page(client, ticket, action, {**data, "version": form_version})
    assert expected in text
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.status) == (Tier.T1, Status.OPEN)


def test_a_form_sent_without_a_version_still_applies(client, agent, ticket):
    client.force_login(agent)
    response = client.post(url(ticket, "status"), {"status": "open"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_the_page_forms_carry_the_current_version(client, agent, ticket):
    client.force_login(agent)
    services.claim_ticket(ticket_id=ticket.pk, by=agent)
    html = client.get(url(ticket)).content.decode()
    # Assignee, status, priority and category are changed from the composer (one form, one version).
    for form in ("compose", "escalate", "resolve"):
        section = html.split(f'id="{form}-form"', 1)[1].split("</form>", 1)[0]
        assert 'name="version" value="2"' in section, form
