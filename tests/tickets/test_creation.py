"""Creating a ticket: one transaction of ordinary writes, with the SLA following the CREATED event.

* the new ticket's clocks and SLA summary are what a replay of its history computes, under the
  policies in force (also right after an edit in another process);
* the CREATED event and the "received" notification are written once, with the ticket;
* all or nothing: a failure anywhere (even at the last attachment row) leaves no ticket, event,
  clock, notification, attachment or file; a deadlock runs the creation again, which then
  happens once and counts once against the rate limit;
* the ticket in hand, and the API's answer, are what the database holds.
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.core import ratelimit
from helpdesk.core.db import ATTEMPTS, TransactionConflict
from helpdesk.core.models import OutboxMessage
from sla import services as sla
from sla.defaults import ensure_defaults
from sla.models import Clock, ClockState, Metric, Policy, SlaSettings, Target
from tests import db_faults, factories
from tests.tickets.test_api_support import api
from tickets import services
from tickets.models import Attachment, EventKind, Ticket, TicketEvent, Tier

inject_deadlock = db_faults.inject_deadlock  # the fixture, for this module's tests

MONDAY_MORNING = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CLOCK_COLUMNS = [f.attname for f in Clock._meta.concrete_fields if f.attname not in {"id", "ticket_id"}]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _clock_rows(ticket) -> list[tuple]:
    return sorted(Clock.objects.filter(ticket=ticket).values_list(*CLOCK_COLUMNS))


def _create(requester, impact: str = "medium", urgency: str = "medium", **extra) -> Ticket:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        return services.create_ticket(
            requester=requester,
            by=requester,
            subject="Screen",
            description="Flickers",
            impact=impact,
            urgency=urgency,
            **extra,
        )


def _counts() -> tuple[int, ...]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Clock.objects.count(),
        OutboxMessage.objects.count(),
        Attachment.objects.count(),
    )


@pytest.mark.parametrize(("impact", "urgency"), [("high", "high"), ("medium", "medium"), ("low", "low")])
def test_new_ticket_clocks_and_summary_are_what_the_replay_computes(requester, impact, urgency):
    ticket = _create(requester, impact, urgency)
    runs = sla.replay_ticket(Ticket.objects.get(pk=ticket.pk))
    assert _clock_rows(ticket) != []
    assert sorted((r.metric, r.scope, r.cycle, r.due_at) for r in runs) == sorted(
        Clock.objects.filter(ticket=ticket).values_list("metric", "scope", "cycle", "due_at")
    )
    # The summary: the nearest due time of the running clocks; nothing breached yet.
    nearest = min(r.due_at for r in runs if r.state == ClockState.RUNNING)
    assert (ticket.sla_due_at, ticket.sla_breached) == (nearest, False)
    assert sla.sync_ticket_clocks(Ticket.objects.get(pk=ticket.pk)) == []  # nothing to create or change
    ticket.refresh_from_db()
    assert (ticket.sla_due_at, ticket.sla_breached) == (nearest, False)


def test_a_new_ticket_gets_its_event_clocks_and_one_notification(requester):
    ticket = _create(requester)
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
    ticket = services.create_ticket(
        requester=requester,
        by=requester,
        subject="Drum <b>worn</b>\n'quoted' ✓",
        description="Line one\nline two; DROP TABLE x; --",
        impact="high",
        urgency="low",
        category=category,
        channel="api",
    )
    assert not ticket._state.adding and ticket.reference.startswith("HD-")
    assert _field_values(ticket) == _field_values(Ticket.objects.get(pk=ticket.pk))
    assert (ticket.subject, ticket.tier, ticket.version) == ("Drum <b>worn</b> 'quoted' ✓", Tier.T2, 1)
    assert ticket.sla_due_at is not None


@pytest.mark.parametrize("bump", ["service", "another process"])
def test_a_new_ticket_takes_the_policies_in_force(requester, bump):
    before = _create(requester)  # this process now holds the policy book
    Target.objects.filter(metric=Metric.RESOLUTION, priority=3, tier=0).update(seconds=7200)
    if bump == "service":
        sla.bump_settings_version()
    else:  # only the version row changes: this process's book is out of date
        assert SlaSettings.objects.update(version=12345) == 1
    after = _create(requester)
    assert Clock.objects.get(ticket=after, metric=Metric.RESOLUTION).target_seconds == 7200
    assert Clock.objects.get(ticket=before, metric=Metric.RESOLUTION).target_seconds != 7200


def test_a_ticket_no_policy_covers_gets_no_clock_and_an_empty_summary(requester):
    Policy.objects.all().delete()
    sla.bump_settings_version()
    ticket = _create(requester)
    assert _clock_rows(ticket) == []
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None and ticket.sla_breached is False


def test_api_create_answers_what_a_read_of_the_ticket_answers(requester, agent):
    client = api(agent)
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


# --------------------------------------------------------------------------- failures (own transactions)


@pytest.mark.django_db(transaction=True)  # a retry needs a transaction of its own, as in a request
def test_a_failure_at_the_last_write_leaves_nothing_written(inject_deadlock, settings, tmp_path):
    """The attachment row is written last: refusing it takes the ticket, its event, clocks,
    notification and the stored file with it."""
    ensure_defaults()  # a flushed database has no SLA policy: the clocks must be there to roll back
    settings.MEDIA_ROOT = tmp_path / "media"
    requester = factories.make_requester()
    before = _counts()
    inject_deadlock("tickets_attachment", event="INSERT")
    upload = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    with pytest.raises(TransactionConflict):
        _create(requester, uploads=[upload])
    assert db_faults.calls() == ATTEMPTS  # each run got as far as the attachment row
    assert _counts() == before
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_creation_runs_again_and_happens_once(inject_deadlock, settings):
    ensure_defaults()
    limits = settings.RATE_LIMITS["create_ticket"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "create_ticket": {**limits, "user": "1/10m"}}
    requester = factories.make_requester()
    inject_deadlock("core_outboxmessage", when="n <= 2", event="INSERT")  # the first two runs are aborted
    with ratelimit.limited(address=None):  # counted as in a request (at the real time: Redis expires keys)
        ticket = services.create_ticket(requester=requester, by=requester, subject="VPN", description="Drops")
    assert db_faults.calls() == 3
    assert Ticket.objects.filter(requester=requester).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).count() == 1
    assert OutboxMessage.objects.filter(kwargs__ticket_id=ticket.pk, kwargs__event="received").count() == 1
    assert len(_clock_rows(ticket)) == 3
    # The limit of one was counted once, by the creation that happened: the next is refused.
    with ratelimit.limited(address=None), pytest.raises(ratelimit.RateLimited):
        services.create_ticket(requester=requester, by=requester, subject="VPN", description="Again")
    assert Ticket.objects.filter(requester=requester).count() == 1
