"""The status lifecycle: agents' moves between open states, resolving, reopening and closing."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from .. import events, permissions
from ..events import record_event, record_events_bulk
from ..models import OPEN_STATUSES, Status, Ticket
from ._common import _clean_text, _lock, _lock_tickets, _notify, _require, _set_status, _touch

# Status changes an agent may make directly. Resolving, reopening and closing have their own
# services (they need a note, a window or a confirmation).
AGENT_TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.PENDING_REQUESTER, Status.PENDING_VENDOR},
    Status.OPEN: {Status.PENDING_REQUESTER, Status.PENDING_VENDOR},
    Status.PENDING_REQUESTER: {Status.OPEN, Status.PENDING_VENDOR},
    Status.PENDING_VENDOR: {Status.OPEN, Status.PENDING_REQUESTER},
    Status.RESOLVED: set(),
    Status.CLOSED: set(),
}


def reopen_window() -> timedelta:
    return timedelta(days=settings.TICKET_REOPEN_WINDOW_DAYS)


@retry_on_conflict
def change_status(*, ticket_id: int, by: User, status: str) -> Ticket:
    """Move an open ticket between new/open/pending states (see ``AGENT_TRANSITIONS``)."""
    if status not in Status.values:
        raise ValidationError(f"Unknown status “{status}”.")
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if status == ticket.status:
            return ticket
        if status == Status.RESOLVED:
            raise ValidationError("Resolving needs a resolution note: use Resolve.")
        if status not in AGENT_TRANSITIONS[ticket.status]:
            raise ValidationError(
                f"A ticket that is {ticket.get_status_display().lower()} cannot be set to "
                f"{Status(status).label.lower()}."
            )
        if status == Status.PENDING_VENDOR and ticket.vendor_id is None:
            raise ValidationError("Only a ticket escalated to a vendor can wait for the vendor.")
        _set_status(ticket, status, by, now)
        _touch(ticket, now, "status")
        _notify(ticket, "status")
    return ticket


@retry_on_conflict
def resolve_ticket(*, ticket_id: int, by: User, resolution_note: str, resolve_incidents: bool = False) -> Ticket:
    """Resolve with a resolution note (the Documentation step); the requester gets the survey.

    With ``resolve_incidents`` a problem ticket also resolves its open incidents, each
    carrying the same note.
    """
    note = _clean_text(resolution_note, "A resolution note")
    now = timezone.now()
    with transaction.atomic():
        # The problem and its incidents are locked together in ascending id (an incident may be
        # older than its problem). Linking locks both tickets, so once the problem is locked its
        # incidents cannot change; one linked between the read and the lock is locked after.
        incidents = Ticket.objects.filter(problem_id=ticket_id, status__in=OPEN_STATUSES).values_list("pk", flat=True)
        locked = _lock_tickets(ticket_id, *(list(incidents) if resolve_incidents else ()))
        if resolve_incidents and (late := set(incidents.all()) - locked.keys()):
            locked |= _lock_tickets(*late)
        ticket = locked[ticket_id]
        _require(permissions.can_work(by, ticket))
        if not ticket.is_open:
            raise ValidationError(f"This ticket is already {ticket.get_status_display().lower()}.")
        # Events in ascending ticket id, like the locks (README, "Row locks").
        for each in sorted(locked.values(), key=lambda t: t.pk):
            if each.pk == ticket_id:
                _mark_resolved(ticket, by, now, note, event_note=note)
            elif ticket.is_problem and each.problem_id == ticket_id and each.is_open:
                _mark_resolved(
                    each,
                    by,
                    now,
                    f"Resolved with problem {ticket.reference}: {note}",
                    event_note=note,
                    problem=ticket.pk,
                )
    return ticket


def _mark_resolved(
    ticket: Ticket, by: User, now: datetime, resolution_note: str, *, event_note: str, problem: int | None = None
) -> None:
    """The resolve step itself, for a locked open ticket: status, note, time, event, notification."""
    _set_status(ticket, Status.RESOLVED, by, now)
    ticket.resolution_note = resolution_note
    ticket.resolved_at = now
    _touch(ticket, now, "status", "resolution_note", "resolved_at")
    record_event(events.resolved(ticket, by=by, note=event_note, problem=problem, at=now))
    _notify(ticket, "resolved")


def _check_reopen_window(ticket: Ticket, now: datetime) -> None:
    if ticket.resolved_at and now - ticket.resolved_at > reopen_window():
        raise ValidationError(
            f"This ticket was resolved more than {settings.TICKET_REOPEN_WINDOW_DAYS} days ago and can no "
            "longer be reopened; please open a new ticket."
        )


def _reopen(ticket: Ticket, by: User, now: datetime, reason: str) -> None:
    _set_status(ticket, Status.OPEN, by, now)
    ticket.resolved_at = None
    ticket.resolution_note = ""
    record_event(events.reopened(ticket, by=by, reason=reason, at=now))


@retry_on_conflict
def reopen_ticket(*, ticket_id: int, by: User, reason: str = "") -> Ticket:
    """Reopen a resolved ticket: the requester within the reopen window, an agent at any time before it closes."""
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_reopen(by, ticket) or ticket.status != Status.RESOLVED)
        if ticket.status != Status.RESOLVED:
            raise ValidationError(
                "Only a resolved ticket can be reopened."
                if ticket.status != Status.CLOSED
                else "This ticket is closed; reply to it to start a new ticket."
            )
        if not permissions.can_work(by, ticket):
            _check_reopen_window(ticket, now)
        _reopen(ticket, by, now, reason.strip())
        _touch(ticket, now, "status", "resolved_at", "resolution_note")
        _notify(ticket, "reopened")
    return ticket


@retry_on_conflict
def confirm_resolution(*, ticket_id: int, by: User) -> Ticket:
    """The requester confirms the fix: the ticket closes."""
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_confirm_resolution(by, ticket) or ticket.status != Status.RESOLVED)
        if ticket.status != Status.RESOLVED:
            raise ValidationError("Only a resolved ticket can be confirmed.")
        _set_status(ticket, Status.CLOSED, by, now)
        ticket.closed_at = now
        _touch(ticket, now, "status", "closed_at")
        record_event(events.closed(ticket, by=by, why="confirmed", at=now))
    return ticket


@retry_on_conflict
def close_expired_resolved(*, now: datetime | None = None) -> int:
    """Close resolved tickets whose reopen window has ended (beat task); returns how many.

    Set-based and idempotent: up to 1,000 rows a run are claimed with SKIP LOCKED (a ticket
    someone is changing waits for the next run), a second run finds nothing. Side effects:
    each ticket gets a STATUS_CHANGED and a CLOSED event, written and announced as one batch
    (``record_events_bulk``), so ``sla`` and the KPI rollup react in the same transaction.
    """

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(status=Status.RESOLVED, resolved_at__lte=now - reopen_window())
            .values_list("pk", flat=True)[:1000]
        )
        if not ids:
            return 0
        Ticket.objects.filter(pk__in=ids).update(
            status=Status.CLOSED, closed_at=now, updated_at=now, version=F("version") + 1
        )
        record_events_bulk(
            [
                event
                for pk in ids
                for event in (
                    events.status_changed(pk, by=None, before=Status.RESOLVED, after=Status.CLOSED, at=now),
                    events.closed(pk, by=None, why="reopen window ended", at=now),
                )
            ]
        )
    return len(ids)
