"""``make bench`` seeds its tickets in SQL: the seeding keeps working as the models change.

(A column added with a Python-side default once broke the bulk INSERT of the bench's
requesters; this runs the same seeding at a small size.)
"""

import io

import pytest
from django.core.management.base import OutputWrapper

from bench import tickets as tickets_bench
from tests.tickets.test_event_schema import check_every_stored_event
from tickets.models import OPEN_STATUSES, Ticket

pytestmark = pytest.mark.django_db


def test_the_bench_seeds_tickets_with_requesters_events_and_a_realistic_backlog():
    out = io.StringIO()
    tickets_bench.seed(OutputWrapper(out), 2_000)
    seeded = Ticket.objects.filter(requester__username__startswith="bench-req-")
    assert seeded.count() == 2_000
    assert tickets_bench.seeded()
    open_share = seeded.filter(status__in=OPEN_STATUSES).count() / 2_000
    assert 0.01 < open_share < 0.06  # about 3 % open or waiting
    assert seeded.filter(events__kind="created").distinct().count() == 2_000
    assert seeded.first().requester.receive_optional_email is True
    assert "seeded 2,000 tickets" in out.getvalue()
    # The seeded history holds what each kind's schema says (the SLA engine and the KPIs read it).
    kinds = check_every_stored_event()
    assert {"created", "replied", "resolved", "closed"} <= kinds
