"""SLA services: keep a ticket's clocks in step with its history, and the set-based sweep.

* ``sync_ticket_clocks`` replays a ticket's history (``sla.engine.replay``) and writes the
  clocks it implies. It runs inside the transaction of every ticket change (``sla`` listens to
  ``tickets.events.ticket_events``), and from ``manage.py sla_recompute``.
* ``sweep`` finds, in a few SQL statements whatever the number of tickets, the clocks that
  crossed their warning or due line, records each crossing once under a uniqueness
  constraint, queues its actions in the outbox and adds it to the ticket history through
  ``record_events_bulk`` (which announces it), all in one transaction. Concurrent sweeps skip
  each other's rows; a repeated sweep finds nothing.

Row locks (the order is the desk's, README "Row locks"): every change here locks the ticket
row before its clocks. The sweep finds clocks first, so it locks a clock *and its ticket*
with ``SKIP LOCKED`` in one statement and never waits: a ticket someone is changing at that
moment is left to the next sweep (its crossing keeps the due time as its time).
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg2 import sql

from helpdesk.core import sqlnames
from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import OutboxMessage, User
from helpdesk.core.services import enqueue
from tickets.events import record_events_bulk, sla_crossed
from tickets.models import OPEN_STATUSES, Category, EventKind, Ticket, TicketEvent

from . import clock as bt
from .engine import ClockRun, HistoryEvent, PolicyBook, PolicyView, replay
from .models import BusinessCalendar, Clock, ClockEvent, Policy, SlaSettings

CLOCK_EVENT_TASK = "sla.tasks.clock_event_task"
RECOMPUTE_TASK = "sla.tasks.recompute_open_task"
COMPUTED_FIELDS = [
    "policy_id",
    "target_seconds",
    "warning_percent",
    "started_at",
    "accrued_seconds",
    "accrued_at",
    "state",
    "pause_reason",
    "due_at",
    "warn_at",
    "ended_at",
]

# --------------------------------------------------------------------------- policies

_book_cache = threading.local()


def calendar_view(calendar: BusinessCalendar) -> bt.Calendar:
    """The pure calendar of a stored one (intervals and holidays prefetched)."""
    return bt.Calendar(
        timezone=calendar.timezone,
        intervals=tuple(bt.WorkingInterval(i.weekday, i.start, i.end) for i in calendar.intervals.all()),
        holidays=tuple(bt.Holiday(h.day, h.yearly) for h in calendar.holidays.all()),
        always_open=calendar.always_open,
    )


def settings_version() -> int:
    """The current version of the SLA settings (0 before the first one is written). Reads one row."""
    row = SlaSettings.objects.values_list("version", flat=True).first()
    return row or 0


def bump_settings_version() -> None:
    """Tell every process its policy snapshot is stale (call after changing calendars or policies).

    The version is a fresh random number rather than a counter, so it never comes back to a
    value some process cached earlier (e.g. after the table was emptied and seeded again).
    """
    version = secrets.randbits(62)
    if not SlaSettings.objects.update(version=version):
        SlaSettings.objects.create(version=version)
    # Open tickets' running clocks take the new targets and calendars (accrued time kept).
    enqueue(RECOMPUTE_TASK, kwargs={"version": version})


def recompute_open_tickets() -> int:
    """Replay every open ticket's clocks under the current policies, a ticket per transaction.

    Invariants: never call it inside a transaction (each ticket's lock must be released before
    the next is taken, or it would hold every open ticket at once and deadlock with changes
    that lock two tickets); a ticket whose transaction conflicts is run again on its own.
    Side effects: rewrites clocks and the queue summary of open tickets.
    """
    book = load_book()
    ids = list(Ticket.objects.open().order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        _recompute_ticket(pk, book)
    return len(ids)


@retry_on_conflict
def _recompute_ticket(ticket_id: int, book: PolicyBook) -> None:
    """One ticket of the recompute: its row lock first, then its clocks (README, "Row locks")."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id).first()
        if ticket is not None:
            sync_ticket_clocks(ticket, book)


def load_book() -> PolicyBook:
    """Every policy with its calendar and targets; cached per thread until the settings version changes."""
    version = settings_version()
    cached = getattr(_book_cache, "entry", None)
    if cached is not None and cached[0] == version:
        return cached[1]
    calendars = {c.pk: calendar_view(c) for c in BusinessCalendar.objects.prefetch_related("intervals", "holidays")}
    policies = Policy.objects.prefetch_related("targets")
    views = tuple(
        PolicyView(
            id=p.pk,
            name=p.name,
            calendar=calendars[p.calendar_id],
            targets={(t.metric, t.priority, t.tier): t.seconds for t in p.targets.all()},
            target_calendars={
                (t.metric, t.priority, t.tier): calendars[t.calendar_id] for t in p.targets.all() if t.calendar_id
            },
            pause_statuses=frozenset(p.pause_statuses),
            warning_percent=p.warning_percent,
            is_default=p.is_default,
            category_id=p.category_id,
            group_id=p.requester_group_id,
            channel=p.channel,
            vendor_id=p.vendor_id,
        )
        for p in policies
    )
    parents: dict[int, int | None] = dict(Category.objects.values_list("pk", "parent_id"))
    book = PolicyBook(policies=views, category_parents=parents)
    _book_cache.entry = (version, book)
    return book


# --------------------------------------------------------------------------- one ticket


def replay_ticket(
    ticket: Ticket,
    book: PolicyBook | None = None,
    history: list[TicketEvent] | None = None,
    groups: frozenset[int] | None = None,
) -> list[ClockRun]:
    """The clocks ``ticket``'s history implies.

    ``history`` (the ticket's events in order) and ``groups`` (its requester's groups) are read
    from the database unless given, as ``sync_clocks`` gives them for a batch of tickets.
    """
    book = book or load_book()
    if history is None:
        history = list(TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("at", "pk").only("kind", "at", "data"))
    events = [HistoryEvent(kind=e.kind, at=e.at, data=e.data) for e in history]
    if groups is None:
        groups = _requester_groups(book, [ticket]).get(ticket.requester_id, frozenset())
    return replay(events, book, category_id=ticket.category_id, group_ids=groups)


def _requester_groups(book: PolicyBook, tickets: Sequence[Ticket]) -> dict[int, frozenset[int]]:
    """The groups of the tickets' requesters, in one query, only if some policy matches on groups."""
    if not book.uses_groups:
        return {}
    groups: dict[int, set[int]] = defaultdict(set)
    memberships = User.groups.through.objects.filter(user_id__in={t.requester_id for t in tickets})
    for user_id, group_id in memberships.values_list("user_id", "group_id"):
        groups[user_id].add(group_id)
    return {user_id: frozenset(ids) for user_id, ids in groups.items()}


def _clock_values(run: ClockRun) -> dict[str, Any]:
    """The computed fields of a clock (``COMPUTED_FIELDS``) as ``run`` gives them."""
    return {
        "policy_id": run.policy_id,
        "target_seconds": run.target_seconds,
        "warning_percent": run.warning_percent,
        "started_at": run.started_at,
        "accrued_seconds": run.accrued_seconds,
        "accrued_at": run.accrued_at,
        "state": run.state,
        "pause_reason": run.pause_reason,
        "due_at": run.due_at,
        "warn_at": run.warn_at,
        "ended_at": run.ended_at,
    }


def sync_ticket_clocks(ticket: Ticket, book: PolicyBook | None = None) -> list[Clock]:
    """Write the clocks ``ticket``'s history implies and its queue summary (``sync_clocks`` of one)."""
    return sync_clocks([ticket], book)


def sync_clocks(tickets: Sequence[Ticket], book: PolicyBook | None = None) -> list[Clock]:
    """Write the clocks the tickets' histories imply and their queue summary (due time, breached).

    Keeps each clock's ``warned``/``breached`` marks (the sweep's), removes clocks the history
    no longer implies (e.g. after a policy edit and a recompute). The caller holds the
    transaction and, for a live change, the tickets' row locks (a ticket being created needs
    none: no one else sees it before its transaction commits). Set-based: the same statements
    for one ticket or a batch (histories, groups, clocks, then one write of each kind and one
    summary update); the tickets' ``sla_due_at``/``sla_breached`` are set on the objects given.
    Returns the clocks created or changed.
    """
    if not tickets:
        return []
    book = book or load_book()
    ids = [t.pk for t in tickets]
    histories: dict[int, list[TicketEvent]] = defaultdict(list)
    events = TicketEvent.objects.filter(ticket_id__in=ids).order_by("ticket_id", "at", "pk")
    for event in events.only("ticket_id", "kind", "at", "data"):
        histories[event.ticket_id].append(event)
    groups = _requester_groups(book, tickets)
    existing = {(c.ticket_id, c.metric, c.scope, c.cycle): c for c in Clock.objects.filter(ticket_id__in=ids)}
    to_create, to_update = [], []
    for ticket in tickets:
        runs = replay_ticket(ticket, book, histories[ticket.pk], groups.get(ticket.requester_id, frozenset()))
        for run in runs:
            values = _clock_values(run)
            current = existing.pop((ticket.pk, *run.key), None)
            if current is None:
                to_create.append(
                    Clock(ticket_id=ticket.pk, metric=run.metric, scope=run.scope, cycle=run.cycle, **values)
                )
            elif any(getattr(current, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(current, name, value)
                to_update.append(current)
    if existing:
        Clock.objects.filter(pk__in=[c.pk for c in existing.values()]).delete()
    if to_create:
        Clock.objects.bulk_create(to_create)
    if to_update:
        Clock.objects.bulk_update(to_update, COMPUTED_FIELDS)
    by_id = {t.pk: t for t in tickets}
    for pk, due_at, breached in _refresh_summary(ids):
        by_id[pk].sla_due_at, by_id[pk].sla_breached = due_at, breached
    return [*to_create, *to_update]


def _refresh_summary(ticket_ids: Iterable[int]) -> list[tuple[int, datetime | None, bool]]:
    """One UPDATE: nearest due time of running clocks and "has a breached live clock" per ticket.

    Returns ``(ticket id, sla_due_at, sla_breached)`` per ticket written.
    """
    ids = list(ticket_ids)
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_summary_statement(), {"ids": ids})
        return cursor.fetchall()


@functools.cache
def _summary_statement() -> sql.Composed:
    """The summary UPDATE, its table and column names taken from the models (composed once)."""
    return sql.SQL(
        """
        UPDATE {ticket} t SET
            {t_due_at} = (SELECT min(c.{c_due_at}) FROM {clock} c
                          WHERE c.{c_ticket} = t.{t_id} AND c.{c_state} = 'running'),
            {t_breached} = EXISTS (SELECT 1 FROM {clock} c
                                   WHERE c.{c_ticket} = t.{t_id} AND c.{c_breached}
                                     AND c.{c_state} IN ('running', 'paused'))
        WHERE t.{t_id} = ANY(%(ids)s)
        RETURNING t.{t_id}, t.{t_due_at}, t.{t_breached}
        """
    ).format(
        ticket=sqlnames.table(Ticket),
        t_id=sqlnames.column(Ticket, "id"),
        t_due_at=sqlnames.column(Ticket, "sla_due_at"),
        t_breached=sqlnames.column(Ticket, "sla_breached"),
        clock=sqlnames.table(Clock),
        c_ticket=sqlnames.column(Clock, "ticket"),
        c_due_at=sqlnames.column(Clock, "due_at"),
        c_state=sqlnames.column(Clock, "state"),
        c_breached=sqlnames.column(Clock, "breached"),
    )


def on_ticket_events(sender: type[Ticket], events: list[TicketEvent], **kwargs: object) -> None:
    """``ticket_events`` receiver: bring the clocks of the batch's tickets up to date, in its transaction.

    Each ticket is replayed once however many of its events the batch holds, the batch in one
    set of statements (``sync_clocks``; the writer holds the tickets' row locks). SLA events
    are the sweep's own record of a crossing and change no clock, so a sweep batch costs
    nothing here.
    """
    tickets = {e.ticket_id: e.ticket for e in events if e.kind != EventKind.SLA}
    sync_clocks([tickets[pk] for pk in sorted(tickets)])


# --------------------------------------------------------------------------- the sweep

# A tuple, which psycopg2 sends as the SQL list that IN takes.
OPEN = tuple(str(status) for status in OPEN_STATUSES)

# The sweep's statement for one kind of line; ``{line}`` and ``{flag}`` are the clock's time
# and mark columns of that kind, the other names come from the models (``_sweep_statement``).
# The CTEs name their output columns themselves, so only the tables' own columns follow the
# models.
SWEEP_SQL = """
WITH crossed AS (
    SELECT c.{c_id} AS id, c.{c_ticket} AS ticket_id, c.{c_metric} AS metric, c.{c_scope} AS scope,
           c.{c_cycle} AS cycle, c.{line} AS at
    FROM {clock} c JOIN {ticket} t ON t.{t_id} = c.{c_ticket}
    WHERE NOT c.{flag} AND c.{line} <= %(now)s
    ORDER BY c.{line}
    LIMIT %(batch)s
    FOR UPDATE OF c SKIP LOCKED
    FOR NO KEY UPDATE OF t SKIP LOCKED
), marked AS (
    UPDATE {clock} SET {flag} = true FROM crossed WHERE {clock}.{c_id} = crossed.id RETURNING {clock}.{c_id} AS id
), recorded AS (
    INSERT INTO {event} ({e_ticket}, {e_metric}, {e_scope}, {e_cycle}, {e_kind}, {e_at}, {e_recorded_at}, {e_tier},
                         {e_data})
    SELECT cr.ticket_id, cr.metric, cr.scope, cr.cycle, %(kind)s, cr.at, %(now)s, t.{t_tier}, '{{}}'::jsonb
    FROM crossed cr JOIN {ticket} t ON t.{t_id} = cr.ticket_id
    WHERE cr.id IN (SELECT id FROM marked)
    ON CONFLICT ON CONSTRAINT {e_once} DO NOTHING
    RETURNING {e_id} AS id, {e_ticket} AS ticket_id, {e_metric} AS metric, {e_scope} AS scope,
              {e_cycle} AS cycle, {e_at} AS at
), queued AS (
    INSERT INTO {outbox} ({o_task}, {o_kwargs}, {o_dedupe_key}, {o_status}, {o_attempts}, {o_available_at},
                          {o_created_at}, {o_last_error})
    SELECT %(task)s, jsonb_build_object('event_id', r.id), 'sla-event:' || r.id, 'pending', 0, %(now)s, %(now)s, ''
    FROM recorded r
    RETURNING {o_id}
), flagged AS (
    UPDATE {ticket} t SET {t_breached} = true
    WHERE %(kind)s = 'breached' AND t.{t_id} IN (SELECT ticket_id FROM recorded)
      AND t.{t_status} IN %(open_statuses)s
    RETURNING t.{t_id}
)
SELECT ticket_id, metric, scope, cycle, at FROM recorded ORDER BY ticket_id, id
"""


@functools.cache
def _sweep_statement(line: str, flag: str) -> sql.Composed:
    """The sweep's statement for the clock fields ``line`` (a time) and ``flag`` (its mark), composed once."""
    return sql.SQL(SWEEP_SQL).format(
        line=sqlnames.column(Clock, line),
        flag=sqlnames.column(Clock, flag),
        clock=sqlnames.table(Clock),
        c_id=sqlnames.column(Clock, "id"),
        c_ticket=sqlnames.column(Clock, "ticket"),
        c_metric=sqlnames.column(Clock, "metric"),
        c_scope=sqlnames.column(Clock, "scope"),
        c_cycle=sqlnames.column(Clock, "cycle"),
        ticket=sqlnames.table(Ticket),
        t_id=sqlnames.column(Ticket, "id"),
        t_tier=sqlnames.column(Ticket, "tier"),
        t_status=sqlnames.column(Ticket, "status"),
        t_breached=sqlnames.column(Ticket, "sla_breached"),
        event=sqlnames.table(ClockEvent),
        e_id=sqlnames.column(ClockEvent, "id"),
        e_ticket=sqlnames.column(ClockEvent, "ticket"),
        e_metric=sqlnames.column(ClockEvent, "metric"),
        e_scope=sqlnames.column(ClockEvent, "scope"),
        e_cycle=sqlnames.column(ClockEvent, "cycle"),
        e_kind=sqlnames.column(ClockEvent, "kind"),
        e_at=sqlnames.column(ClockEvent, "at"),
        e_recorded_at=sqlnames.column(ClockEvent, "recorded_at"),
        e_tier=sqlnames.column(ClockEvent, "tier"),
        e_data=sqlnames.column(ClockEvent, "data"),
        e_once=sqlnames.constraint(ClockEvent, "sla_clock_event_once"),
        outbox=sqlnames.table(OutboxMessage),
        o_id=sqlnames.column(OutboxMessage, "id"),
        o_task=sqlnames.column(OutboxMessage, "task"),
        o_kwargs=sqlnames.column(OutboxMessage, "kwargs"),
        o_dedupe_key=sqlnames.column(OutboxMessage, "dedupe_key"),
        o_status=sqlnames.column(OutboxMessage, "status"),
        o_attempts=sqlnames.column(OutboxMessage, "attempts"),
        o_available_at=sqlnames.column(OutboxMessage, "available_at"),
        o_created_at=sqlnames.column(OutboxMessage, "created_at"),
        o_last_error=sqlnames.column(OutboxMessage, "last_error"),
    )


def sweep(*, now: datetime | None = None, batch: int = 5000) -> dict[str, int]:
    """Record every warning and breach due by ``now``, each once; queue their actions.

    Two kinds (warnings, then breaches), each in batches until a batch records nothing; the
    round is run again until one records nothing at all. A batch is one statement (find,
    mark, record, queue) and the history's bulk write with its announcement, a fixed number
    of statements whatever the batch size. Returns how many of each were recorded.
    """
    now = now or timezone.now()
    recorded = {"warning": 0, "breached": 0}
    while True:
        in_round = 0
        for kind, line, flag in (("warning", "warn_at", "warned"), ("breached", "due_at", "breached")):
            statement = _sweep_statement(line, flag)
            while True:
                params = {"now": now, "batch": batch, "kind": kind, "task": CLOCK_EVENT_TASK, "open_statuses": OPEN}
                count = _sweep_batch(statement, params)
                recorded[kind] += count
                in_round += count
                # Until a batch finds nothing: a short batch may have skipped rows another sweep
                # held, which are free once it committed (rows of a ticket someone is changing
                # stay for the next sweep).
                if count == 0:
                    break
        # A concurrent sweep's breach batch holds its tickets, so warnings of those tickets were
        # skipped here and it will not come back for them: a round that recorded anything is
        # run again, and the last sweep to commit a crossing finds whatever was left.
        if in_round == 0:
            return recorded


@retry_on_conflict
def _sweep_batch(statement: sql.Composed, params: dict[str, Any]) -> int:
    """One batch of the sweep in its own transaction (run again on a conflict): crossings recorded.

    The statement records the crossings; each becomes an internal SLA event of its ticket's
    history, written and announced as one batch. A conflict costs this batch a second run,
    never the batches already committed.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            crossings = cursor.fetchall()
        record_events_bulk(
            [
                sla_crossed(
                    ticket_id,
                    crossing=params["kind"],
                    metric=metric,
                    scope=scope,
                    cycle=cycle,
                    due=due,
                    at=params["now"],
                )
                for ticket_id, metric, scope, cycle, due in crossings
            ]
        )
    return len(crossings)


__all__ = [
    "bump_settings_version",
    "calendar_view",
    "load_book",
    "on_ticket_events",
    "recompute_open_tickets",
    "replay_ticket",
    "sweep",
    "sync_clocks",
    "sync_ticket_clocks",
]
