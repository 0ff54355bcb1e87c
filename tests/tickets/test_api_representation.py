"""What the ticket API shows of a ticket: keys, their order and their values, per reader.

``TicketSerializer`` is DRF's field-by-field serializer; these tests pin its output (every
field set and unset, time stamps in several zones) and what each kind of reader may see.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests import factories
from tests.tickets.test_api_support import api
from tickets.models import Level, Status, Ticket, Tier
from tickets.serializers import TicketSerializer

ALL_KEYS = [
    "id",
    "reference",
    "url",
    "subject",
    "description",
    "status",
    "tier",
    "priority",
    "impact",
    "urgency",
    "priority_reason",
    "channel",
    "category",
    "requester",
    "assignee",
    "vendor",
    "vendor_reference",
    "is_swarm",
    "is_problem",
    "problem",
    "merged_into",
    "resolution_note",
    "created_at",
    "updated_at",
    "version",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_due_at",
    "sla_breached",
]
STAFF_ONLY = {"priority_reason", "sla_due_at", "sla_breached"}
WITHOUT_STAFF_ONLY = [key for key in ALL_KEYS if key not in STAFF_ONLY]
REQUESTER_KEYS = [key for key in WITHOUT_STAFF_ONLY if key != "vendor_reference"]


@pytest.fixture
def acme(db):
    return factories.VendorFactory(name="Acme")


@pytest.fixture
def full(db, requester, acme):
    """A tier-4 ticket with every output field set (nested objects, links, odd time stamps)."""
    bare = factories.make_ticket(requester)
    problem = factories.make_ticket(requester, subject="Mail is down", is_problem=True, status=Status.OPEN)
    agent = factories.make_agent(1, 2, first_name="", last_name="")  # display name falls back to the username
    return factories.make_ticket(
        requester,
        subject="Everything set",
        description="With *markdown*.",
        impact=Level.HIGH,
        urgency=Level.LOW,
        category=factories.CategoryFactory(name="Printers"),
        assignee=agent,
        vendor=acme,
        vendor_reference="ACME-42",
        tier=Tier.T4,
        status=Status.PENDING_VENDOR,
        priority=1,
        priority_reason="CEO's laptop",
        is_swarm=True,
        problem=problem,
        merged_into=bare,
        resolution_note="Replaced the drum.",
        first_response_at=datetime(2024, 3, 31, 0, 30, 0, 123456, tzinfo=UTC),
        # 02:30 happens twice in Paris that night; this is the first (summer time, +02:00).
        resolved_at=datetime(2024, 10, 27, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
        closed_at=datetime(2025, 1, 1, tzinfo=UTC),
        sla_due_at=datetime(2024, 7, 1, 12, 0, 0, 1, tzinfo=UTC),
        sla_breached=True,
    )


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _context(user) -> dict:
    request = Request(APIRequestFactory().get("/api/tickets/", HTTP_HOST="testserver"))
    request.user = user
    return {"request": request, "format": None, "view": None}


def test_a_ticket_with_every_field_set_as_a_manager_reads_it(full, requester, manager):
    body = api(manager).get(f"/api/tickets/{full.pk}/").json()
    agent = full.assignee
    assert list(body) == ALL_KEYS
    assert body == {
        "id": full.pk,
        "reference": full.reference,
        "url": f"http://testserver/api/tickets/{full.pk}/",
        "subject": "Everything set",
        "description": "With *markdown*.",
        "status": "pending_vendor",
        "tier": 4,
        "priority": 1,
        "impact": "high",
        "urgency": "low",
        "priority_reason": "CEO's laptop",
        "channel": "portal",
        "category": {"id": full.category_id, "name": "Printers"},
        "requester": {"id": requester.pk, "display_name": requester.display_name},
        "assignee": {"id": agent.pk, "display_name": agent.username},
        "vendor": {"id": full.vendor_id, "name": "Acme"},
        "vendor_reference": "ACME-42",
        "is_swarm": True,
        "is_problem": False,
        "problem": full.problem_id,
        "merged_into": full.merged_into_id,
        "resolution_note": "Replaced the drum.",
        "created_at": _utc(full.created_at),
        "updated_at": _utc(full.updated_at),
        "version": full.version,
        "first_response_at": "2024-03-31T00:30:00.123456Z",
        "resolved_at": "2024-10-27T00:30:00Z",
        "closed_at": "2025-01-01T00:00:00Z",
        "sla_due_at": "2024-07-01T12:00:00.000001Z",
        "sla_breached": True,
    }
    assert full.reference.startswith("HD-")


def test_unset_fields_are_null_and_the_link_keeps_the_format_parameter(requester, manager):
    ticket = factories.make_ticket(requester, sla_due_at=None)
    body = api(manager).get(f"/api/tickets/{ticket.pk}/", {"format": "json"}).json()
    assert list(body) == ALL_KEYS
    # DRF carries ?format= over into the links it builds, so a client following them gets the same format.
    assert body["url"] == f"http://testserver/api/tickets/{ticket.pk}/?format=json"
    for key in ("category", "assignee", "vendor", "problem", "merged_into", "first_response_at", "resolved_at"):
        assert body[key] is None, key
    assert (body["closed_at"], body["sla_due_at"]) == (None, None)
    assert (body["vendor_reference"], body["priority_reason"], body["resolution_note"]) == ("", "", "")
    assert (body["is_swarm"], body["is_problem"], body["sla_breached"]) == (False, False, False)
    assert (body["status"], body["tier"], body["channel"]) == ("new", 1, "portal")


@pytest.mark.parametrize(
    ("zone", "resolved", "closed"),
    [
        ("UTC", "2024-10-27T00:30:00Z", "2025-01-01T00:00:00Z"),
        ("Europe/Paris", "2024-10-27T02:30:00+02:00", "2025-01-01T01:00:00+01:00"),
        ("America/New_York", "2024-10-26T20:30:00-04:00", "2024-12-31T19:00:00-05:00"),
        ("Asia/Kolkata", "2024-10-27T06:00:00+05:30", "2025-01-01T05:30:00+05:30"),
    ],
)
def test_time_stamps_are_written_in_the_current_time_zone(full, manager, zone, resolved, closed):
    ticket = Ticket.objects.select_related("requester", "assignee", "category", "vendor").get(pk=full.pk)
    with timezone.override(zone):
        one = TicketSerializer(ticket, context=_context(manager)).data
        many = TicketSerializer([ticket, ticket], many=True, context=_context(manager)).data
    assert (one["resolved_at"], one["closed_at"]) == (resolved, closed)
    assert many == [one, one]
    assert datetime.fromisoformat(one["sla_due_at"]) == full.sla_due_at  # microseconds kept


READERS = {
    "manager": lambda requester, acme: factories.make_manager(),
    "tier-1 agent": lambda requester, acme: factories.make_agent(1),  # sees it: the ticket is open to a swarm
    "vendor of the ticket": lambda requester, acme: factories.make_vendor_contact(acme),
    "requester": lambda requester, acme: requester,
}


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        ("manager", ALL_KEYS),
        ("tier-1 agent", ALL_KEYS),
        ("vendor of the ticket", WITHOUT_STAFF_ONLY),
        ("requester", REQUESTER_KEYS),
    ],
)
def test_each_reader_gets_the_keys_they_may_see_in_order(full, acme, requester, role, keys):
    client = api(READERS[role](requester, acme))
    detail = client.get(f"/api/tickets/{full.pk}/")
    assert detail.status_code == 200, detail.content
    assert list(detail.json()) == keys
    listed = {row["id"]: row for row in client.get("/api/tickets/").json()["results"]}
    assert listed[full.pk] == detail.json()
    if "vendor_reference" in keys:
        assert detail.json()["vendor_reference"] == "ACME-42"


def test_another_vendor_does_not_see_the_ticket(full, db):
    assert api(factories.make_vendor_contact()).get(f"/api/tickets/{full.pk}/").status_code == 404


def test_without_a_request_the_link_cannot_be_built(full):
    with pytest.raises(AssertionError, match="requires the request"):
        TicketSerializer(full).data  # noqa: B018


def test_an_unsaved_ticket_has_no_link(requester, manager):
    ticket = Ticket(subject="s", description="d", requester=requester, created_at=timezone.now())
    ticket.updated_at = ticket.created_at
    data = TicketSerializer(ticket, context=_context(manager)).data
    assert list(data) == ALL_KEYS
    assert (data["id"], data["url"], data["reference"]) == (None, None, "HD-new")
