"""Re-rating a ticket: its priority (impact x urgency, or an override with a reason) and its category."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from .. import events, permissions
from ..events import record_event
from ..models import Category, Priority, Ticket, priority_for
from ._common import _clean_text, _lock, _require, _touch


@retry_on_conflict
def change_priority(
    *,
    ticket_id: int,
    by: User,
    impact: str | None = None,
    urgency: str | None = None,
    priority: int | None = None,
    reason: str = "",
) -> Ticket:
    """Re-rate impact/urgency (priority follows the matrix) or override the priority with a reason."""
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        before: events.PriorityFields = {
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": ticket.priority,
            "reason": ticket.priority_reason,
        }
        ticket.impact = impact or ticket.impact
        ticket.urgency = urgency or ticket.urgency
        matrix = priority_for(ticket.impact, ticket.urgency)
        if priority is not None and int(priority) != matrix:
            if int(priority) not in Priority.values:
                raise ValidationError("Priority must be P1 to P4.")
            ticket.priority_reason = _clean_text(reason, "A reason for overriding the priority", max_length=500)
            ticket.priority = int(priority)
        else:
            ticket.priority = matrix
            ticket.priority_reason = ""
        after: events.PriorityFields = {
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": ticket.priority,
            "reason": ticket.priority_reason,
        }
        if after == before:
            return ticket
        _touch(ticket, now, "impact", "urgency", "priority", "priority_reason")
        record_event(events.priority_changed(ticket, by=by, before=before, after=after, at=now))
    return ticket


@retry_on_conflict
def change_category(*, ticket_id: int, by: User, category: Category | None) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if category is not None and not category.is_active:
            raise ValidationError("That category is no longer in use.")
        if (category.pk if category else None) == ticket.category_id:
            return ticket
        previous = ticket.category_id
        ticket.category = category
        _touch(ticket, timezone.now(), "category")
        record_event(events.category_changed(ticket, by=by, before=previous, after=category.pk if category else None))
    return ticket
