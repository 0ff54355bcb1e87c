import random
import time
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from psycopg2 import sql

from helpdesk.core import sqlnames
from helpdesk.core.models import User
from knowledgebase.demo import seed_demo_deflections, seed_kb_content
from knowledgebase.models import Deflection
from reports import rollup
from reports.models import Survey
from sla import services as sla_services
from sla.models import Clock, ClockEvent
from tickets.models import Category, Ticket, TicketEvent, TicketMessage, Vendor, VendorContact
from tickets.services import DEMO_PASSWORD, seed_demo
from tickets.services.demo import seed_demo_content
from tickets.services.demo_history import DAYS, seed_history
from tickets.services.people import DEMO_VENDOR, seed_demo_people

# How the demo requesters answered their surveys: about 40 % answer, most of them happy.
ANSWERED = 0.4
SCORES = {5: 45, 4: 30, 3: 12, 2: 8, 1: 5}
COMMENTS = {5: "Quick and friendly, thanks!", 4: "Fixed, took a little while.", 2: "Had to chase it twice."}


def sweep_history(start: datetime, now: datetime) -> int:
    """Let time pass over the history for the SLA: the sweep as beat would have run it, at the end of
    each two-hour step in which a warning or due line of a clock fell (and at ``now``).

    Each crossing is recorded once, by ``sla.services.sweep``, within two hours of its line (the
    crossing keeps its line as its due time); a step per sweep that finds nothing would cost
    time for nothing. Returns how many sweeps ran.
    """
    lines = Clock.objects.filter(
        Q(warn_at__gt=start, warn_at__lte=now) | Q(due_at__gt=start, due_at__lte=now)
    ).values_list("warn_at", "due_at")
    step = timedelta(hours=2)
    times = sorted(
        {start + step * -(-(line - start) // step) for pair in lines for line in pair if line and line > start}
    )
    for moment in [*(t for t in times if t < now), now]:
        sla_services.sweep(now=moment)
    return len(times) + 1


def answer_demo_surveys(requesters: list[User], now: datetime) -> int:
    """The demo requesters' answers to the surveys of the history's resolutions; returns how many.

    As ``reports.surveys`` leaves them: the mail sent right after the resolution, an answer
    (score 1-5, a comment) within two days of it and before the ticket closed. Written in bulk;
    the history's tickets marked their days for the KPI rollup already.
    """
    rng = random.Random(16)  # noqa: S311 - demo data, repeatable on purpose
    surveys = list(Survey.objects.filter(ticket__requester__in=requesters, sent_at__isnull=True))
    for survey in surveys:
        survey.sent_at = survey.resolved_at + timedelta(minutes=1)
        answered_at = survey.resolved_at + timedelta(minutes=rng.randint(20, 2 * 24 * 60))
        if rng.random() < ANSWERED and answered_at < now:
            survey.score = rng.choices(list(SCORES), weights=list(SCORES.values()))[0]
            survey.comment = COMMENTS.get(survey.score, "")
            survey.answered_at = answered_at
    Survey.objects.bulk_update(surveys, ["sent_at", "score", "comment", "answered_at"], batch_size=1000)
    return sum(1 for survey in surveys if survey.score is not None)


class Command(BaseCommand):
    help = (
        "Create the demo accounts (requester, agents of tiers 1-3, vendor contact, manager, admin), the demo "
        "knowledge base and about 90 days of the desk's history. Idempotent."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        rows = seed_demo()
        seed_kb_content()  # the history's deflections name its articles
        created = seed_demo_content()
        if created:
            self.stdout.write(f"Demo tickets created: {created}")
        history = self.seed_history()
        if history:
            self.stdout.write(
                f"Demo history: {history:,} tickets over {DAYS} days in {time.monotonic() - started:.0f} s"
            )
        self.stdout.write("Demo accounts (password set only when the account is created):")
        self.stdout.write(f"  {'username':<10} {'role':<16} password")
        for username, role, was_created in rows:
            note = "" if was_created else "  (existing account, password unchanged)"
            self.stdout.write(f"  {username:<10} {role:<16} {DEMO_PASSWORD}{note}")

    def seed_history(self) -> int:
        """The desk's past (``tickets.services.demo_history``), with what time would have done to it:
        the SLA sweep where its lines fell, the requesters' survey answers, the deflections."""
        agents, requesters = seed_demo_people()
        manager = User.objects.get(username="manager")
        contact = VendorContact.objects.filter(vendor__name=DEMO_VENDOR).select_related("user", "vendor").first()
        now = timezone.now()

        def progress(done: int, total: int) -> None:
            bar = "#" * (30 * done // max(total, 1))
            self.stdout.write(f"  Demo history [{bar:<30}] {done:>7,}/{total:,} events", ending="\r")
            self.stdout.flush()

        with transaction.atomic():
            written = seed_history(
                agents=agents,
                requesters=requesters,
                manager=manager,
                categories={c.name: c for c in Category.objects.all()},
                vendor=contact.vendor if contact else Vendor.objects.filter(name=DEMO_VENDOR).first(),
                vendor_contact=contact.user if contact else None,
                now=now,
                after_history=sweep_history,
                progress=progress,
            )
            if not written:
                return 0
            self.stdout.write("")
            answer_demo_surveys(requesters, now)
            seed_demo_deflections(users=requesters[1:], now=now, days=DAYS)
            today = timezone.localdate(now)
            rollup.mark_days_dirty(today - timedelta(days=DAYS + 1), today)
        analyze_history_tables()
        return written


def analyze_history_tables() -> None:
    """Fresh statistics on the tables the history filled, so the first dashboard is planned on them.

    Without them PostgreSQL plans the KPI SQL for empty tables (minutes instead of milliseconds
    over the demo's 90 days). A role that does not own the tables (``make run`` seeds as the
    application role) is skipped by PostgreSQL with a warning; autovacuum analyzes them soon after.
    """
    with connection.cursor() as cursor:
        for model in (Ticket, TicketEvent, TicketMessage, Clock, ClockEvent, Survey, Deflection):
            cursor.execute(sql.SQL("ANALYZE {}").format(sqlnames.table(model)).as_string(cursor.connection))
