"""The ticket history, and how other apps hear about it.

Services write every change as a ``TicketEvent`` in plain sight (``record_event``). Writing
the event also announces it: ``ticket_event`` is sent inside the same transaction, so an app
such as ``sla`` (which ``tickets`` never imports) reacts atomically with the change. A new
ticket is no exception: its CREATED event is announced like every other.
"""

from __future__ import annotations

from django.dispatch import Signal

from .models import EventKind, Ticket, TicketEvent

# Sent with ``event=TicketEvent`` after the row is written, inside the caller's transaction.
ticket_event = Signal()


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
