"""The ticket history, and how other apps hear about it.

Services write every change as a ``TicketEvent`` in plain sight (``record_event``). Writing
the event also announces it: ``ticket_event`` is sent inside the same transaction, so an app
such as ``sla`` (which ``tickets`` never imports) reacts atomically with the change. A new
ticket is the exception: it is written by one statement, and apps add their rows to that
statement through ``ticket_creating`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.dispatch import Signal

from .models import EventKind, Ticket, TicketEvent

# Sent with ``event=TicketEvent`` after the row is written, inside the caller's transaction.
# Not sent for a new ticket's CREATED event: see ``ticket_creating``.
ticket_event = Signal()

# Sent with ``plan=CreationPlan`` before a new ticket is written. The ticket, its CREATED event
# and whatever receivers add are written by one statement, so a receiver says what it writes
# instead of writing it. A ticket created now has no history and no past days, so only what
# must exist from its first moment belongs here (its SLA clocks).
ticket_creating = Signal()


@dataclass
class CreationPlan:
    """What the statement creating ``ticket`` writes besides the ticket and its first event.

    * ``ticket`` and ``event`` are unsaved; receivers may fill the ticket's fields they own
      (the SLA summary) and read the rest.
    * ``guards``: SQL conditions, with their parameters, checked in the statement's snapshot;
      if one is false nothing at all is written and ``stale`` callbacks run before the plan
      is gathered again (e.g. a receiver worked from a cache that is out of date).
    * ``inserts``: ``INSERT ... SELECT ... FROM new_ticket`` statements with their parameters;
      the CTE ``new_ticket`` returns the new ticket's ``id``.
    """

    ticket: Ticket
    event: TicketEvent
    guards: list[tuple[str, list]] = field(default_factory=list)
    inserts: list[tuple[str, list]] = field(default_factory=list)
    stale: list[Callable[[], None]] = field(default_factory=list)


def record_event(
    ticket: Ticket, kind: EventKind, *, actor=None, data: dict | None = None, internal: bool = False, at=None
) -> TicketEvent:
    """Append one event to ``ticket``'s history and announce it. The caller holds the transaction."""
    fields = {"ticket": ticket, "kind": kind, "actor": actor, "data": data or {}, "internal": internal}
    if at is not None:
        fields["at"] = at
    event = TicketEvent.objects.create(**fields)
    ticket_event.send(sender=Ticket, event=event)
    return event
