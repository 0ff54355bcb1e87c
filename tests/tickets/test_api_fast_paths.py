"""The ticket API's fast paths: the same answers and the same rows as the generic ways.

* output: ``TicketSerializer.to_representation`` equals DRF's field-by-field representation;
* list: no filter set is built when no parameter names a filter;
* creation: the ticket, its first event, its notification, its SLA clocks and summary are
  written by one statement, all or nothing; the clocks come from the process's cached policy
  book, only while that book is current, and are exactly what a replay from the database
  computes; the ticket in hand is what the database holds.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from helpdesk.core.models import OutboxMessage
from helpdesk.core.rows import insert_select
from sla import services as sla
from sla.models import Clock, Metric, Policy, SlaSettings, Target
from tests import factories
from tests.tickets.test_api_support import api
from tickets import services
from tickets.api_filters import TicketFilter
from tickets.events import ticket_creating
from tickets.models import EventKind, Level, Status, Ticket, TicketEvent, Tier
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


# --------------------------------------------------------------------------- creation: SLA clocks

MONDAY_MORNING = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CLOCK_COLUMNS = [f.attname for f in Clock._meta.concrete_fields if f.attname not in {"id", "ticket_id"}]


def _clock_rows(ticket) -> list[tuple]:
    return sorted(Clock.objects.filter(ticket=ticket).values_list(*CLOCK_COLUMNS))


def _create(requester, impact: str = "medium", urgency: str = "medium") -> Ticket:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        return services.create_ticket(
            requester=requester, by=requester, subject="Screen", description="Flickers", impact=impact, urgency=urgency
        )


def _forget_cached_book() -> None:
    sla._book_cache.__dict__.pop("entry", None)


@pytest.mark.parametrize(("impact", "urgency"), [("high", "high"), ("medium", "medium"), ("low", "low")])
def test_new_ticket_clocks_are_what_the_replay_computes(requester, impact, urgency):
    _forget_cached_book()
    first = _create(requester, impact, urgency)  # nothing cached: the book is loaded (and cached) first
    assert getattr(sla._book_cache, "entry", None) is not None
    second = _create(requester, impact, urgency)  # the cached book
    assert _clock_rows(second) == _clock_rows(first) != []
    for ticket in (first, second):
        summary = (ticket.sla_due_at, ticket.sla_breached)
        assert sla.sync_ticket_clocks(Ticket.objects.get(pk=ticket.pk)) == []  # nothing to create or change
        ticket.refresh_from_db()
        assert (ticket.sla_due_at, ticket.sla_breached) == summary
        assert ticket.sla_due_at is not None


def test_a_new_ticket_is_written_by_one_statement_with_its_event_clocks_and_notification(requester):
    _create(requester)  # caches the policy book
    with CaptureQueriesContext(connection) as queries:
        ticket = _create(requester)
    assert len(queries) == 1  # no BEGIN/COMMIT either: one statement is atomic on its own
    sql = queries[0]["sql"]
    for table in ("tickets_ticket", "tickets_ticketevent", "sla_clock", "core_outboxmessage"):
        assert f'INSERT INTO "{table}"' in sql
    assert len(_clock_rows(ticket)) == 3
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.actor_id, event.at, event.internal) == (
        EventKind.CREATED,
        requester.pk,
        ticket.created_at,
        False,
    )
    assert event.data == {"channel": "portal", "priority": ticket.priority, "tier": 1}
    message = OutboxMessage.objects.get(kwargs__ticket_id=ticket.pk)
    assert (message.task, message.kwargs, message.status, message.dedupe_key) == (
        "tickets.tasks.notify_task",
        {"ticket_id": ticket.pk, "event": "received"},
        OutboxMessage.Status.PENDING,
        None,
    )


def _field_values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_ticket_in_hand_is_what_the_database_holds(requester):
    category = factories.CategoryFactory(name="Printers", route_tier=Tier.T2)
    for _ in range(2):  # the first loads the policy book, the second uses it
        ticket = services.create_ticket(
            requester=requester,
            by=requester,
            subject="Drum <b>worn</b> 'quoted' ✓",
            description="Line one\nline two; DROP TABLE x; --",
            impact="high",
            urgency="low",
            category=category,
            channel="api",
        )
        assert not ticket._state.adding and ticket.reference.startswith("HD-")
        assert _field_values(ticket) == _field_values(Ticket.objects.get(pk=ticket.pk))
        assert (ticket.tier, ticket.sla_due_at is not None) == (Tier.T2, True)


@contextmanager
def _receiving(receiver):
    """``receiver`` hears ``ticket_creating`` inside the block only."""
    ticket_creating.connect(receiver, dispatch_uid="test-creating-receiver")
    try:
        yield
    finally:
        ticket_creating.disconnect(dispatch_uid="test-creating-receiver")


@pytest.mark.django_db(transaction=True)  # the statement runs on its own, as in a request
def test_a_failing_part_leaves_nothing_written(requester):
    """A receiver's row that the database refuses takes the ticket, its event and its notification with it."""

    def bad_clock(sender, plan, **kwargs):
        clock = Clock(metric="first_response", scope=0, cycle=1, state="longer than the column", target_seconds=-1)
        plan.inserts.append(insert_select(clock, exprs={"ticket_id": "new_ticket.id"}, source="new_ticket"))

    before = (Ticket.objects.count(), TicketEvent.objects.count(), OutboxMessage.objects.count(), Clock.objects.count())
    with _receiving(bad_clock), pytest.raises(DatabaseError, match="value too long"):
        _create(requester)
    after = (Ticket.objects.count(), TicketEvent.objects.count(), OutboxMessage.objects.count(), Clock.objects.count())
    assert after == before


def test_a_guard_that_keeps_failing_writes_nothing_and_says_so(requester):
    stale_calls = []

    def never_current(sender, plan, **kwargs):
        plan.guards.append(("%s = 1", [2]))
        plan.stale.append(lambda: stale_calls.append(1))

    before = Ticket.objects.count()
    with _receiving(never_current), pytest.raises(RuntimeError, match="not written"):
        _create(requester)
    assert Ticket.objects.count() == before
    assert len(stale_calls) == 3 and OutboxMessage.objects.filter(task="tickets.tasks.notify_task").count() == 0


@pytest.mark.parametrize("bump", ["service", "another process"])
def test_a_cached_policy_book_is_not_used_once_policies_changed(requester, bump):
    before = _create(requester)  # caches the policy book
    Target.objects.filter(metric=Metric.RESOLUTION, priority=3, tier=0).update(seconds=7200)
    if bump == "service":
        sla.bump_settings_version()
    else:  # the cache here still holds the old book and its version
        assert SlaSettings.objects.update(version=12345) == 1
    after = _create(requester)
    assert Clock.objects.get(ticket=after, metric=Metric.RESOLUTION).target_seconds == 7200
    assert Clock.objects.get(ticket=before, metric=Metric.RESOLUTION).target_seconds != 7200
    assert sla.sync_ticket_clocks(Ticket.objects.get(pk=after.pk)) == []
    assert sla._book_cache.entry[0] == sla.settings_version()


def test_a_ticket_no_policy_covers_gets_no_clock_and_an_empty_summary(requester):
    Policy.objects.all().delete()
    sla.bump_settings_version()
    _create(requester)  # caches the empty book
    ticket = _create(requester)
    assert _clock_rows(ticket) == []
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None and ticket.sla_breached is False


def test_api_create_answers_what_a_read_of_the_ticket_answers(requester, agent):
    client = api(agent)
    for _ in range(2):  # the first may load the policy book; the second uses the cached one
        response = client.post(
            "/api/tickets/",
            {"subject": "VPN", "description": "Drops", "impact": "high", "urgency": "high", "requester": requester.pk},
            format="json",
        )
        assert response.status_code == 201, response.content
        created = response.json()
        assert created["sla_due_at"] is not None
        assert response["Location"] == created["url"]
        assert client.get(created["url"]).json() == created
