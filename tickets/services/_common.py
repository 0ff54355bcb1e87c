"""Helpers shared by the ticket services: locking rows, refusing, cleaning text, saving, notifying.

Every service runs in one transaction, locks the ticket row it changes
(``select_for_update``), refuses what the rules forbid with a ``ValidationError`` whose
message is meant for people (nothing is written then), records each change as a
``TicketEvent`` and queues notifications through the outbox. Locks follow the desk's order
(``helpdesk.core.db``): ticket rows first, several at once in ascending id (``_lock_tickets``);
each service runs its transaction again after a deadlock (``retry_on_conflict``).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError

from helpdesk.core.models import User
from helpdesk.core.services import enqueue

from .. import events
from ..events import record_event
from ..models import Ticket
from .text import one_line

NOTIFY_TASK = "tickets.tasks.notify_task"


def _lock(ticket_id: int) -> Ticket:
    """Lock one ticket row (``FOR UPDATE``), the first lock of a change (see ``helpdesk.core.db``)."""
    try:
        return Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise ValidationError("That ticket does not exist.") from None


def _lock_tickets(*ticket_ids: int) -> dict[int, Ticket]:
    """Lock several ticket rows at once, in ascending id (the desk's lock order); by id.

    One statement: PostgreSQL sorts before it locks, so two changes naming the same tickets
    in any order queue up instead of deadlocking. A missing ticket is refused like ``_lock``.
    """
    ids = sorted(set(ticket_ids))
    locked = {t.pk: t for t in Ticket.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise ValidationError("That ticket does not exist.")
    return locked


def _require(allowed: bool, message: str = "You may not do that on this ticket.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _clean_text(value: str, what: str, *, max_length: int | None = None, single_line: bool = False) -> str:
    """``value`` trimmed (and with ``single_line`` made one line), refused when empty or too long."""
    value = one_line(value) if single_line else (value or "").strip()
    if not value:
        raise ValidationError(f"{what} is required.")
    if max_length and len(value) > max_length:
        raise ValidationError(f"{what} must be at most {max_length} characters.")
    return value


def _touch(ticket: Ticket, now: datetime, *fields: str) -> None:
    """Save ``fields`` of a ticket locked by the caller; a change of its own fields bumps ``version``.

    A conversation-only change (a reply that moves no status) saves just ``updated_at`` and
    keeps the version, so an edit of the priority is not refused because someone replied.
    """
    ticket.updated_at = now
    if fields:
        ticket.version += 1  # the row is locked (``_lock``): no other writer between read and write
        fields = (*fields, "version")
    ticket.save(update_fields=[*fields, "updated_at"])


def _notify(ticket: Ticket, event: str, **extra: object) -> None:
    """Queue a notification about ``ticket`` (delivered by Celery after commit, through the outbox)."""
    enqueue(NOTIFY_TASK, kwargs={"ticket_id": ticket.pk, "event": event, **extra})


def _set_status(ticket: Ticket, status: str, by: User, now: datetime) -> None:
    record_event(events.status_changed(ticket, by=by, before=ticket.status, after=status, at=now))
    ticket.status = status
