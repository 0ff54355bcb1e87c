"""Every action of the ticket page: its happy path, and its refusal (message shown, nothing written)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import factories
from tests.tickets.ticket_page_helpers import flash, page_text, snapshot, url
from tickets import services
from tickets.models import (
    EventKind,
    Level,
    Macro,
    MessageKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    Tier,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(requester):
    return factories.make_ticket(requester, subject="Laptop will not boot")


def refused(client, ticket, action, data, expected_text, *, status=None):
    """POST ``data`` to ``action``: refused, nothing changed, and back on the ticket page (a GET
    URL, Post/Redirect/Get) where ``expected_text`` is shown; returns that page. With ``status``
    (403, 404: not allowed at all) the answer itself is that error page."""
    before = snapshot(ticket)
    response = client.post(url(ticket, action), data)
    if status is not None:
        assert response.status_code == status
        assert expected_text in page_text(response)
        assert snapshot(ticket) == before
        return response
    assert response.status_code == 303
    assert response["Location"] == url(ticket)
    assert snapshot(ticket) == before
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert expected_text in page_text(page)
    return page


def done(client, ticket, action, data=None, *, to=None):
    response = client.post(url(ticket, action), data or {})
    assert response.status_code == 302, page_text(response)[-2000:]
    assert response["Location"] == (to or url(ticket))
    ticket.refresh_from_db()
    return response


def kinds(ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


# --------------------------------------------------------------------------- conversation


def test_reply_with_attachment(client, requester, ticket):
    client.force_login(requester)
    response = done(
        client, ticket, "reply", {"body": "It beeps **twice**.", "attachments": [SimpleUploadedFile("beep.txt", b"b")]}
    )
    message = ticket.messages.get()
    assert (message.author, message.kind, message.body) == (requester, MessageKind.PUBLIC, "It beeps **twice**.")
    assert ticket.attachments.get().message == message
    assert flash(response) == ["Your reply was added."]
    page = client.get(url(ticket)).content.decode()
    assert "It beeps <strong>twice</strong>." in page and "beep.txt" in page


def test_empty_reply_is_refused_and_oversize_keeps_the_text(client, requester, ticket, settings):
    client.force_login(requester)
    refused(client, ticket, "reply", {"body": "   "}, "This field is required")
    settings.ATTACHMENT_MAX_BYTES = 5
    response = refused(
        client,
        ticket,
        "reply",
        {"body": "Keep my words", "attachments": [SimpleUploadedFile("big.bin", b"123456")]},
        "the limit is",
    )
    assert "Keep my words</textarea>" in response.content.decode()


def test_reply_on_closed_ticket_starts_a_follow_up(client, requester, agent, ticket):
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Replaced the disk.")
    services.confirm_resolution(ticket_id=ticket.pk, by=requester)
    client.force_login(requester)
    page = client.get(url(ticket)).content.decode()
    assert f'action="/tickets/{ticket.pk}/follow-up/"' in page
    assert f'action="/tickets/{ticket.pk}/reply/"' not in page
    refused(client, ticket, "reply", {"body": "Broken again"}, "a reply starts a new ticket")
    response = client.post(url(ticket, "follow-up"), {"body": "Broken again"})
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 302 and response["Location"] == url(new)
    assert new.subject.startswith(f"Follow-up to {ticket.reference}")
    assert list(new.related.all()) == [ticket]


def test_follow_up_is_for_the_requester_of_a_closed_ticket(client, requester, agent, ticket):
    client.force_login(requester)
    refused(client, ticket, "follow-up", {"body": "x"}, "is not closed")
    client.force_login(agent)
    refused(client, ticket, "follow-up", {"body": "x"}, "Access denied", status=403)


def test_internal_note(client, agent, ticket):
    client.force_login(agent)
    done(client, ticket, "note", {"body": "Checked the BIOS"})
    assert ticket.messages.get().kind == MessageKind.INTERNAL
    assert TicketEvent.objects.get(ticket=ticket, kind=EventKind.NOTE_ADDED).internal
    refused(client, ticket, "note", {"body": ""}, "This field is required")


def test_macros_fill_placeholders_for_the_tier(client, requester, agent, ticket):
    # The canned replies became tier macros (tickets/migrations/0014_canned_replies_to_macros.py).
    Macro.objects.create(tier=Tier.T1, name="Greeting", body="Hello {requester}, about {reference}: {agent} here.")
    Macro.objects.create(tier=Tier.T1, name="Sneaky", body="{requester.password} {0} {")
    Macro.objects.create(tier=Tier.T2, name="Tier two only", body="nope")
    client.force_login(agent)
    page = client.get(url(ticket)).content.decode()
    filled = f"Hello {requester.display_name}, about {ticket.reference}: {agent.display_name} here."
    assert f'data-text="{filled}"' in page
    assert 'data-text="{requester.password} {0} {"' in page
    assert "Tier two only" not in page
    assert 'id="macro-select"' in page and 'id="compose_body"' in page
    assert "/static/tickets/ticket.js" in page
    client.force_login(requester)
    assert "Greeting" not in client.get(url(ticket)).content.decode()


def test_add_watcher(client, requester, ticket, other_requester):
    client.force_login(requester)
    done(client, ticket, "watchers", {"who": other_requester.email.upper()})
    assert list(ticket.watchers.all()) == [other_requester]
    # A requester names colleagues by e-mail address; whether one is unknown or refused is never
    # said (the whole rule, per role and target: tests/tickets/test_watchers.py).
    refused(client, ticket, "watchers", {"who": "nobody-like-this"}, "Enter your colleague&#x27;s e-mail address")
    vendor_contact = factories.make_vendor_contact()
    client.force_login(other_requester)  # a watcher may read and reply, not add people
    refused(client, ticket, "watchers", {"who": vendor_contact.username}, "Access denied", status=403)


# --------------------------------------------------------------------------- people and properties


def test_take_and_the_second_taker_is_refused(client, agent, ticket):
    client.force_login(agent)
    assert f'action="/tickets/{ticket.pk}/claim/"' in client.get(url(ticket)).content.decode()
    done(client, ticket, "claim")
    assert (ticket.assignee, ticket.status) == (agent, Status.OPEN)
    client.force_login(factories.make_agent(1))
    refused(client, ticket, "claim", {}, "Someone else has already taken this ticket")


def test_assign_to_agent_of_the_tier_or_nobody(client, agent, ticket):
    colleague = factories.make_agent(1)
    client.force_login(agent)
    done(client, ticket, "assign", {"assignee": colleague.pk})
    assert ticket.assignee == colleague
    refused(client, ticket, "assign", {"assignee": factories.make_agent(3).pk}, "Select a valid choice")
    done(client, ticket, "assign", {"assignee": ""})
    assert ticket.assignee is None


def test_status_change_and_illegal_transitions(client, agent, ticket):
    client.force_login(agent)
    done(client, ticket, "status", {"status": Status.PENDING_REQUESTER})
    assert ticket.status == Status.PENDING_REQUESTER
    refused(client, ticket, "status", {"status": Status.RESOLVED}, "Resolving needs a resolution note")
    refused(client, ticket, "status", {"status": Status.CLOSED}, "cannot be set to closed")
    refused(client, ticket, "status", {"status": Status.PENDING_VENDOR}, "Only a ticket escalated to a vendor")
    refused(client, ticket, "status", {"status": "bogus"}, "Select a valid choice")


def test_priority_follows_the_matrix_and_override_needs_a_reason(client, agent, ticket):
    client.force_login(agent)
    done(client, ticket, "priority", {"impact": Level.HIGH, "urgency": Level.HIGH, "priority": ""})
    assert ticket.priority == Priority.P1
    refused(
        client,
        ticket,
        "priority",
        {"impact": Level.HIGH, "urgency": Level.HIGH, "priority": Priority.P4, "reason": ""},
        "A reason for overriding the priority is required",
    )
    done(client, ticket, "priority", {"impact": "high", "urgency": "high", "priority": 4, "reason": "Test box"})
    assert (ticket.priority, ticket.priority_reason) == (Priority.P4, "Test box")


def test_category_change(client, agent, ticket):
    category = factories.CategoryFactory(name="Hardware")
    client.force_login(agent)
    done(client, ticket, "category", {"category": category.pk})
    assert ticket.category == category
    retired = factories.CategoryFactory(name="Old", is_active=False)
    refused(client, ticket, "category", {"category": retired.pk}, "Select a valid choice")


# --------------------------------------------------------------------------- tiers and swarming


def test_escalate_with_note_leaves_the_tier_one_agents_view(client, agent, ticket):
    client.force_login(agent)
    services.claim_ticket(ticket_id=ticket.pk, by=agent)
    response = done(client, ticket, "escalate", {"reason": "Reseated RAM", "to_tier": 2}, to="/queues/")
    assert (ticket.tier, ticket.assignee) == (Tier.T2, None)
    assert ticket.messages.get(kind=MessageKind.INTERNAL).body == "Reseated RAM"
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ESCALATED)
    assert (event.data["from"], event.data["to"], event.actor) == (1, 2, agent)
    assert flash(response)[0] == f"{ticket.reference} escalated to Tier 2 - Technicians."


def test_escalate_without_note_is_refused(client, agent, ticket):
    client.force_login(agent)
    response = refused(client, ticket, "escalate", {"reason": "  ", "to_tier": 2}, "This field is required")
    # The dialog opens again on load with the input kept.
    assert 'id="escalate-modal"' in response.content.decode()
    assert "data-show-on-load" in response.content.decode()


def test_escalate_to_vendor_needs_the_vendor(client, manager, ticket):
    vendor = factories.VendorFactory(name="Contoso")
    client.force_login(manager)
    response = refused(
        client,
        ticket,
        "escalate",
        {"reason": "Board dead", "to_tier": 4, "vendor_reference": "C-9"},
        "needs the vendor",
    )
    assert 'value="C-9"' in response.content.decode()
    refused(client, ticket, "escalate", {"reason": "Down again", "to_tier": 1}, "moves a ticket up")
    done(
        client,
        ticket,
        "escalate",
        {"reason": "Board dead", "to_tier": 4, "vendor": vendor.pk, "vendor_reference": "C-9"},
    )
    assert (ticket.tier, ticket.vendor, ticket.vendor_reference) == (Tier.T4, vendor, "C-9")


def test_deescalate(client, manager, ticket):
    services.escalate_ticket(ticket_id=ticket.pk, by=manager, reason="Up", to_tier=Tier.T3)
    client.force_login(manager)
    refused(client, ticket, "deescalate", {"reason": "", "to_tier": 1}, "This field is required")
    refused(client, ticket, "deescalate", {"reason": "No", "to_tier": 3}, "moves a ticket down")
    done(client, ticket, "deescalate", {"reason": "Known issue, tier 1 can fix", "to_tier": 1})
    assert ticket.tier == Tier.T1
    assert EventKind.DEESCALATED in kinds(ticket)


def test_notify_managers(client, agent, ticket):
    client.force_login(agent)
    refused(client, ticket, "notify-managers", {"reason": ""}, "This field is required")
    done(client, ticket, "notify-managers", {"reason": "VIP waiting"})
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.MANAGERS_NOTIFIED)
    assert event.data["reason"] == "VIP waiting" and event.internal
    assert ticket.tier == Tier.T1


def test_open_and_join_swarm(client, agent, ticket):
    specialist = factories.make_agent(3)
    client.force_login(specialist)
    assert client.post(url(ticket, "swarm/join")).status_code == 404  # not a swarm: not even visible
    client.force_login(agent)
    done(client, ticket, "swarm")
    assert ticket.is_swarm and list(ticket.collaborators.all()) == [agent]
    client.force_login(specialist)
    page = client.get(url(ticket)).content.decode()
    assert f'action="/tickets/{ticket.pk}/swarm/join/"' in page
    done(client, ticket, "swarm/join")
    assert set(ticket.collaborators.all()) == {agent, specialist}
    assert ticket.tier == Tier.T1


def test_requester_cannot_touch_the_swarm(client, requester, ticket):
    client.force_login(requester)
    refused(client, ticket, "swarm", {}, "Access denied", status=403)
    refused(client, ticket, "swarm/join", {}, "Access denied", status=403)


# --------------------------------------------------------------------------- lifecycle


def test_resolve_needs_a_note(client, requester, agent, ticket):
    client.force_login(agent)
    refused(client, ticket, "resolve", {"resolution_note": ""}, "This field is required")
    done(client, ticket, "resolve", {"resolution_note": "Replaced the **disk**."})
    assert ticket.status == Status.RESOLVED and ticket.resolution_note == "Replaced the **disk**."
    refused(client, ticket, "resolve", {"resolution_note": "Again"}, "already resolved")
    client.force_login(requester)
    page = client.get(url(ticket)).content.decode()
    assert "Replaced the <strong>disk</strong>." in page
    assert f'action="/tickets/{ticket.pk}/reopen/"' in page and f'action="/tickets/{ticket.pk}/confirm/"' in page


def test_resolving_a_problem_offers_to_resolve_its_incidents(client, agent, requester):
    problem = factories.make_ticket(requester, subject="Core switch")
    incidents = [factories.make_ticket(requester, subject=f"No network {i}") for i in range(2)]
    for incident in incidents:
        services.link_to_problem(incident_id=incident.pk, problem_id=problem.pk, by=agent)
    client.force_login(agent)
    assert "Also resolve its 2 open incident(s)" in client.get(url(problem)).content.decode()
    done(client, problem, "resolve", {"resolution_note": "Replaced the switch", "resolve_incidents": "on"})
    assert set(Ticket.objects.filter(pk__in=[i.pk for i in incidents]).values_list("status", flat=True)) == {
        Status.RESOLVED
    }


def test_requester_reopens_within_the_window_only(client, requester, agent, ticket, settings):
    settings.TICKET_REOPEN_WINDOW_DAYS = 7
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed")
    client.force_login(requester)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        refused(client, ticket, "reopen", {"reason": "Broken again"}, "can no longer be reopened")
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        done(client, ticket, "reopen", {"reason": "Broken again"})
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    refused(client, ticket, "reopen", {}, "Only a resolved ticket can be reopened")


def test_agent_may_reopen_after_the_window(client, agent, ticket):
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    client.force_login(agent)
    done(client, ticket, "reopen")
    assert ticket.status == Status.OPEN


def test_confirm_resolution_closes(client, requester, agent, ticket, other_requester):
    client.force_login(requester)
    refused(client, ticket, "confirm", {}, "Only a resolved ticket can be confirmed")
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Fixed")
    client.force_login(agent)
    refused(client, ticket, "confirm", {}, "Access denied", status=403)
    client.force_login(other_requester)
    refused(client, ticket, "confirm", {}, "Page not found", status=404)
    client.force_login(requester)
    done(client, ticket, "confirm")
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None


# --------------------------------------------------------------------------- linking


def test_merge_into_another_ticket(client, agent, requester, ticket):
    target = factories.make_ticket(requester, subject="Same laptop")
    services.add_reply(ticket_id=ticket.pk, by=requester, body="Extra detail")
    client.force_login(agent)
    done(client, ticket, "merge", {"reference": target.reference.lower()}, to=url(target))
    assert ticket.merged_into == target and ticket.status == Status.CLOSED
    assert target.messages.filter(body="Extra detail").exists()
    page = client.get(url(ticket)).content.decode()
    assert f'merged into <a href="/tickets/{target.pk}/">{target.reference}' in page


def test_merge_refusals(client, agent, requester, ticket):
    hidden = factories.make_ticket(requester, tier=Tier.T3)
    client.force_login(agent)
    refused(client, ticket, "merge", {"reference": "not a reference"}, "Enter a ticket reference")
    refused(client, ticket, "merge", {"reference": ticket.reference}, "cannot be merged into itself")
    refused(client, ticket, "merge", {"reference": hidden.reference}, f"no ticket {hidden.reference} that you can see")
    refused(client, ticket, "merge", {"reference": "HD-999999"}, "that you can see")


def test_link_to_problem_and_unlink(client, agent, requester, ticket):
    problem = factories.make_ticket(requester, subject="Core switch")
    client.force_login(agent)
    done(client, ticket, "link-problem", {"reference": problem.reference})
    problem.refresh_from_db()
    assert ticket.problem == problem and problem.is_problem
    refused(client, ticket, "link-problem", {"reference": ticket.reference}, "cannot be its own problem")
    done(client, ticket, "link-problem", {"reference": ""})
    assert ticket.problem is None


def test_link_related(client, agent, requester, ticket):
    other = factories.make_ticket(requester, subject="Dock broken")
    client.force_login(agent)
    done(client, ticket, "link-related", {"reference": other.reference})
    assert list(ticket.related.all()) == [other]
    refused(client, ticket, "link-related", {"reference": ticket.reference}, "cannot be related to itself")


# --------------------------------------------------------------------------- plumbing


@pytest.mark.parametrize(
    "action",
    ["reply", "note", "claim", "assign", "status", "priority", "category", "escalate", "deescalate",
     "notify-managers", "swarm", "swarm/join", "resolve", "reopen", "confirm", "merge", "link-problem",
     "link-related", "watchers", "follow-up"],
)  # fmt: skip
def test_actions_are_post_only_and_hidden_tickets_404(client, agent, requester, ticket, action):
    client.force_login(agent)
    assert client.get(url(ticket, action)).status_code == 405
    client.force_login(factories.make_requester())
    before = snapshot(ticket)
    assert client.post(url(ticket, action), {"body": "x", "reason": "x"}).status_code == 404
    assert snapshot(ticket) == before
