"""Requester portal: my tickets (list, search, filter, paging) and the new-ticket form."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tickets import services
from tickets.models import Attachment, Channel, EventKind, Level, Priority, Status, Ticket, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PORTAL = "/portal/"
NEW = "/portal/new/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def listed_references(response) -> list[str]:
    return re.findall(r">(HD-\d{6})</a></td>", response.content.decode())


def test_urls_have_the_agreed_names():
    assert reverse("tickets:portal") == PORTAL
    assert reverse("tickets:new") == NEW


def test_new_ticket_page_needs_login(client, db):
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_list_shows_own_and_watched_tickets_only(client, requester, other_requester):
    own = factories.make_ticket(requester, subject="My laptop is slow")
    watched = factories.make_ticket(other_requester, subject="Team printer")
    services.add_watcher(ticket_id=watched.pk, by=other_requester, watcher=requester)
    hidden = factories.make_ticket(other_requester, subject="Someone else's secret")
    # Another watcher on my ticket must not make it appear twice.
    services.add_watcher(ticket_id=own.pk, by=requester, watcher=factories.make_requester())
    client.force_login(requester)
    response = client.get(PORTAL)
    page = response.content.decode()
    assert response.status_code == 200
    assert sorted(listed_references(response)) == sorted([own.reference, watched.reference])
    assert "My laptop is slow" in page and "Team printer" in page
    assert hidden.reference not in page and "secret" not in page
    assert 'href="/portal/new/"' in page
    assert re.search(r"<h1[^>]*>My tickets</h1>", page)


def test_list_shows_status_priority_and_updated_time(client, requester):
    ticket = factories.make_ticket(requester, impact=Level.HIGH, urgency=Level.HIGH)
    client.force_login(requester)
    page = client.get(PORTAL).content.decode()
    assert ticket.get_status_display() in page
    assert Priority(ticket.priority).label in page
    assert f'<time datetime="{ticket.updated_at.isoformat()}' in page


@pytest.mark.parametrize("typed", ["{ref}", "{ref_lower}", "{pk}"])
def test_search_by_reference(client, requester, typed):
    wanted = factories.make_ticket(requester, subject="VPN down")
    factories.make_ticket(requester, subject="Mouse broken")
    client.force_login(requester)
    q = typed.format(ref=wanted.reference, ref_lower=wanted.reference.lower(), pk=wanted.pk)
    assert listed_references(client.get(PORTAL, {"q": q})) == [wanted.reference]


def test_search_by_subject_words(client, requester, other_requester):
    vpn = factories.make_ticket(requester, subject="VPN drops every hour")
    factories.make_ticket(requester, subject="Mouse broken")
    factories.make_ticket(other_requester, subject="VPN for someone else")
    client.force_login(requester)
    assert listed_references(client.get(PORTAL, {"q": "vpn"})) == [vpn.reference]


def test_status_filter(client, requester):
    agent = factories.make_agent(1)
    open_ticket = factories.make_ticket(requester, subject="Still broken")
    done = factories.make_ticket(requester, subject="Fixed one")
    services.resolve_ticket(ticket_id=done.pk, by=agent, resolution_note="Replaced the cable.")
    client.force_login(requester)
    assert listed_references(client.get(PORTAL, {"status": "open"})) == [open_ticket.reference]
    assert listed_references(client.get(PORTAL, {"status": "resolved"})) == [done.reference]
    assert listed_references(client.get(PORTAL, {"status": "closed"})) == []
    assert sorted(listed_references(client.get(PORTAL, {"status": "all"}))) == sorted(
        [open_ticket.reference, done.reference]
    )
    # An unknown filter value is treated as "all", never an error.
    assert len(listed_references(client.get(PORTAL, {"status": "bogus"}))) == 2


def test_paging_25_per_page_keeps_the_search(client, requester):
    for n in range(30):
        factories.make_ticket(requester, subject=f"Printer problem {n}")
    factories.make_ticket(requester, subject="Unrelated")
    client.force_login(requester)
    first = client.get(PORTAL, {"q": "printer"})
    assert len(listed_references(first)) == 25
    page = first.content.decode()
    assert "30 tickets, page 1 of 2" in page
    next_link = re.search(r'href="(\?[^"]*page=2[^"]*)" rel="next"', page).group(1).replace("&amp;", "&")
    assert "q=printer" in next_link
    second = client.get(PORTAL + next_link)
    assert len(listed_references(second)) == 5
    assert not set(listed_references(first)) & set(listed_references(second))
    # Out-of-range or junk page numbers fall back to a real page.
    assert len(listed_references(client.get(PORTAL, {"q": "printer", "page": "99"}))) == 5
    assert len(listed_references(client.get(PORTAL, {"q": "printer", "page": "x"}))) == 25


def test_empty_states(client, requester):
    client.force_login(requester)
    page = client.get(PORTAL).content.decode()
    assert "No tickets yet" in page
    assert "<table" not in page
    factories.make_ticket(requester, subject="Keyboard")
    page = client.get(PORTAL, {"q": "nothing-like-this"}).content.decode()
    assert "No matching tickets" in page and "No tickets yet" not in page


def test_list_query_count_does_not_grow_with_tickets(client, requester, django_assert_num_queries):
    for _ in range(2):
        factories.make_ticket(requester)
    client.force_login(requester)
    client.get(PORTAL)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert len(listed_references(client.get(PORTAL))) == 2
    for _ in range(20):
        factories.make_ticket(requester)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(listed_references(client.get(PORTAL))) == 22


def test_new_ticket_form_offers_plain_words(client, requester):
    client.force_login(requester)
    page = client.get(NEW).content.decode()
    for words in ("Just me", "My team", "The whole company", "It can wait", "It slows me down", "I cannot work"):
        assert words in page
    assert 'id="id_subject"' in page
    assert '<div id="kb-suggestions" aria-live="polite"></div>' in page
    assert re.search(r'<input type="file" name="attachments"[^>]*multiple', page)


def test_new_ticket_happy_path(client, requester, media):
    category = factories.CategoryFactory(name="Network")
    factories.CategoryFactory(name="Retired", is_active=False)
    client.force_login(requester)
    assert "Retired" not in client.get(NEW).content.decode()
    screenshot = SimpleUploadedFile("screenshot.txt", PNG, content_type="text/plain")
    notes = SimpleUploadedFile("notes.txt", b"tried rebooting", content_type="image/png")
    response = client.post(
        NEW,
        {
            "subject": "  Cannot reach the VPN ",
            "description": "Since **this morning**.",
            "category": category.pk,
            "impact": Level.HIGH,
            "urgency": Level.HIGH,
            "attachments": [screenshot, notes],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    assert (ticket.subject, ticket.requester, ticket.channel) == ("Cannot reach the VPN", requester, Channel.PORTAL)
    assert (ticket.category, ticket.impact, ticket.urgency, ticket.priority) == (category, "high", "high", 1)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED, actor=requester).count() == 1
    types = dict(Attachment.objects.filter(ticket=ticket).values_list("filename", "content_type"))
    assert types == {"screenshot.txt": "image/png", "notes.txt": "text/plain"}
    page = client.get(response["Location"]).content.decode()
    assert f"Ticket {ticket.reference} submitted" in page
    assert "screenshot.txt" in page


def test_new_ticket_without_attachments(client, requester):
    client.force_login(requester)
    response = client.post(NEW, {"subject": "S", "description": "D", "impact": "low", "urgency": "low"})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.status, ticket.category) == (Priority.P4, Status.NEW, None)
    assert not Attachment.objects.exists()


def assert_nothing_written(media):
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert not TicketEvent.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def _refused_page(client, response) -> str:
    """A refused submission redirects (303) back to the form, which shows it once; a reload is empty."""
    assert response.status_code == 303
    assert response["Location"] == NEW
    page = client.get(NEW)
    assert page.status_code == 200
    shown = page.content.decode()
    assert "is-invalid" in shown or "was not submitted" in shown
    again = client.get(NEW).content.decode()
    assert "is-invalid" not in again and "was not submitted" not in again
    return shown


@pytest.mark.parametrize("subject", ["", "   "])
def test_empty_subject_is_shown_in_the_page(client, requester, media, subject):
    client.force_login(requester)
    response = client.post(
        NEW,
        {
            "subject": subject,
            "description": "My words stay",
            "impact": "low",
            "urgency": "low",
            "attachments": [SimpleUploadedFile("a.txt", b"hello")],
        },
    )
    page = _refused_page(client, response)
    assert "This field is required." in page
    assert "My words stay" in page
    assert "choose them again" in page
    assert_nothing_written(media)


def test_oversize_attachment_is_refused_and_nothing_written(client, requester, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 100
    client.force_login(requester)
    response = client.post(
        NEW,
        {
            "subject": "Keep this subject",
            "description": "Keep this description",
            "impact": "medium",
            "urgency": "high",
            "attachments": [
                SimpleUploadedFile("small.txt", b"x" * 10),
                SimpleUploadedFile("huge.bin", b"y" * 101),
            ],
        },
    )
    page = _refused_page(client, response)
    assert "huge.bin" in page and "the limit is" in page
    assert 'value="Keep this subject"' in page
    assert "Keep this description" in page
    assert re.search(r'value="high"[^>]*id="id_urgency_2"[^>]*checked', page)
    assert_nothing_written(media)


def test_inactive_or_unknown_category_is_refused(client, requester, media):
    retired = factories.CategoryFactory(name="Retired", is_active=False)
    client.force_login(requester)
    response = client.post(
        NEW, {"subject": "S", "description": "D", "impact": "low", "urgency": "low", "category": retired.pk}
    )
    assert "Select a valid choice" in _refused_page(client, response)
    assert_nothing_written(media)
