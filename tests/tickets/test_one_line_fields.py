"""One-line fields (subject, vendor reference) are stored as one line, whichever way they come in.

A subject with a line break broke queue rows, mail headers and exports. The services normalise
with ``one_line`` (every line break and control character one space, format characters
dropped, spaces collapsed); the portal, the phone-call page, the API and inbound mail all go
through them. The class is tested, not one example: CR, LF, CRLF, tab, vertical tab, form
feed, NEL, U+2028/U+2029, NUL and a bidirectional override.
"""

import pytest
from django.core.exceptions import ValidationError

from knowledgebase import services as kb_services
from tests import factories
from tests.knowledgebase.conftest import content as kb_content
from tests.tickets.test_api_support import api
from tickets import services
from tickets.mail.addresses import clean_header
from tickets.mail.inbound import receive_email
from tickets.models import InboundMail, Ticket, Tier

# (typed, stored)
BREAKS = [
    ("VPN\rdown", "VPN down"),
    ("VPN\ndown", "VPN down"),
    ("VPN\r\ndown", "VPN down"),
    ("VPN\tdown", "VPN down"),
    ("VPN\x0bdown", "VPN down"),
    ("VPN\x0cdown", "VPN down"),
    ("VPN\x85down", "VPN down"),
    ("VPN\u2028down", "VPN down"),
    ("VPN\u2029down", "VPN down"),
    ("VPN\x00down", "VPN down"),
    ("VPN \r\n\t \u2028 down", "VPN down"),
    ("\r\n  VPN down\t\r\n", "VPN down"),
    ("VPN\u202edown", "VPNdown"),  # a format character is invisible: dropped, not a space
    ("Café — naïve 東京", "Café — naïve 東京"),  # everything else is left alone
]
IDS = [repr(typed) for typed, _ in BREAKS]
# The pages and the API refuse NUL outright (Django's and DRF's null-character validators, a
# clear 400); every other case reaches the service.
TYPED = [(typed, stored) for typed, stored in BREAKS if "\x00" not in typed]
TYPED_IDS = [repr(typed) for typed, _ in TYPED]


@pytest.mark.parametrize(("typed", "stored"), BREAKS, ids=IDS)
def test_one_line_makes_one_line_and_is_idempotent(typed, stored):
    assert services.one_line(typed) == stored
    assert services.one_line(services.one_line(typed)) == stored
    assert clean_header(typed) == stored  # mail headers use the same normalisation


@pytest.mark.parametrize(("typed", "stored"), BREAKS, ids=IDS)
def test_create_and_escalate_services_store_one_line(requester, typed, stored):
    ticket = services.create_ticket(requester=requester, by=requester, subject=typed, description="Line 1\nLine 2")
    services.escalate_ticket(
        ticket_id=ticket.pk,
        by=factories.make_manager(),
        reason="Vendor case.\nSee the logs.",
        to_tier=Tier.T4,
        vendor=factories.VendorFactory(),
        vendor_reference=f"CASE{typed}",
    )
    ticket.refresh_from_db()
    assert ticket.subject == stored
    assert ticket.vendor_reference == services.one_line(f"CASE{typed}")
    assert "\n" not in ticket.vendor_reference and "\r" not in ticket.vendor_reference
    assert ticket.description == "Line 1\nLine 2"  # multi-line fields keep their lines


def test_a_subject_of_nothing_but_line_breaks_is_refused(requester):
    with pytest.raises(ValidationError) as caught:
        services.create_ticket(requester=requester, by=requester, subject="\r\n\t\u2028", description="D")
    assert "Subject is required" in str(caught.value)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("typed", "stored"), TYPED, ids=TYPED_IDS)
def test_portal_form_stores_one_line(client, requester, typed, stored):
    client.force_login(requester)
    response = client.post(
        "/portal/new/", {"subject": typed, "description": "Details", "impact": "low", "urgency": "low"}
    )
    assert response.status_code == 302
    assert Ticket.objects.get().subject == stored


@pytest.mark.parametrize(("typed", "stored"), TYPED, ids=TYPED_IDS)
def test_phone_call_page_stores_one_line(client, requester, typed, stored):
    client.force_login(factories.make_agent(1))
    data = {
        "requester": requester.username,
        "subject": typed,
        "description": "Called in",
        "category": "",
        "impact": "low",
        "urgency": "low",
        "resolution_note": "",
    }
    assert client.post("/queues/phone/", data).status_code == 302
    assert Ticket.objects.get().subject == stored


@pytest.mark.parametrize(("typed", "stored"), TYPED, ids=TYPED_IDS)
def test_api_create_stores_one_line(requester, typed, stored):
    response = api(requester).post("/api/tickets/", {"subject": typed, "description": "Details"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["subject"] == stored
    assert Ticket.objects.get().subject == stored


def test_api_refuses_a_nul_in_the_subject_with_a_clear_400(requester):
    response = api(requester).post("/api/tickets/", {"subject": "VPN\x00down", "description": "D"}, format="json")
    assert response.status_code == 400
    assert "subject" in response.json()["errors"]
    assert not Ticket.objects.exists()


def test_api_escalation_stores_the_vendor_reference_as_one_line(requester):
    ticket = factories.make_ticket(requester)
    vendor = factories.VendorFactory()
    response = api(factories.make_manager()).post(
        f"/api/tickets/{ticket.pk}/escalate/",
        {"reason": "Needs the vendor", "to_tier": 4, "vendor": vendor.pk, "vendor_reference": "CASE\r\n42\u2028X"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["vendor_reference"] == "CASE 42 X"


@pytest.mark.parametrize(("typed", "stored"), BREAKS, ids=IDS)
def test_knowledge_base_titles_store_one_line(requester, typed, stored):
    author = factories.make_agent(1)
    article = kb_services.create_article(by=author, **kb_content(title=f"Fix: {typed}", body="Step 1\nStep 2"))
    article.refresh_from_db()
    assert article.title == f"Fix: {stored}".strip()
    assert article.body == "Step 1\nStep 2"


@pytest.mark.parametrize(
    ("encoded", "stored"),
    [
        ("=?utf-8?q?VPN=0D=0Adown?=", "VPN down"),
        ("=?utf-8?q?VPN=09down?=", "VPN down"),
        ("=?utf-8?q?VPN=0Bdown?=", "VPN down"),
        ("=?utf-8?q?VPN=E2=80=A8down?=", "VPN down"),
        ("=?utf-8?b?VlBOCmRvd24=?=", "VPN down"),  # base64 of "VPN\ndown"
    ],
)
def test_inbound_mail_subject_stores_one_line(db, encoded, stored):
    raw = (
        "From: anna.schmidt@customer.example\r\nTo: helpdesk@helpdesk.example\r\n"
        f"Subject: {encoded}\r\nMessage-ID: <{abs(hash(encoded))}@customer.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThe VPN is down.\r\n"
    ).encode()
    mail = receive_email(raw, source="test")
    assert mail.status == InboundMail.Status.PROCESSED, mail.reason
    assert mail.ticket.subject == stored
