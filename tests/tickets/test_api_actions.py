"""Ticket API actions: each calls the service of the HTML pages; refusals are 4xx JSON and write nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests import factories
from tests.tickets.test_api_support import api, snapshot
from tickets import services
from tickets.models import EventKind, Status, Ticket, Tier


def post(user, ticket, action, data=None):
    return api(user).post(f"/api/tickets/{ticket.pk}/{action}/", data or {}, format="json")


def test_take_next_claims_the_most_urgent_then_answers_204_when_empty(agent):
    low = factories.make_ticket(impact="low", urgency="low")
    urgent = factories.make_ticket(impact="high", urgency="high")
    factories.make_ticket(tier=Tier.T2)  # not this agent's tier
    client = api(agent)

    response = client.post("/api/tickets/take-next/")
    assert response.status_code == 200
    assert response.json()["id"] == urgent.pk
    assert response.json()["assignee"]["id"] == agent.pk
    assert client.post("/api/tickets/take-next/").json()["id"] == low.pk

    response = client.post("/api/tickets/take-next/")
    assert response.status_code == 204
    assert not response.content


def test_take_next_is_for_agents_only(requester):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    response = api(requester).post("/api/tickets/take-next/")
    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_take_next_only_accepts_get_as_a_405(agent):
    assert api(agent).get("/api/tickets/take-next/").status_code == 405


def test_claim_refuses_a_ticket_someone_else_holds(agent):
    other = factories.make_agent(1)
    ticket = factories.make_ticket(assignee=other, status=Status.OPEN)
    before = snapshot(ticket)
    response = post(agent, ticket, "claim")
    assert response.status_code == 400
    assert response.json() == {"detail": "Someone else has already taken this ticket."}
    assert snapshot(ticket) == before


def test_escalate_needs_a_note_and_records_it(agent):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    response = post(agent, ticket, "escalate", {"reason": "   "})
    assert response.status_code == 400
    assert response.json()["detail"] == "An escalation note is required."
    assert snapshot(ticket) == before

    response = post(agent, ticket, "escalate", {"reason": "Restarted the spooler; still jams", "to_tier": 3})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.tier == Tier.T3
    event = ticket.events.get(kind=EventKind.ESCALATED)
    assert (event.actor, event.data["from"], event.data["to"]) == (agent, 1, 3)
    # The agent no longer sees a tier-3 ticket, yet got its new state back.
    assert response.json()["tier"] == Tier.T3
    assert api(agent).get(f"/api/tickets/{ticket.pk}/").status_code == 404


def test_escalating_to_the_vendor_tier_needs_the_vendor(agent):
    ticket = factories.make_ticket()
    vendor = factories.VendorFactory()
    before = snapshot(ticket)
    response = post(agent, ticket, "escalate", {"reason": "Hardware fault", "to_tier": 4})
    assert response.status_code == 400
    assert response.json()["detail"] == "Escalating to tier 4 needs the vendor."
    assert snapshot(ticket) == before

    response = post(
        agent, ticket, "escalate", {"reason": "Hardware", "to_tier": 4, "vendor": vendor.pk, "vendor_reference": "C-9"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tier"], body["vendor"]["id"], body["vendor_reference"]) == (4, vendor.pk, "C-9")


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "reason"), ({"reason": "x", "to_tier": 9}, "to_tier"), ({"reason": "x", "vendor": 999999}, "vendor")],
)
def test_escalate_input_shape_is_checked(agent, data, field):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    response = post(agent, ticket, "escalate", data)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert snapshot(ticket) == before


def test_action_with_an_unknown_key_is_refused(agent):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    response = post(agent, ticket, "escalate", {"reason": "x", "tier": 3})
    assert response.status_code == 400
    assert response.json()["detail"] == "Unknown fields: tier"
    assert snapshot(ticket) == before


def test_deescalate_moves_down_with_a_note(db):
    agent = factories.make_agent(2)
    ticket = factories.make_ticket(tier=Tier.T2)
    response = post(agent, ticket, "deescalate", {"reason": "A tier-1 fix exists"})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.tier == Tier.T1
    assert ticket.events.filter(kind=EventKind.DEESCALATED).exists()


def test_transition_follows_the_lifecycle(agent):
    ticket = factories.make_ticket()
    response = post(agent, ticket, "transition", {"status": "pending_requester"})
    assert response.status_code == 200
    assert response.json()["status"] == "pending_requester"

    before = snapshot(ticket)
    response = post(agent, ticket, "transition", {"status": "resolved"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Resolving needs a resolution note: use Resolve."
    response = post(agent, ticket, "transition", {"status": "asleep"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
    assert snapshot(ticket) == before


def test_resolve_needs_a_note_then_requester_confirms(agent, requester):
    ticket = factories.make_ticket(requester)
    before = snapshot(ticket)
    response = post(agent, ticket, "resolve", {"resolution_note": ""})
    assert response.status_code == 400
    assert response.json()["detail"] == "A resolution note is required."
    assert snapshot(ticket) == before

    response = post(agent, ticket, "resolve", {"resolution_note": "Replaced the fuser."})
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["resolution_note"] == "Replaced the fuser."

    before = snapshot(ticket)
    assert post(agent, ticket, "confirm").status_code == 403  # only the requester confirms
    assert snapshot(ticket) == before
    response = post(requester, ticket, "confirm")
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_requester_reopens_within_the_window_only(agent, requester):
    ticket = factories.make_ticket(requester)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed")
    response = post(requester, ticket, "reopen", {"reason": "Still broken"})
    assert response.status_code == 200
    assert response.json()["status"] == "open"

    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed again")
    before = snapshot(ticket)
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        response = post(requester, ticket, "reopen", {})
    assert response.status_code == 400
    assert "can no longer be reopened" in response.json()["detail"]
    assert snapshot(ticket) == before


def test_reply_on_a_closed_ticket_starts_a_linked_follow_up(agent, requester):
    ticket = factories.make_ticket(requester)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed")
    services.confirm_resolution(ticket_id=ticket.pk, by=requester)
    response = api(requester).post(f"/api/tickets/{ticket.pk}/messages/", {"body": "It is back"}, format="json")
    assert response.status_code == 201
    new = Ticket.objects.get(pk=response.json()["ticket"]["id"])
    assert new.related.filter(pk=ticket.pk).exists()
    assert new.description == "It is back"
    assert not ticket.messages.filter(body="It is back").exists()


def test_notify_managers_needs_a_reason_and_keeps_the_tier(agent):
    ticket = factories.make_ticket()
    assert post(agent, ticket, "notify-managers", {"reason": ""}).status_code == 400
    response = post(agent, ticket, "notify-managers", {"reason": "SLA about to breach"})
    assert response.status_code == 200
    assert response.json()["tier"] == Tier.T1
    event = ticket.events.get(kind=EventKind.MANAGERS_NOTIFIED)
    assert event.internal


def test_swarm_lets_an_agent_of_another_tier_join_and_act(agent, requester):
    ticket = factories.make_ticket(requester)
    specialist = factories.make_agent(3)
    before = snapshot(ticket)
    assert post(requester, ticket, "open-swarm").status_code == 403
    assert post(requester, ticket, "join-swarm").status_code == 403
    assert snapshot(ticket) == before
    assert post(specialist, ticket, "claim").status_code == 404  # not visible before the swarm opens

    assert post(agent, ticket, "open-swarm").json()["is_swarm"] is True
    assert post(specialist, ticket, "join-swarm").status_code == 200
    assert ticket.collaborators.filter(pk=specialist.pk).exists()
    response = api(specialist).post(
        f"/api/tickets/{ticket.pk}/messages/", {"body": "Seen this before", "kind": "internal"}, format="json"
    )
    assert response.status_code == 201


def test_merge_into_a_visible_ticket(agent, other_requester):
    duplicate = factories.make_ticket(subject="Printer again")
    original = factories.make_ticket(subject="Printer")
    hidden = factories.make_ticket(other_requester, tier=Tier.T3)

    before = snapshot(duplicate)
    response = post(agent, duplicate, "merge", {"into": hidden.pk})
    assert response.status_code == 400
    assert response.json()["detail"] == f"There is no ticket {hidden.pk} you may see."
    assert snapshot(duplicate) == before

    response = post(agent, duplicate, "merge", {"into": original.pk})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["merged_into"]) == ("closed", original.pk)


def test_link_to_a_problem_and_unlink(agent):
    incident = factories.make_ticket()
    problem = factories.make_ticket(subject="Mail server flaps")
    response = post(agent, incident, "link-problem", {"problem": problem.pk})
    assert response.status_code == 200
    assert response.json()["problem"] == problem.pk
    problem.refresh_from_db()
    assert problem.is_problem
    response = post(agent, incident, "link-problem", {"problem": None})
    assert response.json()["problem"] is None


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("claim", {}),
        ("escalate", {"reason": "x"}),
        ("deescalate", {"reason": "x"}),
        ("transition", {"status": "open"}),
        ("resolve", {"resolution_note": "x"}),
        ("notify-managers", {"reason": "x"}),
        ("open-swarm", {}),
        ("join-swarm", {}),
        ("merge", {"into": 1}),
        ("link-problem", {"problem": None}),
    ],
)
def test_requester_may_not_run_agent_actions_on_their_own_ticket(requester, action, data):
    ticket = factories.make_ticket(requester, tier=Tier.T2)
    before = snapshot(ticket)
    response = post(requester, ticket, action, data)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert snapshot(ticket) == before


def test_tier1_agent_cannot_act_in_a_tier3_ticket_assigned_elsewhere(agent):
    # Visible to the tier-1 agent because it is assigned to them... until it is not.
    ticket = factories.make_ticket(tier=Tier.T3, assignee=agent, status=Status.OPEN)
    assert post(agent, ticket, "notify-managers", {"reason": "help"}).status_code == 200
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None)
    before = snapshot(ticket)
    assert post(agent, ticket, "notify-managers", {"reason": "help"}).status_code == 404
    assert snapshot(ticket) == before
