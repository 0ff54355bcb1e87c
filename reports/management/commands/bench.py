"""``make bench``: seed large data in a scratch database and print figures.

The scratch database (``test_<name>``) is created and dropped here, so the data of
``make run`` is never touched. Each app contributes its sections.
"""

import logging

from django.core.management.base import BaseCommand
from django.db import connection

from helpdesk.core import bench as core_bench
from knowledgebase import bench as kb_bench
from reports import bench as reports_bench
from sla import bench as sla_bench
from tickets import bench as tickets_bench


class Command(BaseCommand):
    help = "Seed large data in a scratch database and print benchmark figures."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to seed (default 1,000,000)")
        parser.add_argument(
            "--articles", type=int, default=100_000, help="knowledge-base articles to seed (default 100,000)"
        )
        parser.add_argument("--outbox", type=int, default=100_000, help="outbox rows to seed (default 100,000)")
        parser.add_argument("--duration", type=int, default=10, help="seconds of load per HTTP endpoint")
        parser.add_argument("--connections", type=int, default=2, help="HTTP connections of the page latency runs")
        parser.add_argument("--small", action="store_true", help="small sizes, for a quick look")
        parser.add_argument(
            "--keep",
            action="store_true",
            help="keep the scratch database afterwards and reuse a kept one (skips seeding what it holds)",
        )

    def handle(self, *args, **options):
        if options["small"]:
            options.update(tickets=20_000, outbox=10_000, duration=3, articles=5_000)
        logging.getLogger("django.request").setLevel(logging.CRITICAL)
        original_name = connection.settings_dict["NAME"]
        self.stdout.write("Creating a scratch database for the benchmark...")
        keep = options["keep"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
        try:
            core_bench.outbox_relay(self.stdout, options["outbox"])
            core_bench.simple_pages(self.stdout, 100)
            if not (keep and tickets_bench.seeded()):
                tickets_bench.seed(self.stdout, options["tickets"])
            tickets_bench.measure(self.stdout, seconds=options["duration"], connections=options["connections"])
            if not (keep and kb_bench.seeded()):
                kb_bench.seed(self.stdout, options["articles"])
            kb_bench.measure(self.stdout, seconds=options["duration"], connections=options["connections"])
            sla_bench.sweep_benchmark(self.stdout, clocks=min(100_000, options["tickets"]))
            if not (keep and reports_bench.seeded()):
                reports_bench.seed(self.stdout)
            reports_bench.measure(self.stdout, seconds=options["duration"], connections=options["connections"])
        finally:
            if keep:
                self.stdout.write("Scratch database kept (--keep): the next --keep run reuses it.")
            else:
                connection.creation.destroy_test_db(original_name, verbosity=0)
                self.stdout.write("Scratch database dropped.")
