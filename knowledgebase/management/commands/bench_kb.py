"""``manage.py bench_kb``: the knowledge-base sections of ``make bench`` alone, in their own scratch database.

Useful while working on search: seeds ``--articles`` articles (default 100,000) in a scratch
database named ``kbbench_<name>`` (so it never collides with ``make bench``'s), measures, and
drops it unless ``--keep``.
"""

import logging

from django.core.management.base import BaseCommand
from django.db import connection

from knowledgebase import bench as kb_bench


class Command(BaseCommand):
    help = "Seed articles in a scratch database and print the knowledge-base benchmark figures."

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, default=100_000)
        parser.add_argument("--duration", type=int, default=10, help="seconds of load per HTTP endpoint")
        parser.add_argument("--connections", type=int, default=2)
        parser.add_argument("--keep", action="store_true", help="keep (and reuse) the scratch database")

    def handle(self, *args, **options):
        logging.getLogger("django.request").setLevel(logging.CRITICAL)
        original_name = connection.settings_dict["NAME"]
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"kbbench_{original_name}"
        self.stdout.write("Creating a scratch database for the knowledge-base benchmark...")
        keep = options["keep"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
        try:
            if not (keep and kb_bench.seeded()):
                kb_bench.seed(self.stdout, options["articles"])
            kb_bench.measure(self.stdout, seconds=options["duration"], connections=options["connections"])
        finally:
            if not keep:
                connection.creation.destroy_test_db(original_name, verbosity=0)
                self.stdout.write("Scratch database dropped.")
