"""The vendor side conversation at tier 4: visible exactly to the desk and the vendor's people, per role."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.core.models import OutboxMessage
from tests import factories
from tests.tickets.test_api_support import api
from tests.tickets.ticket_page_helpers import page_text, snapshot, url
from tickets import services
from tickets.models import MessageKind, Status, TicketMessage, Tier

DESK_SAYS = "Please replace the board under warranty"
VENDOR_SAYS = "A new board ships on Monday"
VENDOR_FILE = "rma-form.pdf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def people(db):
    vendor = factories.VendorFactory(name="Contoso Hardware")
    owner = factories.make_requester(email="owner@example.com")
    people = {
        "vendor_obj": vendor,
        "requester": owner,
        "watcher": factories.make_requester(email="colleague@example.com"),
        "agent_t1": factories.make_agent(1),
        "swarm_t3": factories.make_agent(3),
        "manager": factories.make_manager(),
        "vendor": factories.make_vendor_contact(vendor),
        "other_vendor": factories.make_vendor_contact(),
    }
    return people


@pytest.fixture
def ticket(people):
    manager = people["manager"]
    ticket = factories.make_ticket(people["requester"], subject="Laptop board dead")
    services.add_watcher(ticket_id=ticket.pk, by=people["requester"], watcher=people["watcher"])
    services.escalate_ticket(
        ticket_id=ticket.pk, by=manager, reason="Vendor", to_tier=Tier.T4, vendor=people["vendor_obj"]
    )
    # At tier 4 the desk is the managers and whoever joined the ticket's swarm.
    services.open_swarm(ticket_id=ticket.pk, by=manager)
    services.join_swarm(ticket_id=ticket.pk, by=people["swarm_t3"])
    services.add_vendor_message(
        ticket_id=ticket.pk,
        by=people["swarm_t3"],
        body=DESK_SAYS,
        uploads=[SimpleUploadedFile(VENDOR_FILE, b"%PDF-1.4 form")],
    )
    services.add_vendor_message(ticket_id=ticket.pk, by=people["vendor"], body=VENDOR_SAYS)
    ticket.refresh_from_db()
    return ticket


# who: (sees the ticket, sees the vendor conversation)
ROLES = {
    "requester": (True, False),
    "watcher": (True, False),
    "agent_t1": (True, True),  # an open swarm is visible to every agent, and agents are the desk
    "swarm_t3": (True, True),
    "manager": (True, True),
    "vendor": (True, True),
    "other_vendor": (False, False),
}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_page_shows_the_vendor_conversation_exactly_to_the_desk_and_the_vendor(client, people, ticket, role):
    sees_ticket, sees_vendor = ROLES[role]
    client.force_login(people[role])
    response = client.get(url(ticket))
    assert response.status_code == (200 if sees_ticket else 404)
    page = response.content.decode()
    for secret in (DESK_SAYS, VENDOR_SAYS, VENDOR_FILE, 'id="vendor-conversation"'):
        assert (secret in page) == sees_vendor, secret
    vendor_file = ticket.attachments.get(filename=VENDOR_FILE)
    download = client.get(url(ticket, f"attachments/{vendor_file.pk}"))
    assert download.status_code == (200 if sees_vendor else 404)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_api_gives_the_vendor_conversation_exactly_to_the_desk_and_the_vendor(people, ticket, role):
    sees_ticket, sees_vendor = ROLES[role]
    client = api(people[role])
    messages = client.get(f"/api/tickets/{ticket.pk}/messages/")
    assert messages.status_code == (200 if sees_ticket else 404)
    if not sees_ticket:
        return
    bodies = [m["body"] for m in messages.json()]
    assert (DESK_SAYS in bodies and VENDOR_SAYS in bodies) == sees_vendor
    assert (DESK_SAYS in bodies or VENDOR_SAYS in bodies) == sees_vendor
    files = [a["filename"] for a in client.get(f"/api/tickets/{ticket.pk}/attachments/").json()]
    assert (VENDOR_FILE in files) == sees_vendor
    # Nor is it told in the history the requester reads (the events are internal).
    events = client.get(f"/api/tickets/{ticket.pk}/events/").json()
    vendor_ids = set(TicketMessage.objects.filter(kind=MessageKind.VENDOR).values_list("pk", flat=True))
    named = {e["data"].get("message") for e in events if isinstance(e.get("data"), dict)}
    assert bool(named & vendor_ids) == (role in ("agent_t1", "swarm_t3", "manager"))  # the desk only


def test_vendor_notes_never_show_internal_notes_to_the_vendor(client, people, ticket):
    services.add_note(ticket_id=ticket.pk, by=people["manager"], body="Internal: vendor is slow")
    client.force_login(people["vendor"])
    assert "vendor is slow" not in client.get(url(ticket)).content.decode()
    bodies = [m["body"] for m in api(people["vendor"]).get(f"/api/tickets/{ticket.pk}/messages/").json()]
    assert "Internal: vendor is slow" not in bodies


def test_a_vendor_reply_on_the_page_lands_in_the_vendor_conversation(client, people, ticket):
    services.change_status(ticket_id=ticket.pk, by=people["manager"], status=Status.PENDING_VENDOR)
    client.force_login(people["vendor"])
    page = client.get(url(ticket)).content.decode()
    assert 'id="compose_kind_vendor" value="vendor" checked' in page  # the vendor's default
    response = client.post(url(ticket, "compose"), {"kind": "vendor", "body": "Shipped today"})
    assert response.status_code == 302
    message = TicketMessage.objects.get(body="Shipped today")
    assert message.kind == MessageKind.VENDOR
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # the vendor answered what the desk was waiting for


def test_the_requester_cannot_write_to_the_vendor(client, people, ticket):
    before = snapshot(ticket)
    client.force_login(people["requester"])
    page = client.get(url(ticket)).content.decode()
    assert 'value="vendor"' not in page
    response = client.post(url(ticket, "compose"), {"kind": "vendor", "body": "Let me talk to them"})
    assert response.status_code == 303  # not a choice the requester has: refused as a form error
    assert "Select a valid choice" in page_text(client.get(url(ticket)))
    response = api(people["requester"]).post(
        f"/api/tickets/{ticket.pk}/messages/", {"kind": "vendor", "body": "Me too"}, format="json"
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.add_vendor_message(ticket_id=ticket.pk, by=people["requester"], body="x")
    assert snapshot(ticket) == before


def test_no_vendor_conversation_below_tier_4(people):
    ticket = factories.make_ticket(people["requester"])
    before = snapshot(ticket)
    with pytest.raises((PermissionDenied, ValidationError)):
        services.add_vendor_message(ticket_id=ticket.pk, by=people["manager"], body="x")
    assert snapshot(ticket) == before


def test_the_api_writes_to_the_vendor(people, ticket):
    response = api(people["vendor"]).post(
        f"/api/tickets/{ticket.pk}/messages/", {"kind": "vendor", "body": "Tracking number 42"}, format="json"
    )
    assert response.status_code == 201 and response.json()["kind"] == "vendor"


def test_vendor_messages_send_no_reply_mail_to_the_requester(people, ticket):
    before = OutboxMessage.objects.filter(kwargs__event="reply").count()
    services.add_vendor_message(ticket_id=ticket.pk, by=people["vendor"], body="More news")
    assert OutboxMessage.objects.filter(kwargs__event="reply").count() == before


def test_the_vendor_conversation_is_shown_with_its_empty_state(client, people):
    ticket = factories.make_ticket(people["requester"])
    services.escalate_ticket(
        ticket_id=ticket.pk, by=people["manager"], reason="Vendor", to_tier=Tier.T4, vendor=people["vendor_obj"]
    )
    client.force_login(people["manager"])
    shown = client.get(url(ticket))
    assert 'id="vendor-conversation-empty"' in shown.content.decode()
    assert "To the vendor" in page_text(shown)


def test_a_vendor_reply_by_mail_lands_in_the_vendor_conversation(people, ticket):
    from tickets.mail.inbound import receive_email

    services.change_status(ticket_id=ticket.pk, by=people["manager"], status=Status.PENDING_VENDOR)
    raw = (
        f"From: {people['vendor'].email}\r\nTo: helpdesk@example.com\r\n"
        f"Subject: RE: [{ticket.reference}] board\r\nMessage-ID: <v1@vendor.example>\r\n\r\nTracking 123\r\n"
    ).encode()
    mail = receive_email(raw, source="test")
    assert mail.ticket_message is not None and mail.ticket_message.kind == MessageKind.VENDOR
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_each_side_of_the_vendor_conversation_is_mailed_the_others_words_and_nobody_else(people, ticket):
    from django.core import mail

    from tests.mail.test_outbound import run_outbox

    run_outbox()  # the ticket's earlier notices, and the two vendor messages of the fixture
    delivered = {(tuple(m.to), m.body.count(DESK_SAYS), m.body.count(VENDOR_SAYS)) for m in mail.outbox}
    vendor_mail = [m for m in mail.outbox if people["vendor"].email in m.to]
    desk_mail = [m for m in mail.outbox if people["manager"].email in m.to and VENDOR_SAYS in m.body]
    assert [DESK_SAYS in m.body for m in vendor_mail].count(True) == 1  # the desk's message, to the vendor
    assert len(desk_mail) == 1  # the vendor's, to the managers (nobody is assigned at tier 4)
    for outsider in ("requester", "watcher", "other_vendor", "agent_t1"):
        for m in mail.outbox:
            if people[outsider].email in m.to:
                assert DESK_SAYS not in m.body and VENDOR_SAYS not in m.body, (outsider, delivered)
