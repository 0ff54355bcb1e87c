"""Merging duplicates and linking tickets (incident -> problem, related)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.core.db import retry_on_conflict

from .. import events, permissions
from ..events import record_event
from ..models import MessageKind, Status, Ticket, TicketMessage
from ._common import _lock_tickets, _require, _set_status, _touch


@retry_on_conflict
def merge_tickets(*, duplicate_id: int, into_id: int, by) -> Ticket:
    """Merge ``duplicate`` into ``into``: its conversation is copied over (each message keeps its
    author, kind and time), its requester and watchers follow ``into``, and the duplicate
    closes with a link to ``into``. Both tickets record the merge.
    """
    if duplicate_id == into_id:
        raise ValidationError("A ticket cannot be merged into itself.")
    now = timezone.now()
    with transaction.atomic():
        # Both rows in ascending id (README, "Row locks"): two merges of the same pair queue up.
        locked = _lock_tickets(duplicate_id, into_id)
        duplicate, into = locked[duplicate_id], locked[into_id]
        _require(permissions.can_work(by, duplicate) and permissions.can_work(by, into))
        if not duplicate.is_open:
            raise ValidationError(f"{duplicate.reference} is already {duplicate.get_status_display().lower()}.")
        if into.status == Status.CLOSED:
            raise ValidationError(f"{into.reference} is closed; merge into an open ticket.")
        if into.merged_into_id == duplicate.pk:
            raise ValidationError(f"{into.reference} was itself merged into {duplicate.reference}.")
        header = TicketMessage(
            ticket=into,
            author=by,
            kind=MessageKind.INTERNAL,
            body=f"Merged from {duplicate.reference}: {duplicate.subject}\n\n{duplicate.description}",
            created_at=now,
        )
        copies = [
            TicketMessage(
                ticket=into, author_id=m.author_id, kind=m.kind, body=m.body, channel=m.channel, created_at=m.created_at
            )
            for m in duplicate.messages.all()
        ]
        TicketMessage.objects.bulk_create([header, *copies])
        followers = {duplicate.requester_id, *duplicate.watchers.values_list("pk", flat=True)} - {into.requester_id}
        into.watchers.add(*followers)
        duplicate.merged_into = into
        # Each ticket's events in ascending ticket id, like the locks (README, "Row locks").
        if into.pk < duplicate.pk:
            record_event(events.merged_from(into, by=by, duplicate=duplicate.pk, messages=len(copies), at=now))
        _set_status(duplicate, Status.RESOLVED, by, now)
        _set_status(duplicate, Status.CLOSED, by, now)
        duplicate.resolution_note = f"Duplicate of {into.reference}."
        duplicate.resolved_at = duplicate.closed_at = now
        _touch(duplicate, now, "merged_into", "status", "resolution_note", "resolved_at", "closed_at")
        record_event(events.merged_into(duplicate, by=by, into=into.pk, at=now))
        if into.pk > duplicate.pk:
            record_event(events.merged_from(into, by=by, duplicate=duplicate.pk, messages=len(copies), at=now))
        _touch(into, now)
    return into


@retry_on_conflict
def link_to_problem(*, incident_id: int, problem_id: int | None, by) -> Ticket:
    """Point an incident at a problem ticket (or unlink it with None); the problem is marked as one."""
    if problem_id == incident_id:
        raise ValidationError("A ticket cannot be its own problem.")
    with transaction.atomic():
        # Both tickets in one statement, in ascending id (README, "Row locks").
        locked = _lock_tickets(incident_id, *(() if problem_id is None else (problem_id,)))
        incident = locked[incident_id]
        _require(permissions.can_work(by, incident))
        if problem_id is None:
            previous = incident.problem_id
            incident.problem = None
            _touch(incident, timezone.now(), "problem")
            record_event(events.unlinked_from_problem(incident, by=by, previous=previous))
            return incident
        problem = locked[problem_id]
        _require(permissions.can_work(by, problem))
        if problem.problem_id is not None:
            raise ValidationError(f"{problem.reference} is itself an incident of another problem.")
        if incident.is_problem and incident.incidents.exists():
            raise ValidationError(f"{incident.reference} is a problem with incidents of its own.")
        if not problem.is_problem:
            problem.is_problem = True
            _touch(problem, timezone.now(), "is_problem")
        incident.problem = problem
        _touch(incident, timezone.now(), "problem")
        # Events (and what they make other apps lock) in ascending ticket id, like the rows.
        pair = [
            events.linked_to_problem(incident, by=by, problem=problem.pk),
            events.incident_linked(problem, by=by, incident=incident.pk),
        ]
        for event in sorted(pair, key=lambda e: e.ticket_id):
            record_event(event)
    return incident


@retry_on_conflict
def link_related(*, ticket_id: int, other_id: int, by) -> Ticket:
    if ticket_id == other_id:
        raise ValidationError("A ticket cannot be related to itself.")
    with transaction.atomic():
        locked = _lock_tickets(ticket_id, other_id)  # ascending id (README, "Row locks")
        ticket, other = locked[ticket_id], locked[other_id]
        _require(permissions.can_work(by, ticket) and permissions.can_work(by, other))
        if not ticket.related.filter(pk=other.pk).exists():
            ticket.related.add(other)
            pair = [
                events.linked_related(ticket, by=by, related=other.pk),
                events.linked_related(other, by=by, related=ticket.pk),
            ]
            for event in sorted(pair, key=lambda e: e.ticket_id):
                record_event(event)
    return ticket
