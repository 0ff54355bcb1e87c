"""The demo desk of ``make run`` (``manage.py seed_demo``): 90 days of history that the dashboard can read.

Seeding takes a while, so the module seeds once (in a transaction rolled back at the end) and
each test reads that desk; the idempotency test seeds a second time on top of it.
"""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.core.models import OutboxMessage, User
from knowledgebase.models import Deflection
from reports.models import Survey
from sla.defaults import ensure_defaults
from sla.models import Clock, ClockEvent
from sla.services import sync_clocks
from tests.tickets.test_event_schema import check_every_stored_event
from tickets.models import EventKind, Status, Ticket, TicketEvent, TicketMessage, Tier

COUNTED = [Ticket, TicketEvent, TicketMessage, Clock, ClockEvent, Survey, Deflection, OutboxMessage, User]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture(scope="module")
def demo_desk(django_db_setup, django_db_blocker):
    """The seeded desk: (counts after the first run, the command's output)."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_defaults()
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield counts(), out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def desk(demo_desk, db):
    return demo_desk


def test_a_second_run_adds_nothing(desk):
    first, _ = desk
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == first
    assert "Demo history" not in out.getvalue()


def test_the_desk_is_large_and_varied(desk):
    first, output = desk
    assert first["Ticket"] > 1500
    assert "Demo history:" in output  # the summary line, after the progress line
    tickets = Ticket.objects.all()
    assert {t.tier for t in tickets} == {Tier.T1, Tier.T2, Tier.T3, Tier.T4}
    assert {t.channel for t in tickets} == {"portal", "email", "phone", "api"}
    assert tickets.filter(category__isnull=False).values("category").distinct().count() >= 6
    assert set(tickets.values_list("status", flat=True)) >= {
        Status.NEW,
        Status.OPEN,
        Status.PENDING_REQUESTER,
        Status.RESOLVED,
        Status.CLOSED,
    }
    for tier in (Tier.T1, Tier.T2, Tier.T3):
        workers = tickets.filter(tier=tier, assignee__isnull=False).values("assignee").distinct().count()
        assert workers >= 2, f"tier {tier} is worked by one agent only"
    kinds = set(TicketEvent.objects.values_list("kind", flat=True).distinct())
    assert kinds >= {EventKind.ESCALATED, EventKind.REOPENED, EventKind.SLA, EventKind.NOTE_ADDED}
    assert ClockEvent.objects.filter(kind="breached").exists()
    assert Survey.objects.filter(score__isnull=False).exists()
    assert Deflection.objects.exists()


def test_the_history_fits_the_event_schemas_and_happened_before_now(desk):
    check_every_stored_event()
    assert not TicketEvent.objects.filter(at__gt=timezone.now()).exists()
    assert not TicketMessage.objects.filter(created_at__gt=timezone.now()).exists()


def test_the_clocks_are_those_the_history_implies(desk):
    # sync_clocks writes (and returns) only the clocks that differ from what the history implies.
    tickets = list(Ticket.objects.order_by("pk"))
    assert sync_clocks(tickets) == []


def test_the_past_sends_no_mail(desk):
    # The history's notifications, surveys and SLA actions belong to the past: what is queued is
    # the few live demo tickets' mail (one of them resolved, so one survey).
    tasks = Counter(OutboxMessage.objects.values_list("task", flat=True))
    assert tasks["sla.tasks.clock_event_task"] == 0
    assert tasks["reports.tasks.send_survey_task"] <= 1
    assert sum(tasks.values()) < 30


@pytest.mark.parametrize(
    "key",
    ["first_response_time", "resolution_time", "sla_response", "sla_resolution", "csat", "backlog", "deflection_rate"],
)
def test_the_dashboard_of_the_last_30_days_has_figures(desk, key):
    api = APIClient()
    api.force_authenticate(User.objects.get(username="manager"))
    response = api.get(f"/api/reports/figures/{key}/", {"period": "30d"})
    assert response.status_code == 200
    assert response.json()["figure"]["value"] > 0
