"""Attachments through the API: typed from content, size-limited, served only as downloads."""

import pytest

from tests import factories
from tests.tickets.test_api_support import PNG, api, media_files, snapshot, upload
from tickets import services
from tickets.models import Attachment, EventKind


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _upload(user, ticket, files, **extra):
    return api(user).post(f"/api/tickets/{ticket.pk}/attachments/", {"file": files, **extra}, format="multipart")


def test_type_comes_from_the_content_not_the_name_or_header(media, requester):
    ticket = factories.make_ticket(requester)
    response = _upload(requester, ticket, [upload("x.txt", PNG, "text/plain")])
    assert response.status_code == 201, response.content
    [row] = response.json()
    attachment = Attachment.objects.get(pk=row["id"])
    assert (attachment.content_type, attachment.filename, attachment.size) == ("image/png", "x.txt", len(PNG))
    assert row["content_type"] == "image/png"
    assert attachment.uploaded_by == requester
    assert ticket.events.filter(kind=EventKind.ATTACHMENT_ADDED).count() == 1
    assert len(media_files(media)) == 1


def test_several_files_at_once(media, agent):
    ticket = factories.make_ticket()
    response = _upload(agent, ticket, [upload("a.txt"), upload("b.txt")])
    assert response.status_code == 201
    assert sorted(row["filename"] for row in response.json()) == ["a.txt", "b.txt"]


def test_over_limit_upload_stores_nothing(media, settings, requester):
    settings.ATTACHMENT_MAX_BYTES = 100
    ticket = factories.make_ticket(requester)
    before = snapshot(ticket)
    response = _upload(requester, ticket, [upload("small.txt", b"a" * 10), upload("big.bin", b"b" * 101)])
    assert response.status_code == 400
    assert "big.bin" in response.json()["detail"]
    assert snapshot(ticket) == before
    assert not Attachment.objects.exists()
    assert media_files(media) == []


def test_upload_without_a_file_is_a_400(media, requester):
    ticket = factories.make_ticket(requester)
    response = api(requester).post(f"/api/tickets/{ticket.pk}/attachments/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert not Attachment.objects.exists()


def test_upload_to_a_message_of_another_ticket_is_refused(media, requester):
    ticket = factories.make_ticket(requester)
    other = factories.make_ticket(requester)
    foreign = services.add_reply(ticket_id=other.pk, by=requester, body="on the other ticket")
    before = snapshot(ticket)
    response = _upload(requester, ticket, [upload()], message=foreign.pk)
    assert response.status_code == 400
    assert response.json()["detail"] == "No message of yours with that id on this ticket."
    assert snapshot(ticket) == before
    assert media_files(media) == []


def test_upload_to_own_message(media, requester):
    ticket = factories.make_ticket(requester)
    message = services.add_reply(ticket_id=ticket.pk, by=requester, body="screenshot attached")
    response = _upload(requester, ticket, [upload("shot.png", PNG, "image/png")], message=message.pk)
    assert response.status_code == 201
    assert response.json()[0]["message"] == message.pk
    listed = api(requester).get(f"/api/tickets/{ticket.pk}/messages/").json()
    assert [a["filename"] for m in listed if m["id"] == message.pk for a in m["attachments"]] == ["shot.png"]


def test_requester_may_not_attach_to_an_internal_note(media, agent, requester):
    ticket = factories.make_ticket(requester)
    note = services.add_note(ticket_id=ticket.pk, by=agent, body="internal")
    before = snapshot(ticket)
    response = _upload(requester, ticket, [upload()], message=note.pk)
    assert response.status_code == 400
    assert snapshot(ticket) == before


def test_closed_ticket_refuses_requester_uploads(media, agent, requester):
    ticket = factories.make_ticket(requester)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="done")
    services.confirm_resolution(ticket_id=ticket.pk, by=requester)
    before = snapshot(ticket)
    response = _upload(requester, ticket, [upload()])
    assert response.status_code == 400
    assert response.json()["detail"] == "This ticket is closed; open a new ticket to send more files."
    assert snapshot(ticket) == before
    assert media_files(media) == []


@pytest.mark.parametrize(
    ("name", "content", "served_as"),
    [
        ("report.pdf", b"%PDF-1.4\n" + b"0" * 64, "application/pdf"),
        # Markup is typed from its content as plain text, never as something a browser would run.
        ("page.html", b"<html><script>alert(1)</script></html>", "text/plain"),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>', "text/plain"),
    ],
)
def test_download_is_always_an_attachment_with_nosniff_and_sandbox(media, requester, name, content, served_as):
    ticket = factories.make_ticket(requester)
    [attachment] = services.store_attachments(ticket=ticket, by=requester, uploads=[upload(name, content, "text/html")])
    response = api(requester).get(f"/api/tickets/{ticket.pk}/attachments/{attachment.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Type"].split(";")[0] == served_as


def test_download_with_an_octet_stream_accept_header(media, requester):
    ticket = factories.make_ticket(requester)
    [attachment] = services.store_attachments(ticket=ticket, by=requester, uploads=[upload()])
    response = api(requester).get(
        f"/api/tickets/{ticket.pk}/attachments/{attachment.pk}/download/", HTTP_ACCEPT="application/octet-stream"
    )
    assert response.status_code == 200


def test_attachment_of_another_ticket_is_404_even_when_both_are_visible(media, requester):
    ticket = factories.make_ticket(requester)
    other = factories.make_ticket(requester)
    [attachment] = services.store_attachments(ticket=other, by=requester, uploads=[upload()])
    response = api(requester).get(f"/api/tickets/{ticket.pk}/attachments/{attachment.pk}/download/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
