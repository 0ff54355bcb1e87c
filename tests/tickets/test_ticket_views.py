"""The ticket page: who sees what, stored XSS, attachment downloads and the page's query count.

The actions posted from the page (happy paths and refusals) are in test_ticket_actions.py.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.tickets.ticket_page_helpers import PNG, active_content, snapshot, url
from tickets import services
from tickets.models import Attachment, Macro, Tier

ROLES = ["owner", "other_requester", "agent_t1", "agent_t3", "vendor", "other_vendor", "manager"]
STAFF = {"agent_t1", "agent_t3", "manager"}
# scenario -> roles that may see the ticket
VISIBLE = {
    "tier1": {"owner", "agent_t1", "manager"},
    "tier3": {"owner", "agent_t3", "manager"},
    "vendor": {"owner", "vendor", "manager"},
}
SECRETS = ("Internal words about the requester", "internal-notes.txt", "Escalation note for the vendor tier")


@pytest.fixture
def people(db):
    vendor = factories.VendorFactory(name="Contoso Hardware")
    return {
        "vendor_obj": vendor,
        "owner": factories.make_requester(),
        "other_requester": factories.make_requester(),
        "agent_t1": factories.make_agent(1),
        "agent_t3": factories.make_agent(3),
        "vendor": factories.make_vendor_contact(vendor),
        "other_vendor": factories.make_vendor_contact(),
        "manager": factories.make_manager(),
    }


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_scenario(kind: str, people):
    """A ticket of ``owner`` with a public attachment and an internal note (with its own file)."""
    manager = people["manager"]
    ticket = factories.make_ticket(people["owner"], uploads=[SimpleUploadedFile("public-report.txt", b"public words")])
    services.add_note(
        ticket_id=ticket.pk,
        by=manager,
        body=SECRETS[0],
        uploads=[SimpleUploadedFile(SECRETS[1], b"secret words")],
    )
    if kind == "tier3":
        services.escalate_ticket(ticket_id=ticket.pk, by=manager, reason=SECRETS[2], to_tier=Tier.T3)
    elif kind == "vendor":
        services.escalate_ticket(
            ticket_id=ticket.pk,
            by=manager,
            reason=SECRETS[2],
            to_tier=Tier.T4,
            vendor=people["vendor_obj"],
            vendor_reference="CASE-77",
        )
    ticket.refresh_from_db()
    return ticket


def attachment(ticket, internal: bool) -> Attachment:
    return (
        ticket.attachments.get(message__isnull=not internal)
        if internal
        else ticket.attachments.get(message__isnull=True)
    )


def test_url_names():
    assert reverse("tickets:detail", args=[7]) == "/tickets/7/"
    assert reverse("tickets:attachment", args=[7, 3]) == "/tickets/7/attachments/3/"


def test_anonymous_is_sent_to_log_in(client, people):
    ticket = make_scenario("tier1", people)
    response = client.get(url(ticket))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    before = snapshot(ticket)
    assert client.post(url(ticket, "reply"), {"body": "hi"}).status_code == 302
    assert snapshot(ticket) == before


@pytest.mark.parametrize("scenario", sorted(VISIBLE))
@pytest.mark.parametrize("role", ROLES)
def test_get_detail_per_role(client, people, scenario, role):
    ticket = make_scenario(scenario, people)
    client.force_login(people[role])
    response = client.get(url(ticket))
    visible = role in VISIBLE[scenario]
    assert response.status_code == (200 if visible else 404)
    page = response.content.decode()
    assert (ticket.subject in page) == visible
    if visible and role not in STAFF:
        for secret in SECRETS:
            assert secret not in page
        assert "Internal note" not in page and "note-internal" not in page
    if visible and role in STAFF:
        assert SECRETS[0] in page and SECRETS[1] in page
        assert re.search(r'class="mb-3 note-internal"[^>]*aria-label="Internal note', page)


@pytest.mark.parametrize("scenario", sorted(VISIBLE))
@pytest.mark.parametrize("role", ROLES)
def test_post_reply_per_role(client, people, scenario, role):
    ticket = make_scenario(scenario, people)
    before = snapshot(ticket)
    client.force_login(people[role])
    response = client.post(url(ticket, "reply"), {"body": "A reply from the matrix"})
    if role in VISIBLE[scenario]:
        assert response.status_code == 302
        assert snapshot(ticket)["messages"] == before["messages"] + 1
        assert ticket.messages.last().body == "A reply from the matrix"
    else:
        assert response.status_code == 404
        assert snapshot(ticket) == before


@pytest.mark.parametrize("scenario", sorted(VISIBLE))
@pytest.mark.parametrize("role", ROLES)
def test_post_note_per_role(client, people, scenario, role):
    ticket = make_scenario(scenario, people)
    before = snapshot(ticket)
    client.force_login(people[role])
    response = client.post(url(ticket, "note"), {"body": "A note from the matrix"})
    if role in VISIBLE[scenario] and role in STAFF:
        assert response.status_code == 302
        assert ticket.messages.last().is_internal
        assert snapshot(ticket)["messages"] == before["messages"] + 1
    else:
        assert response.status_code == (403 if role in VISIBLE[scenario] else 404)
        assert snapshot(ticket) == before


@pytest.mark.parametrize("scenario", sorted(VISIBLE))
@pytest.mark.parametrize("role", ROLES)
def test_post_escalate_per_role(client, people, scenario, role):
    ticket = make_scenario(scenario, people)
    before = snapshot(ticket)
    client.force_login(people[role])
    data = {
        "reason": "Restarted twice; still failing.",
        "to_tier": min(ticket.tier + 1, Tier.T4),
        "vendor": people["vendor_obj"].pk,
        "vendor_reference": "CASE-1",
    }
    response = client.post(url(ticket, "escalate"), data)
    if role not in VISIBLE[scenario]:
        assert response.status_code == 404
        assert snapshot(ticket) == before
    elif role not in STAFF:
        assert response.status_code == 403
        assert snapshot(ticket) == before
    elif ticket.tier == Tier.T4:
        assert response.status_code == 303  # nothing is above the vendors: back to the page
        assert "moves a ticket up" in client.get(response["Location"]).content.decode()
        assert snapshot(ticket) == before
    else:
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert ticket.tier == data["to_tier"]


@pytest.mark.parametrize("scenario", sorted(VISIBLE))
@pytest.mark.parametrize("role", ROLES)
def test_download_per_role(client, people, scenario, role):
    ticket = make_scenario(scenario, people)
    public, internal = attachment(ticket, internal=False), attachment(ticket, internal=True)
    client.force_login(people[role])
    visible = role in VISIBLE[scenario]
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, public.pk]))
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert b"".join(response.streaming_content) == b"public words"
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, internal.pk]))
    assert response.status_code == (200 if visible and role in STAFF else 404)


def test_page_shows_the_ticket(client, people):
    ticket = make_scenario("vendor", people)
    category = factories.CategoryFactory(name="Hardware")
    services.change_category(ticket_id=ticket.pk, by=people["manager"], category=category)
    services.add_reply(ticket_id=ticket.pk, by=people["vendor"], body="We ship a **new** board.")
    client.force_login(people["owner"])
    page = client.get(url(ticket)).content.decode()
    for shown in (
        ticket.reference,
        ticket.subject,
        "Contoso Hardware",
        "Hardware",
        "Tier 4 - Vendors",
        people["owner"].display_name,
        "<strong>second</strong>",  # the description as Markdown
        "We ship a <strong>new</strong> board.",
        "public-report.txt",
        "Category: none → Hardware",  # history, public events
    ):
        assert shown in page, shown
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', page)
    assert f'href="/tickets/{ticket.pk}/attachments/{attachment(ticket, False).pk}/"' in page
    # Requesters see neither internal events, nor the vendor's own reference, nor staff actions.
    assert "Escalated from" not in page
    assert "CASE-77" not in page
    for action in ("note", "escalate", "claim", "assign", "resolve", "merge"):
        assert f'action="/tickets/{ticket.pk}/{action}/"' not in page
    # The requester writes a public reply in the composer: no note, no vendor message, no field changes.
    assert f'action="/tickets/{ticket.pk}/compose/"' in page
    assert 'value="internal"' not in page and 'value="vendor"' not in page and 'id="compose_status"' not in page


def test_staff_see_internal_history_and_actions(client, people):
    ticket = make_scenario("tier3", people)
    client.force_login(people["agent_t3"])
    page = client.get(url(ticket)).content.decode()
    assert "Escalated from tier 1 to tier 3" in page
    assert SECRETS[2] in page
    for action in ("compose", "escalate", "claim", "deescalate", "notify-managers", "merge"):
        assert f'action="/tickets/{ticket.pk}/{action}/"' in page, action
    # Notes, the assignee and the status are in the composer.
    for field in ('id="compose_kind_internal"', 'id="compose_assignee"', 'id="compose_status"'):
        assert field in page, field
    # Escalating from tier 3 offers only tier 4, with the vendor fields and their help text.
    escalate_select = re.search(r'<select name="to_tier"[^>]*id="escalate_to_tier">(.*?)</select>', page, re.S)
    assert re.findall(r'value="(\d)"', escalate_select.group(1)) == ["4"]
    assert 'id="escalate_vendor"' in page and "Only for tier 4" in page


def test_linked_tickets_are_shown_when_visible(client, people):
    agent = people["agent_t1"]
    problem = factories.make_ticket(people["other_requester"], subject="Core switch fails")
    incident = factories.make_ticket(people["owner"], subject="No network")
    related = factories.make_ticket(people["other_requester"], subject="Printer offline")
    services.link_to_problem(incident_id=incident.pk, problem_id=problem.pk, by=agent)
    services.link_related(ticket_id=incident.pk, other_id=related.pk, by=agent)
    client.force_login(agent)
    page = client.get(url(incident)).content.decode()
    assert f'<a href="/tickets/{problem.pk}/">{problem.reference}</a> Core switch fails' in page
    assert f'<a href="/tickets/{related.pk}/">{related.reference}</a> Printer offline' in page
    assert (
        f'<a href="/tickets/{incident.pk}/">{incident.reference}</a> No network'
        in client.get(url(problem)).content.decode()
    )
    assert f"Linked to problem {problem.reference}" in page  # the history names it
    # The owner cannot see the other requester's tickets: not linked, not named, not even by reference.
    client.force_login(people["owner"])
    page = client.get(url(incident)).content.decode()
    assert "Core switch fails" not in page and "Printer offline" not in page
    assert problem.reference not in page and related.reference not in page
    assert "Linked to problem another ticket" in page


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](java\nscript:alert(1))",
    '<a href="javascript:alert(1)">y</a>',
    '"><svg onload=alert(1)>',
]


@pytest.mark.parametrize("payload", XSS)
def test_stored_xss_is_inert(client, people, payload):
    owner, manager = people["owner"], people["manager"]
    ticket = services.create_ticket(
        requester=owner,
        by=owner,
        subject=f"Subject {payload}"[:200],
        description=f"Description {payload}",
        uploads=[SimpleUploadedFile(f"{payload}.txt", b"data")],
    )
    services.add_reply(ticket_id=ticket.pk, by=owner, body=f"Reply {payload}")
    services.add_note(ticket_id=ticket.pk, by=manager, body=f"Note {payload}")
    services.change_priority(ticket_id=ticket.pk, by=manager, priority=1, reason=f"Reason {payload}")
    Macro.objects.create(tier=Tier.T1, name=f"Macro {payload}"[:80], body=f"Hi {payload}")
    services.resolve_ticket(ticket_id=ticket.pk, by=manager, resolution_note=f"Fixed {payload}")
    services.reopen_ticket(ticket_id=ticket.pk, by=manager, reason=f"Again {payload}")
    for user in (owner, manager):
        client.force_login(user)
        response = client.get(url(ticket))
        assert response.status_code == 200
        assert active_content(response.content.decode()) == []
    client.force_login(owner)
    assert active_content(client.get("/portal/").content.decode()) == []


def test_active_content_finder_catches_what_it_should():
    """The XSS test's parser is not blind: it flags every form of active content it looks for."""
    found = active_content(
        '<script>alert(1)</script><img src=x onerror="a()"><a href=" java\nscript:x">y</a><p style="x">'
    )
    assert len(found) == 5
    assert active_content('<script src="/static/x.js"></script><a href="https://e.example">ok</a>') == []


def test_download_headers_and_type_from_content(client, people):
    owner = people["owner"]
    ticket = factories.make_ticket(
        owner,
        uploads=[
            SimpleUploadedFile("page.html", b"<html><script>alert(1)</script></html>", content_type="text/html"),
            SimpleUploadedFile("photo.txt", PNG, content_type="text/plain"),
        ],
    )
    client.force_login(owner)
    html_file, png_file = ticket.attachments.order_by("pk")
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, html_file.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Type"] == "text/plain"  # sniffed from the bytes, not the name or header
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, png_file.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")


HOSTILE_NAMES = [
    ("../../etc/passwd", "passwd"),
    ("evil\x00.exe.txt", "evil.exe.txt"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("b" * 300 + ".pdf", None),
]


@pytest.mark.parametrize(("name", "cleaned"), HOSTILE_NAMES)
def test_hostile_file_names(client, people, name, cleaned):
    owner = people["owner"]
    ticket = factories.make_ticket(owner)
    client.force_login(owner)
    response = client.post(url(ticket, "reply"), {"body": "see file", "attachments": [SimpleUploadedFile(name, b"x")]})
    assert response.status_code == 302
    stored = ticket.attachments.get()
    assert re.fullmatch(r"attachments/\d{4}/\d\d/[0-9a-f]{32}", stored.file.name)
    if cleaned is None:
        assert len(stored.filename) <= 150 and stored.filename.endswith(".pdf")
        cleaned = stored.filename
    assert stored.filename == cleaned
    page = client.get(url(ticket)).content.decode()
    assert f">{cleaned}</a>" in page
    assert "\u202e" not in page and "\x00" not in page and "../" not in page
    download = client.get(reverse("tickets:attachment", args=[ticket.pk, stored.pk]))
    assert download.status_code == 200
    assert cleaned in download["Content-Disposition"]
    assert "\u202e" not in download["Content-Disposition"] and "/" not in download["Content-Disposition"]


def test_attachment_of_another_ticket_is_404(client, people):
    owner = people["owner"]
    mine = factories.make_ticket(owner)
    also_mine = factories.make_ticket(owner, uploads=[SimpleUploadedFile("x.txt", b"x")])
    other = factories.make_ticket(people["other_requester"], uploads=[SimpleUploadedFile("y.txt", b"y")])
    client.force_login(owner)
    for source in (also_mine, other):
        file_id = source.attachments.get().pk
        assert client.get(reverse("tickets:attachment", args=[mine.pk, file_id])).status_code == 404
    assert (
        client.get(reverse("tickets:attachment", args=[also_mine.pk, also_mine.attachments.get().pk])).status_code
        == 200
    )
    assert client.get(reverse("tickets:attachment", args=[mine.pk, 999999])).status_code == 404


def test_missing_file_is_404_not_500(client, people):
    owner = people["owner"]
    ticket = factories.make_ticket(owner, uploads=[SimpleUploadedFile("x.txt", b"x")])
    stored = ticket.attachments.get()
    stored.file.storage.delete(stored.file.name)
    client.force_login(owner)
    assert client.get(reverse("tickets:attachment", args=[ticket.pk, stored.pk])).status_code == 404


def grow(ticket, people, n: int):
    """Add ``n`` public replies and ``n`` internal notes, each with a file, plus their events,
    and ``n`` duplicates merged into it and ``n`` related tickets."""
    for i in range(n):
        duplicate = factories.make_ticket(people["owner"], subject=f"Duplicate {i}")
        services.merge_tickets(duplicate_id=duplicate.pk, into_id=ticket.pk, by=people["manager"])
        other = factories.make_ticket(people["owner"], subject=f"Related {i}")
        services.link_related(ticket_id=ticket.pk, other_id=other.pk, by=people["manager"])
        services.add_reply(
            ticket_id=ticket.pk,
            by=people["owner"],
            body=f"Reply {i}",
            uploads=[SimpleUploadedFile(f"r{i}.txt", b"r")],
        )
        services.add_note(
            ticket_id=ticket.pk, by=people["manager"], body=f"Note {i}", uploads=[SimpleUploadedFile(f"n{i}.txt", b"n")]
        )


@pytest.mark.parametrize("role", ["owner", "manager", "agent_t1"])
def test_detail_query_count_is_fixed(client, people, role, django_assert_num_queries):
    agent = people["agent_t1"]
    Macro.objects.create(tier=Tier.T1, name="Hello", body="Hello {requester}")
    problem = factories.make_ticket(people["owner"], subject="Problem")
    ticket = factories.make_ticket(people["owner"])
    services.add_watcher(ticket_id=ticket.pk, by=people["owner"], watcher=people["other_requester"])
    services.claim_ticket(ticket_id=ticket.pk, by=agent)
    services.link_to_problem(incident_id=ticket.pk, problem_id=problem.pk, by=agent)
    grow(ticket, people, 2)
    client.force_login(people[role])
    client.get(url(ticket))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(ticket)).status_code == 200
    grow(ticket, people, 18)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url(ticket)).content.decode()
    assert "Reply 17" in page and "Duplicate 17" in page and "Related 17" in page
    assert ("Note 17" in page) == (role != "owner")
