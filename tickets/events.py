"""The ticket history, and how other apps hear about it.

Services write every change as a ``TicketEvent`` in plain sight: ``record_event`` for one,
``record_events_bulk`` for a batch (beat tasks such as the auto-close and the SLA sweep). Both
are the one way events are written, and writing them also announces them: ``ticket_events``
is sent once per write, inside the caller's transaction, with every event just written, so
an app such as ``sla`` or ``reports`` (which ``tickets`` never imports) reacts atomically
with the change, and handles a batch of events as one set. A new ticket is no exception: its
CREATED event is announced like every other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.dispatch import Signal

from helpdesk.core.models import User

from .models import EventKind, Ticket, TicketEvent

# Sent with ``events=list[TicketEvent]`` after the rows are written, inside the caller's
# transaction. Each event is announced exactly once; every event's ``ticket`` is loaded.
ticket_events = Signal()


def record_event(
    ticket: Ticket,
    kind: EventKind,
    *,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    internal: bool = False,
    at: datetime | None = None,
) -> TicketEvent:
    """Append one event to ``ticket``'s history and announce it (``record_events_bulk`` of one).

    The caller holds the transaction (and the ticket's row lock for a live change). ``at``
    defaults to now. Receivers see ``ticket`` itself, so what they write on it (the SLA
    summary) is on the caller's object too.
    """
    event = TicketEvent(ticket=ticket, kind=kind, actor=actor, data=data or {}, internal=internal)
    if at is not None:
        event.at = at
    return record_events_bulk([event])[0]


def record_events_bulk(events: Sequence[TicketEvent]) -> list[TicketEvent]:
    """Append a batch of unsaved events (of one or many tickets) and announce them once, as a set.

    Invariants: the events are written in the caller's transaction (an aborted change leaves
    no history and no receiver's work behind), in one INSERT whatever the batch size, and
    each is announced exactly once. Side effects: one query loads the tickets of events
    given only a ``ticket_id``, so receivers may read ``event.ticket`` without a query per
    event; then ``ticket_events`` is sent once with the whole batch. The statements the
    receivers add depend on them: ``reports`` marks the rollup's days in one statement per
    batch, ``sla`` replays each ticket of the batch (SLA events excepted).
    """
    events = TicketEvent.objects.bulk_create(list(events))
    if not events:
        return events
    missing = {e.ticket_id for e in events if not TicketEvent.ticket.is_cached(e)}
    if missing:
        tickets = Ticket.objects.in_bulk(missing)
        for event in events:
            if not TicketEvent.ticket.is_cached(event):
                event.ticket = tickets[event.ticket_id]
    ticket_events.send(sender=Ticket, events=events)
    return events


__all__ = ["record_event", "record_events_bulk", "ticket_events"]
