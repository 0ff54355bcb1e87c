"""The composer: a message and field changes in one submit, one transaction, nothing lost on an error."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.tickets.test_api_support import api
from tests.tickets.ticket_page_helpers import page_text, snapshot, url
from tickets import services
from tickets.models import EventKind, MessageKind, Priority, Status, TicketEvent, TicketMessage, Tier


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ATTACHMENT_MAX_BYTES = 100


@pytest.fixture
def agent(db):
    return factories.make_agent(1)


@pytest.fixture
def ticket(requester):
    return factories.make_ticket(requester, subject="Screen flickers")


def changes(**fields) -> services.FieldChanges:
    return services.FieldChanges(**fields)


# --------------------------------------------------------------------------- service


def test_reply_and_set_pending_in_one_call(agent, ticket):
    done = services.compose_ticket(
        ticket_id=ticket.pk,
        by=agent,
        kind=MessageKind.PUBLIC,
        body="Please try the spare cable.",
        changes=changes(status=Status.PENDING_REQUESTER, assignee=agent),
    )
    ticket.refresh_from_db()
    assert done.message is not None and done.message.kind == MessageKind.PUBLIC
    assert ticket.status == Status.PENDING_REQUESTER
    assert ticket.assignee_id == agent.pk
    assert ticket.first_response_at is not None  # the reply came first: it is the first response
    kinds = list(TicketEvent.objects.filter(ticket=ticket).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[-1] == EventKind.STATUS_CHANGED and EventKind.REPLIED in kinds and EventKind.ASSIGNED in kinds


def test_a_note_with_a_priority_override_and_a_category(agent, ticket):
    category = factories.CategoryFactory(name="Hardware")
    services.compose_ticket(
        ticket_id=ticket.pk,
        by=agent,
        kind=MessageKind.INTERNAL,
        body="Dock firmware again.",
        changes=changes(
            priority=services.PriorityChange(priority=Priority.P1, reason="CEO's laptop"), category=category
        ),
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P1 and ticket.priority_reason == "CEO's laptop"
    assert ticket.category_id == category.pk
    assert TicketMessage.objects.get(ticket=ticket).kind == MessageKind.INTERNAL


@pytest.mark.parametrize(
    ("kind", "body", "fields", "error"),
    [
        # The status is refused after the reply was written: the reply is rolled back with it.
        (MessageKind.PUBLIC, "Written first", {"status": Status.RESOLVED}, ValidationError),
        # An override without its reason (the matrix rule, as on its own).
        (MessageKind.PUBLIC, "Written first", {"priority": services.PriorityChange(priority=1)}, ValidationError),
        # Pending the vendor on a ticket without a vendor.
        (MessageKind.INTERNAL, "A note", {"status": Status.PENDING_VENDOR}, ValidationError),
        # A vendor message on a ticket that is not at tier 4.
        (MessageKind.VENDOR, "Dear vendor", {}, PermissionDenied),
        # Nothing to send.
        (MessageKind.PUBLIC, "   ", {}, ValidationError),
    ],
)
def test_a_refused_part_writes_nothing(agent, ticket, kind, body, fields, error):
    before = snapshot(ticket)
    with pytest.raises(error):
        services.compose_ticket(ticket_id=ticket.pk, by=agent, kind=kind, body=body, changes=changes(**fields))
    assert snapshot(ticket) == before


def test_a_refused_assignee_rolls_back_the_note_and_the_status(agent, ticket):
    tier_three = factories.make_agent(3)
    before = snapshot(ticket)
    with pytest.raises(ValidationError, match="does not work tier 1"):
        services.compose_ticket(
            ticket_id=ticket.pk,
            by=agent,
            kind=MessageKind.INTERNAL,
            body="Handing over",
            changes=changes(status=Status.OPEN, assignee=tier_three),
        )
    assert snapshot(ticket) == before


def test_a_stale_version_refuses_the_whole_submit(agent, ticket):
    services.change_status(ticket_id=ticket.pk, by=agent, status=Status.OPEN)
    ticket.refresh_from_db()
    before = snapshot(ticket)
    with pytest.raises(services.StaleTicket):
        services.compose_ticket(
            ticket_id=ticket.pk,
            by=agent,
            body="Based on an old read",
            changes=changes(status=Status.PENDING_REQUESTER),
            version=ticket.version - 1,
        )
    assert snapshot(ticket) == before


def test_the_requester_cannot_change_fields_through_the_composer(requester, ticket):
    before = snapshot(ticket)
    with pytest.raises(PermissionDenied):
        services.compose_ticket(
            ticket_id=ticket.pk, by=requester, body="Me again", changes=changes(status=Status.PENDING_REQUESTER)
        )
    assert snapshot(ticket) == before


# --------------------------------------------------------------------------- page


def test_the_page_posts_reply_and_pending_in_one_submit(client, agent, ticket):
    client.force_login(agent)
    page = client.get(url(ticket)).content.decode()
    assert 'id="compose-form"' in page and 'data-shortcut="r"' in page and 'data-shortcut="n"' in page
    response = client.post(
        url(ticket, "compose"),
        {
            "kind": "public",
            "body": "Please try the spare cable.",
            "status": Status.PENDING_REQUESTER,
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": "",
            "reason": "",
            "category": "",
            "assignee": "",
            "version": ticket.version,
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_REQUESTER
    shown = client.get(url(ticket))
    assert "Your reply was added and the status changed." in page_text(shown)


def test_a_reply_alone_is_not_refused_because_someone_changed_the_fields_meanwhile(client, agent, ticket):
    client.force_login(agent)
    shown_version = ticket.version
    services.change_priority(ticket_id=ticket.pk, by=factories.make_agent(1), priority=1, reason="Urgent")
    ticket.refresh_from_db()
    response = client.post(
        url(ticket, "compose"),
        {
            "kind": "public",
            "body": "On it.",
            "status": ticket.status,
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": "1",
            "reason": "Urgent",
            "category": "",
            "assignee": "",
            "version": shown_version,
        },
    )
    assert response.status_code == 302
    assert TicketMessage.objects.filter(ticket=ticket, body="On it.").exists()


def test_an_error_keeps_the_text_and_the_page_can_be_reloaded(client, agent, ticket):
    client.force_login(agent)
    before = snapshot(ticket)
    typed = "Please try the spare cable, then tell me."
    response = client.post(
        url(ticket, "compose"),
        {
            "kind": "internal",
            "body": typed,
            "status": Status.PENDING_VENDOR,  # refused: no vendor
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": "",
            "reason": "",
            "category": "",
            "assignee": "",
            "version": ticket.version,
        },
    )
    assert response.status_code == 303 and response["Location"] == url(ticket)
    assert snapshot(ticket) == before
    shown = client.get(url(ticket))
    page = shown.content.decode()
    assert "Only a ticket escalated to a vendor can wait for the vendor" in page_text(shown)
    assert typed in page
    assert 'id="compose_kind_internal" value="internal" checked' in page  # still a note
    again = client.get(url(ticket))  # the reload
    assert again.status_code == 200 and typed not in again.content.decode()


def test_files_too_big_keep_the_text_and_say_so(client, agent, ticket):
    client.force_login(agent)
    response = client.post(
        url(ticket, "compose"),
        {"kind": "public", "body": "Log attached", "attachments": [SimpleUploadedFile("dump.bin", b"x" * 101)]},
    )
    assert response.status_code == 303
    shown = client.get(url(ticket))
    assert "Log attached" in shown.content.decode() and "choose them again" in page_text(shown)


def test_the_preview_renders_markdown_with_the_pages_renderer(client, agent, ticket, requester):
    client.force_login(agent)
    response = client.post(url(ticket, "preview"), {"body": "**bold** <script>alert(1)</script>"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html and "<script>" not in html
    assert client.get(url(ticket, "preview")).status_code == 405
    stranger = factories.make_requester()
    client.force_login(stranger)
    assert client.post(url(ticket, "preview"), {"body": "x"}).status_code == 404


def test_the_old_single_purpose_actions_come_back_in_the_composer(client, agent, ticket):
    client.force_login(agent)
    response = client.post(url(ticket, "priority"), {"impact": "high", "urgency": "low", "priority": "1"})
    assert response.status_code == 303
    page = client.get(url(ticket)).content.decode()
    assert 'id="compose_reason"' in page and "A reason for overriding the priority is required" in page


# --------------------------------------------------------------------------- API


def test_api_compose_replies_and_sets_pending(agent, ticket):
    response = api(agent).post(
        f"/api/tickets/{ticket.pk}/compose/",
        {"body": "Please try the spare cable.", "status": Status.PENDING_REQUESTER},
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["message"]["kind"] == "public" and data["ticket"]["status"] == Status.PENDING_REQUESTER
    assert response["ETag"] == f'W/"{data["ticket"]["version"]}"'


def test_api_compose_refusal_writes_nothing(agent, ticket):
    before = snapshot(ticket)
    response = api(agent).post(
        f"/api/tickets/{ticket.pk}/compose/", {"body": "Written first", "status": Status.RESOLVED}, format="json"
    )
    assert response.status_code == 400 and "resolution note" in response.json()["detail"]
    assert snapshot(ticket) == before


def test_api_compose_with_a_stale_etag_is_412(agent, ticket):
    before = snapshot(ticket)
    response = api(agent).post(
        f"/api/tickets/{ticket.pk}/compose/",
        {"status": Status.PENDING_REQUESTER},
        format="json",
        HTTP_IF_MATCH=f'W/"{ticket.version + 5}"',
    )
    assert response.status_code == 412
    assert snapshot(ticket) == before


@pytest.mark.parametrize("who", ["stranger", "requester_fields", "other_tier"])
def test_api_compose_permissions(requester, ticket, who):
    before = snapshot(ticket)
    if who == "stranger":
        response = api(factories.make_requester()).post(
            f"/api/tickets/{ticket.pk}/compose/", {"body": "hi"}, format="json"
        )
        assert response.status_code == 404
    elif who == "requester_fields":
        response = api(requester).post(
            f"/api/tickets/{ticket.pk}/compose/", {"body": "hi", "status": Status.OPEN}, format="json"
        )
        assert response.status_code == 403
    else:
        response = api(factories.make_agent(Tier.T2)).post(
            f"/api/tickets/{ticket.pk}/compose/", {"body": "hi", "kind": "internal"}, format="json"
        )
        assert response.status_code == 404  # a tier-1 ticket is not in a tier-2 agent's queues
    assert snapshot(ticket) == before
