"""Internal event data never reaches requesters, watchers or vendors: page, API and mail.

One ticket lives through every ``EventKind`` (written by the real services where there is one),
with a recognisable ``CANARY`` in every internal value: the priority override reason, escalation
and de-escalation notes, an internal note, the managers' alert, SLA data, and an escalation a
writer forgot to flag internal. Then every role reads it. The vendor's reference is internal for
the requester's side only. ``permissions.visible_event_data`` is the one filter behind all three.
"""

import json

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories
from tickets import events, permissions, services
from tickets.events import record_event
from tickets.models import EventKind, Level, Priority, Status, TicketMessage, Tier
from tickets.notifications import send_ticket_notification

pytestmark = pytest.mark.django_db

VENDOR_REFERENCE = "VREF-4711"
STAFF = ("agent", "manager")
OUTSIDE = ("requester", "watcher", "vendor")


@pytest.fixture
def story(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    vendor = factories.VendorFactory()
    people = {
        "requester": factories.make_requester(email="rita@acme.example"),
        "watcher": factories.make_requester(email="wanda@acme.example"),
        "agent": factories.make_agent(1, email="alex@acme.example"),
        "vendor": factories.make_vendor_contact(vendor, email="vera@vendor.example"),
        "manager": factories.make_manager(email="maya@acme.example"),
    }
    requester, manager, agent = people["requester"], people["manager"], people["agent"]
    ticket = factories.make_ticket(requester=requester)
    pk = ticket.pk
    services.add_watcher(ticket_id=pk, by=requester, watcher=people["watcher"])
    services.change_priority(
        ticket_id=pk, by=manager, impact=Level.LOW, urgency=Level.LOW, priority=Priority.P1, reason="CANARY-override"
    )
    services.change_category(ticket_id=pk, by=manager, category=factories.CategoryFactory())
    services.assign_ticket(ticket_id=pk, by=manager, assignee=agent)
    services.add_note(ticket_id=pk, by=agent, body="CANARY-note", uploads=[_file("canary-internal.txt")])
    services.add_reply(ticket_id=pk, by=agent, body="We are on it.", uploads=[_file("public.txt")])
    services.notify_managers(ticket_id=pk, by=agent, reason="CANARY-managers")
    services.open_swarm(ticket_id=pk, by=manager)
    services.join_swarm(ticket_id=pk, by=agent)
    services.escalate_ticket(ticket_id=pk, by=manager, reason="CANARY-escalation", to_tier=Tier.T2)
    services.deescalate_ticket(ticket_id=pk, by=manager, reason="CANARY-deescalation", to_tier=Tier.T1)
    services.escalate_ticket(
        ticket_id=pk,
        by=manager,
        reason="CANARY-to-vendor",
        to_tier=Tier.T4,
        vendor=vendor,
        vendor_reference=VENDOR_REFERENCE,
    )
    services.change_status(ticket_id=pk, by=manager, status=Status.PENDING_VENDOR)
    ticket.refresh_from_db()
    # What the SLA sweep writes, and an escalation some writer forgot to flag internal.
    now = timezone.now()
    record_event(
        events.sla_crossed(ticket, crossing="breached", metric="CANARY-sla", scope=0, cycle=1, due=now, at=now)
    )
    unflagged = events.tier_moved(
        ticket, by=manager, escalated=True, before=3, note="CANARY-unflagged", previous_assignee=None
    )
    unflagged.internal = False
    record_event(unflagged)
    other = factories.make_ticket(requester=requester)
    services.link_related(ticket_id=pk, other_id=other.pk, by=manager)
    duplicate = factories.make_ticket(requester=requester)
    services.merge_tickets(duplicate_id=duplicate.pk, into_id=pk, by=manager)
    services.resolve_ticket(ticket_id=pk, by=manager, resolution_note="Replaced the part.")
    services.reopen_ticket(ticket_id=pk, by=requester, reason="Still broken.")
    services.resolve_ticket(ticket_id=pk, by=manager, resolution_note="Replaced it again.")
    services.confirm_resolution(ticket_id=pk, by=requester)
    ticket.refresh_from_db()
    return {"ticket": ticket, **people}


def _file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"contents", content_type="text/plain")


def test_the_story_walks_every_event_kind(story):
    kinds = set(story["ticket"].events.values_list("kind", flat=True))
    assert kinds == set(EventKind.values)  # a new kind must be added to the story (and to the rules)


def _api(user, url: str):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("role", [*OUTSIDE, *STAFF])
def test_history_and_api_show_each_role_only_its_events_and_data(story, role):
    user, ticket = story[role], story["ticket"]
    client = Client()
    client.force_login(user)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    page_text = page.content.decode()
    events = _api(user, f"/api/tickets/{ticket.pk}/events/").json()
    events_text = json.dumps(events)
    detail_text = _api(user, f"/api/tickets/{ticket.pk}/").content.decode()
    shown = {e["kind"] for e in events}
    if role in STAFF:
        # Staff read everything: proof that the canaries are there to be found.
        for canary in ("CANARY-override", "CANARY-escalation", "CANARY-managers", "CANARY-sla"):
            assert canary in events_text
        assert "CANARY-override" in page_text
        assert shown == set(EventKind.values)
        assert VENDOR_REFERENCE in detail_text
        return
    for text in (page_text, events_text, detail_text):
        assert "CANARY" not in text
    assert not shown & permissions.STAFF_ONLY_EVENT_KINDS
    assert all(not e["internal"] for e in events)
    # Every event shown carries only the public keys of its kind.
    for event in events:
        allowed = permissions.PUBLIC_EVENT_DATA.get(event["kind"], {})
        assert set(event["data"]) <= set(allowed), event
    priority = next(e for e in events if e["kind"] == EventKind.PRIORITY_CHANGED)
    assert priority["data"]["to"]["priority"] == Priority.P1 and "reason" not in priority["data"]["to"]
    expected = {
        EventKind.CREATED,
        EventKind.STATUS_CHANGED,
        EventKind.PRIORITY_CHANGED,
        EventKind.CATEGORY_CHANGED,
        EventKind.REPLIED,
        EventKind.ATTACHMENT_ADDED,
        EventKind.MERGED,
        EventKind.LINKED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.CLOSED,
    }
    if role == "vendor":
        assert shown == expected  # not who watches: the requester's colleagues are not theirs to know
        assert 'id="watcher-list"' not in page_text and story["watcher"].display_name not in page_text
        assert VENDOR_REFERENCE in detail_text  # their own reference
    else:
        assert shown == expected | {EventKind.WATCHER_ADDED}
        assert 'id="watcher-list"' in page_text
        assert VENDOR_REFERENCE not in page_text and VENDOR_REFERENCE not in detail_text


def _bodies(message) -> str:
    parts = [message.subject, message.body, *(content for content, _ in getattr(message, "alternatives", []))]
    return "\n".join(parts)


def test_mail_tells_each_person_only_what_they_may_read(story):
    ticket = story["ticket"]
    reply = TicketMessage.objects.filter(ticket=ticket, kind="public").first()
    mail.outbox.clear()
    for event, extra in (
        ("status", {}),
        ("reply", {"message_id": reply.pk}),
        ("resolved", {}),
        ("reopened", {}),
        ("escalated", {"tier": Tier.T4}),
        ("deescalated", {"tier": Tier.T1}),
        ("assigned", {"to": story["agent"].pk}),
        ("managers", {"reason": "CANARY-managers"}),
    ):
        send_ticket_notification(ticket_id=ticket.pk, event=event, **extra)
    outside = {story[r].email for r in OUTSIDE}
    to_outside = [m for m in mail.outbox if set(m.to) & outside]
    assert to_outside  # they are told about the public changes
    for message in to_outside:
        assert "CANARY" not in _bodies(message), (message.to, message.subject)
    for message in mail.outbox:
        if set(message.to) & {story["requester"].email, story["watcher"].email}:
            assert VENDOR_REFERENCE not in _bodies(message)
    staff_text = "\n".join(_bodies(m) for m in mail.outbox if not set(m.to) & outside)
    assert "CANARY-managers" in staff_text and "CANARY-deescalation" in staff_text  # staff are told


@pytest.mark.parametrize("role", [*OUTSIDE, *STAFF])
def test_visible_event_data_is_the_one_filter(story, role):
    """The function itself: every event of the story, as every role, against the page/API result."""
    user, ticket = story[role], story["ticket"]
    for event in ticket.events.all():
        data = permissions.visible_event_data(user, ticket, event)
        if role in STAFF:
            assert data == event.data
        elif data is not None:
            assert "CANARY" not in json.dumps(data)
            assert not event.internal and event.kind not in permissions.STAFF_ONLY_EVENT_KINDS
