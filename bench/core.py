"""Benchmark sections of the core: the outbox relay and the pages that need no data."""

import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.tools import p50_ms
from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import relay_outbox


def outbox_relay(out, total: int) -> None:
    out.write(f"\n== Outbox relay over {total:,} waiting rows")
    now = timezone.now()
    batch = 10_000
    for start in range(0, total, batch):
        OutboxMessage.objects.bulk_create(
            OutboxMessage(task="bench.noop", kwargs={"n": n}, available_at=now - timedelta(seconds=1))
            for n in range(start, min(start + batch, total))
        )
        out.write(f"  seeded {min(start + batch, total):,}/{total:,}", ending="\r")
    out.write("")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_outboxmessage")  # as autovacuum would after such a burst
    # A no-op publisher isolates the database side (claim 200 rows with SKIP LOCKED, mark them
    # relayed, commit); the Redis round-trip is not what this measures.
    timings, query_counts = [], []
    for _ in range(max(1, min(20, total // 200))):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            sent = relay_outbox(now=now, batch=200, publish=lambda message: None)
            timings.append(time.perf_counter() - started)
        query_counts.append(len(queries))
        assert sent == 200
    out.write(
        f"  relay of 200 rows (commit included): p50 {p50_ms(timings):.1f} ms, max {max(timings) * 1000:.1f} ms, "
        f"SQL statements per relay: {sorted(set(query_counts))}"
    )
    OutboxMessage.objects.all().delete()


def simple_pages(out, count: int) -> None:
    out.write(f"\n== Pages through the full middleware stack, in process ({count} requests each)")
    client = Client(HTTP_HOST="localhost")
    for path in ("/accounts/login/", "/healthz"):
        timings, query_counts = [], []
        for _ in range(count):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - started)
            query_counts.append(len(queries))
        out.write(
            f"  GET {path:<18} status {response.status_code}: p50 {p50_ms(timings):.2f} ms, "
            f"SQL statements: {sorted(set(query_counts))}"
        )
