"""The ticket API's fast paths: the same answers and the same rows as the generic ways.

* output: ``TicketSerializer.to_representation`` equals DRF's field-by-field representation;
* list: no filter set is built when no parameter names a filter.

(Creating a ticket is tested in ``test_creation.py``.)
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests import factories
from tests.tickets.test_api_support import api
from tickets.api_filters import TicketFilter
from tickets.models import Level, Status, Ticket, Tier
from tickets.serializers import TicketSerializer


@pytest.fixture
def tickets(db, requester):
    """Tickets with every output field both set and unset (nulls, nested objects, links, time stamps)."""
    bare = factories.make_ticket(requester)
    agent = factories.make_agent(1, 2, first_name="", last_name="")  # display name falls back to the username
    problem = factories.make_ticket(requester, subject="Mail is down", is_problem=True, status=Status.OPEN)
    category = factories.CategoryFactory(name="Printers")
    vendor = factories.VendorFactory(name="Acme")
    paris = ZoneInfo("Europe/Paris")
    full = factories.make_ticket(
        requester,
        subject="Everything set",
        description="With *markdown*.",
        impact=Level.HIGH,
        urgency=Level.LOW,
        category=category,
        assignee=agent,
        vendor=vendor,
        vendor_reference="ACME-42",
        tier=Tier.T4,
        status=Status.CLOSED,
        priority=1,
        priority_reason="CEO's laptop",
        is_swarm=True,
        problem=problem,
        merged_into=bare,
        resolution_note="Replaced the drum.",
        first_response_at=datetime(2024, 3, 31, 0, 30, 0, 123456, tzinfo=UTC),
        resolved_at=datetime(2024, 10, 27, 2, 30, tzinfo=paris),
        closed_at=datetime(2025, 1, 1, tzinfo=UTC),
        sla_due_at=datetime(2024, 7, 1, 12, 0, 0, 1, tzinfo=UTC),
        sla_breached=True,
    )
    in_memory = Ticket(
        pk=full.pk + 1000,
        subject="Not saved",
        description="",
        requester=requester,
        channel="api",
        created_at=timezone.now(),
        updated_at=timezone.now() + timedelta(seconds=1),
    )
    fetched = list(Ticket.objects.select_related("requester", "assignee", "category", "vendor").order_by("pk"))
    return [*fetched, full, in_memory]


def _context(user, query: str = "") -> dict:
    request = Request(APIRequestFactory().get(f"/api/tickets/{query}", HTTP_HOST="testserver"))
    request.user = user
    return {"request": request, "format": None, "view": None}


@pytest.mark.parametrize("reader", ["manager", "requester"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("query", ["", "?format=json"])
def test_ticket_representation_equals_drf_generic_one(tickets, requester, manager, reader, zone, query):
    user = {"manager": manager, "requester": requester}[reader]
    with timezone.override(zone):
        serializer = TicketSerializer(context=_context(user, query))
        for ticket in tickets:
            fast = serializer.to_representation(ticket)
            generic = serializer.drf_representation(ticket)
            assert fast == generic
            assert list(fast) == list(generic)  # same keys, same order
            assert JSONRenderer().render(fast) == JSONRenderer().render(generic)
        many = TicketSerializer(tickets, many=True, context=_context(user, query)).data
        assert many == [serializer.drf_representation(ticket) for ticket in tickets]
    if reader == "requester":
        assert "sla_due_at" not in fast and "priority_reason" not in fast
    else:
        assert {"sla_due_at", "sla_breached", "priority_reason"} <= set(fast)


def test_ticket_representation_without_request_fails_as_drf_does(tickets):
    with pytest.raises(AssertionError, match="requires the request"):
        TicketSerializer(tickets[0]).data  # noqa: B018


def test_unsaved_ticket_has_no_url(requester, manager):
    ticket = Ticket(subject="s", description="d", requester=requester, created_at=timezone.now())
    ticket.updated_at = ticket.created_at
    serializer = TicketSerializer(context=_context(manager))
    assert serializer.to_representation(ticket) == serializer.drf_representation(ticket)
    assert serializer.to_representation(ticket)["url"] is None


def test_every_ticket_filter_reads_the_parameter_of_its_own_name():
    """The filter backend skips the filter set when no parameter names a filter; this keeps that exact."""
    form = TicketFilter().form
    assert set(form.fields) == set(TicketFilter.base_filters)
    for field in form.fields.values():
        assert not isinstance(field.widget, forms.MultiWidget)


def test_list_without_filter_parameters_is_the_unfiltered_list(tickets, manager):
    client = api(manager)
    plain = client.get("/api/tickets/").json()
    assert client.get("/api/tickets/", {"utm_source": "mail", "page_size": 25}).json()["results"] == plain["results"]
    assert {row["id"] for row in plain["results"]} == set(Ticket.objects.values_list("pk", flat=True))
    assert client.get("/api/tickets/", {"status": "bogus", "x": "1"}).status_code == 400
