"""The benchmark's SQL-seeded clocks and surveys through the rollup: rollup == live on bulk data."""

import io
from datetime import timedelta

import pytest
from django.core.management.base import OutputWrapper
from django.utils import timezone

from bench import reports as reports_bench
from reports import kpis
from tests import factories
from tickets.models import EventKind, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_seeded_bench_data_gives_the_same_figures_from_the_rollup_and_live():
    requester, agent = factories.make_requester(), factories.make_agent(1)
    now = timezone.now()
    tickets = []
    for n in range(1500):  # one ticket an hour back over ~62 days, like the benchmark's history
        created = now - timedelta(hours=n, minutes=7)
        done = n % 10 != 0
        tickets.append(
            Ticket(
                subject=f"Bench {n}",
                description="x",
                requester=requester,
                channel=["portal", "email", "phone"][n % 3],
                priority=1 + n % 4,
                tier=1 + n % 3,
                status=Status.CLOSED if done else Status.OPEN,
                assignee=agent if n % 2 else None,
                resolution_note="Fixed." if done else "",
                created_at=created,
                first_response_at=created + timedelta(minutes=30) if n % 7 else None,
                resolved_at=created + timedelta(hours=4) if done else None,
                closed_at=created + timedelta(hours=5) if done else None,
            )
        )
    Ticket.objects.bulk_create(tickets)
    TicketEvent.objects.bulk_create(
        [TicketEvent(ticket=t, kind=EventKind.CREATED, at=t.created_at) for t in tickets]
        + [TicketEvent(ticket=t, kind=EventKind.RESOLVED, at=t.resolved_at) for t in tickets if t.resolved_at]
        + [
            TicketEvent(ticket=t, kind=EventKind.STATUS_CHANGED, at=t.resolved_at, data={"to": "resolved"})
            for t in tickets
            if t.resolved_at
        ]
    )
    reports_bench.seed(OutputWrapper(io.StringIO()))
    assert reports_bench.seeded()
    for scope in (kpis.Scope(), kpis.Scope(tier=2), kpis.Scope(channel="email", priority=3)):
        period = kpis.make_period("30d")
        live = kpis.all_figures(kpis.snapshot(scope, period, use_rollup=False))
        rolled = kpis.all_figures(kpis.snapshot(scope, period))
        assert {k: f.__dict__ for k, f in rolled.items()} == {k: f.__dict__ for k, f in live.items()}
        assert live["volume"].value > 0 and live["csat"].parts["surveys"] > 0
    assert kpis.all_figures(kpis.snapshot(kpis.Scope(), kpis.make_period("today")))["backlog"].value == 150
