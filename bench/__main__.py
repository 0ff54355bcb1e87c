"""``python -m bench``: seed large data in a scratch database and print figures (``make bench``).

The scratch database (``test_<name>``, or ``kbbench_<name>`` with ``--kb-only``) is created and
dropped here, so the data of ``make run`` is never touched. Each app contributes its sections.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Seed large data in a scratch database and print benchmark figures."
    )
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to seed (default 1,000,000)")
    parser.add_argument(
        "--articles", type=int, default=100_000, help="knowledge-base articles to seed (default 100,000)"
    )
    parser.add_argument("--outbox", type=int, default=100_000, help="outbox rows to seed (default 100,000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per HTTP endpoint")
    parser.add_argument("--connections", type=int, default=2, help="HTTP connections of the page latency runs")
    parser.add_argument("--small", action="store_true", help="small sizes, for a quick look")
    parser.add_argument(
        "--kb-only",
        action="store_true",
        help="only the knowledge-base sections, in their own scratch database (useful while working on search)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch database afterwards and reuse a kept one (skips seeding what it holds)",
    )
    options = parser.parse_args(argv)
    if options.small:
        options.tickets, options.outbox, options.duration, options.articles = 20_000, 10_000, 3, 5_000
    return options


def run(out, options: argparse.Namespace) -> None:
    """Every section in order, in a scratch database that is dropped afterwards unless ``--keep``."""
    # Imported here: the section modules load models, so Django must be set up first.
    from django.db import connection

    from bench import core, knowledgebase, reports, sla, tickets

    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    original_name = connection.settings_dict["NAME"]
    if options.kb_only:
        # Its own name, so it never collides with (or drops) a kept full-bench database.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"kbbench_{original_name}"
    out.write("Creating a scratch database for the benchmark...")
    keep = options.keep
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
    load = {"seconds": options.duration, "connections": options.connections}
    try:
        if not options.kb_only:
            core.outbox_relay(out, options.outbox)
            core.simple_pages(out, 100)
            if not (keep and tickets.seeded()):
                tickets.seed(out, options.tickets)
        if not (keep and knowledgebase.seeded()):
            knowledgebase.seed(out, options.articles)
        if not options.kb_only:
            # After the articles: the ticket page shows the knowledge-base panel, whose cost
            # depends on how many articles there are.
            tickets.measure(out, **load)
        knowledgebase.measure(out, **load)
        if not options.kb_only:
            sla.sweep_benchmark(out, clocks=min(100_000, options.tickets))
            if not (keep and reports.seeded()):
                reports.seed(out)
            reports.measure(out, **load)
    finally:
        if keep:
            out.write("Scratch database kept (--keep): the next --keep run reuses it.")
        else:
            connection.creation.destroy_test_db(original_name, verbosity=0)
            out.write("Scratch database dropped.")


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)  # before Django starts, so --help needs no database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")
    import django
    from django.core.management.base import OutputWrapper

    django.setup()
    run(OutputWrapper(sys.stdout), options)


if __name__ == "__main__":
    main()
