"""``make bench`` section for the SLA sweep: 100,000 running clocks, 1,000 of them crossing a line."""

from __future__ import annotations

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla.defaults import ensure_defaults
from sla.models import Clock, ClockEvent, Policy
from sla.services import sweep


def sweep_benchmark(out, *, clocks: int = 100_000, crossing: int = 1_000) -> None:
    """Seed ``clocks`` running clocks on existing tickets (``crossing`` of them past a line), time the sweep."""
    ensure_defaults()
    out.write(f"\n== SLA sweep over {clocks:,} running clocks, {crossing:,} of them crossing a line")
    now = timezone.now()
    policy_id = Policy.objects.values_list("pk", flat=True).first()
    Clock.objects.filter(metric="resolution", cycle=99).delete()
    # Lines other sections' data already crossed (a kept database) are swept first, untimed,
    # so the timed sweep finds exactly the crossings seeded here.
    sweep(now=now)
    with connection.cursor() as cursor:
        # Half of the crossing clocks passed their warning line only, half their due time too.
        cursor.execute(
            """
            INSERT INTO sla_clock (ticket_id, metric, scope, cycle, policy_id, target_seconds, warning_percent,
                                   started_at, accrued_seconds, accrued_at, state, pause_reason, due_at, warn_at,
                                   ended_at, warned, breached)
            SELECT t.id, 'resolution', 0, 99, %(policy)s, 14400, 75, %(now)s - interval '1 hour', 0,
                   %(now)s - interval '1 hour', 'running', '',
                   CASE WHEN n <= %(half)s THEN %(now)s - interval '1 minute'
                        WHEN n <= %(crossing)s THEN %(now)s + interval '10 minutes'
                        ELSE %(now)s + interval '3 hours' END,
                   CASE WHEN n <= %(crossing)s THEN %(now)s - interval '2 minutes'
                        ELSE %(now)s + interval '2 hours' END,
                   NULL, false, false
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tickets_ticket ORDER BY id LIMIT %(clocks)s) t
            """,
            {"policy": policy_id, "now": now, "half": crossing // 2, "crossing": crossing, "clocks": clocks},
        )
        seeded = cursor.rowcount
        cursor.execute("ANALYZE sla_clock")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        recorded = sweep(now=now)
        elapsed = time.perf_counter() - started
    lines = recorded["warning"] + recorded["breached"]
    out.write(
        f"  {seeded:,} clocks: sweep recorded {recorded['warning']:,} warnings + {recorded['breached']:,} breaches "
        f"({lines:,} lines) in {elapsed * 1000:.0f} ms with {len(queries)} SQL statements"
    )
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        again = sweep(now=now)
        elapsed = time.perf_counter() - started
    out.write(
        f"  repeated sweep: {again['warning'] + again['breached']} new lines in {elapsed * 1000:.0f} ms, "
        f"{len(queries)} SQL statements"
    )
    ClockEvent.objects.filter(cycle=99).delete()
    Clock.objects.filter(metric="resolution", cycle=99).delete()
