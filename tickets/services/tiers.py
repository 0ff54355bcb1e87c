"""Moving a ticket between tiers (escalation and de-escalation) and telling the managers."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from .. import events, permissions
from ..events import record_event
from ..models import EventKind, MessageKind, Status, Ticket, TicketMessage, Tier, Vendor
from ._common import _clean_text, _lock, _notify, _require, _set_status, _touch
from .text import one_line


@retry_on_conflict
def escalate_ticket(
    *,
    ticket_id: int,
    by: User,
    reason: str,
    to_tier: int | None = None,
    vendor: Vendor | None = None,
    vendor_reference: str = "",
) -> Ticket:
    """Functional escalation: move the ticket up one or more tiers, with a written note.

    Invariants: a note is required; the tier only goes up and stays within 1-4; tier 4
    needs a vendor (and takes the vendor's reference). Side effects: the note is kept as an
    internal message, the ticket leaves its assignee (it lands unassigned in the new tier's
    queue), an ESCALATED event is recorded (``sla`` starts the new tier's OLA clock) and the
    new tier is notified.
    """
    note = _clean_text(reason, "An escalation note")
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if not ticket.is_open:
            raise ValidationError("Only an open ticket can be escalated.")
        target = ticket.tier + 1 if to_tier is None else int(to_tier)
        if target <= ticket.tier:
            raise ValidationError("Escalation moves a ticket up; use de-escalate to move it down.")
        if target > Tier.T4:
            raise ValidationError("Tier 4 (vendors) is the highest tier.")
        if target == Tier.T4:
            if vendor is None:
                raise ValidationError("Escalating to tier 4 needs the vendor.")
            if not vendor.is_active:
                raise ValidationError("That vendor is no longer active.")
            ticket.vendor = vendor
            ticket.vendor_reference = one_line(vendor_reference)[:100]
        _move_tier(ticket, by, now, target, note, EventKind.ESCALATED)
    return ticket


@retry_on_conflict
def escalate_automatically(*, ticket_id: int, reason: str, from_tier: int) -> Ticket | None:
    """Escalate one tier on behalf of the helpdesk itself (an SLA breach action), at most once.

    Acts only while the ticket is open and still in ``from_tier``, so a repeated or late
    call changes nothing; never into tier 4, which needs a vendor chosen by a person.
    Recorded under the system account; otherwise exactly like ``escalate_ticket``.
    """
    from .people import system_user

    note = _clean_text(reason, "An escalation note")
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if not ticket.is_open or ticket.tier != from_tier or from_tier + 1 >= Tier.T4:
            return None
        _move_tier(ticket, system_user(), now, from_tier + 1, note, EventKind.ESCALATED)
    return ticket


@retry_on_conflict
def deescalate_ticket(*, ticket_id: int, by: User, reason: str, to_tier: int | None = None) -> Ticket:
    """Move the ticket down one or more tiers with a note; leaving tier 4 drops the vendor."""
    note = _clean_text(reason, "A de-escalation note")
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if not ticket.is_open:
            raise ValidationError("Only an open ticket can be de-escalated.")
        target = ticket.tier - 1 if to_tier is None else int(to_tier)
        if target >= ticket.tier:
            raise ValidationError("De-escalation moves a ticket down; use escalate to move it up.")
        if target < Tier.T1:
            raise ValidationError("Tier 1 is the lowest tier.")
        if target < Tier.T4:
            ticket.vendor = None
            ticket.vendor_reference = ""
            if ticket.status == Status.PENDING_VENDOR:
                _set_status(ticket, Status.OPEN, by, now)
        _move_tier(ticket, by, now, target, note, EventKind.DEESCALATED)
    return ticket


def _move_tier(ticket: Ticket, by: User, now: datetime, target: int, note: str, kind: EventKind) -> None:
    previous = ticket.tier
    TicketMessage.objects.create(ticket=ticket, author=by, kind=MessageKind.INTERNAL, body=note, created_at=now)
    ticket.tier = target
    old_assignee = ticket.assignee_id
    ticket.assignee = None
    if ticket.status == Status.NEW:
        _set_status(ticket, Status.OPEN, by, now)
    _touch(ticket, now, "tier", "assignee", "vendor", "vendor_reference", "status")
    escalated = kind == EventKind.ESCALATED
    moved = events.tier_moved(
        ticket, by=by, escalated=escalated, before=previous, note=note, previous_assignee=old_assignee, at=now
    )
    record_event(moved)
    _notify(ticket, kind.value, tier=target)


@retry_on_conflict
def notify_managers(*, ticket_id: int, by: User, reason: str) -> Ticket:
    """Hierarchical escalation: tell the managers, without changing the tier."""
    note = _clean_text(reason, "A reason for the managers")
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        record_event(events.managers_notified(ticket, by=by, reason=note))
        _notify(ticket, "managers", reason=note)
    return ticket
