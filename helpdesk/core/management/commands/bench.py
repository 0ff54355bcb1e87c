"""``make bench``: seed large data in a scratch database and print figures.

Runs against a scratch copy of the schema (``test_<name>``, created and dropped here), so
the data of ``make run`` is never touched. Later capabilities add their own sections.
"""

import statistics
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import relay_outbox


def _p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Command(BaseCommand):
    help = "Seed large data in a scratch database and print benchmark figures."

    def add_arguments(self, parser):
        parser.add_argument("--outbox", type=int, default=100_000, help="outbox rows to seed (default 100,000)")
        parser.add_argument("--requests", type=int, default=200, help="HTTP requests per page measured")

    def handle(self, *args, outbox, requests, **options):
        creation = connection.creation
        self.stdout.write("Creating a scratch database for the benchmark...")
        original_name = connection.settings_dict["NAME"]
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self._outbox(outbox)
            self._pages(requests)
        finally:
            creation.destroy_test_db(original_name, verbosity=0)
            self.stdout.write("Scratch database dropped.")

    def _outbox(self, total: int) -> None:
        self.stdout.write(f"\n== Outbox relay over {total:,} waiting rows")
        now = timezone.now()
        batch = 10_000
        for start in range(0, total, batch):
            OutboxMessage.objects.bulk_create(
                OutboxMessage(task="bench.noop", kwargs={"n": n}, available_at=now - timedelta(seconds=1))
                for n in range(start, min(start + batch, total))
            )
            self.stdout.write(f"  seeded {min(start + batch, total):,}/{total:,}", ending="\r")
        self.stdout.write("")
        # Publishing is not what is measured here (Redis round-trips are); a no-op publisher
        # isolates the database side: claim 200 rows with SKIP LOCKED and mark them relayed.
        timings, query_counts = [], []
        for _ in range(20):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                sent = relay_outbox(now=now, batch=200, publish=lambda message: None)
                timings.append(time.perf_counter() - started)
            query_counts.append(len(queries))
            assert sent == 200
        self.stdout.write(
            f"  relay of 200 rows: p50 {_p50_ms(timings):.1f} ms, max {max(timings) * 1000:.1f} ms, "
            f"SQL statements per relay: {sorted(set(query_counts))}"
        )

    def _pages(self, count: int) -> None:
        self.stdout.write(f"\n== Pages through the full middleware stack ({count} requests each)")
        client = Client(HTTP_HOST="localhost")
        for path in ("/accounts/login/", "/healthz"):
            timings, query_counts = [], []
            for _ in range(count):
                reset_queries()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(path)
                    timings.append(time.perf_counter() - started)
                query_counts.append(len(queries))
            self.stdout.write(
                f"  GET {path:<18} status {response.status_code}: p50 {_p50_ms(timings):.2f} ms, "
                f"p95 {sorted(timings)[int(len(timings) * 0.95) - 1] * 1000:.2f} ms, "
                f"SQL statements: {sorted(set(query_counts))}"
            )
