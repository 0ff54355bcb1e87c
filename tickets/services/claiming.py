"""People on a ticket: who works it (claiming, the next in the queue, assigning), swarms and watchers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from .. import events, permissions, roles
from ..events import record_event
from ..models import Status, Ticket
from ._common import _lock, _notify, _require, _set_status, _touch


def _assignable(user: User, ticket: Ticket) -> bool:
    return roles.is_manager(user) or ticket.tier in roles.agent_tiers(user)


@retry_on_conflict
def claim_ticket(*, ticket_id: int, by: User) -> Ticket:
    """Take an unassigned ticket of one of your tiers. Refused if someone else holds it."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if ticket.assignee_id == by.pk:
            return ticket
        if ticket.assignee_id is not None:
            raise ValidationError("Someone else has already taken this ticket.")
        if not ticket.is_open:
            raise ValidationError("Only an open ticket can be taken.")
        _assign(ticket, by, by)
    return ticket


@retry_on_conflict
def take_next(*, by: User) -> Ticket | None:
    """Claim the oldest highest-priority unassigned open ticket of the agent's tiers.

    ``FOR UPDATE SKIP LOCKED``: agents asking at the same moment never get the same ticket.
    Returns None when the queues are empty.
    """
    tiers = roles.agent_tiers(by)
    _require(bool(tiers), "Only agents take tickets from the queues.")
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(tier__in=tiers, assignee__isnull=True, status__in=[Status.NEW, Status.OPEN])
            .order_by("priority", "created_at", "pk")
            .first()
        )
        if ticket is None:
            return None
        _assign(ticket, by, by)
    return ticket


@retry_on_conflict
def assign_ticket(*, ticket_id: int, by: User, assignee: User | None) -> Ticket:
    """Give the ticket to ``assignee`` (an agent of its tier, or a manager), or to nobody (None)."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if not ticket.is_open:
            raise ValidationError("Only an open ticket can be assigned.")
        if assignee is not None and not _assignable(assignee, ticket):
            raise ValidationError(f"{assignee.display_name} does not work tier {ticket.tier}.")
        if (assignee.pk if assignee else None) != ticket.assignee_id:
            _assign(ticket, assignee, by)
    return ticket


def _assign(ticket: Ticket, assignee: User | None, by: User) -> None:
    now = timezone.now()
    previous = ticket.assignee_id
    ticket.assignee = assignee
    changed = ["assignee"]
    if ticket.status == Status.NEW and assignee is not None:
        _set_status(ticket, Status.OPEN, by, now)
        changed.append("status")
    _touch(ticket, now, *changed)
    record_event(events.assigned(ticket, by=by, before=previous, after=assignee.pk if assignee else None, at=now))
    if assignee is not None and assignee.pk != by.pk:
        _notify(ticket, "assigned", to=assignee.pk)


@retry_on_conflict
def open_swarm(*, ticket_id: int, by: User) -> Ticket:
    """Open the ticket to a swarm: agents of any tier may join as collaborators; the tier stays."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if not ticket.is_swarm:
            ticket.is_swarm = True
            _touch(ticket, timezone.now(), "is_swarm")
            ticket.collaborators.add(by)
            record_event(events.swarm_opened(ticket, by=by))
    return ticket


@retry_on_conflict
def join_swarm(*, ticket_id: int, by: User) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if not permissions.can_join_swarm(by, ticket):
            raise ValidationError("This ticket is not open to a swarm.")
        if not ticket.collaborators.filter(pk=by.pk).exists():
            ticket.collaborators.add(by)
            record_event(events.swarm_joined(ticket, by=by))
    return ticket


@retry_on_conflict
def add_watcher(*, ticket_id: int, by: User, watcher: User, via_reply_address: bool = False) -> Ticket:
    """Let ``watcher`` follow the public conversation (CC), as ``permissions.can_add_as_watcher`` allows.

    ``via_reply_address``: ``watcher`` wrote to the ticket's reply address (inbound mail), which
    counts as an invitation by the ticket's requester; ``by`` is then the watcher themselves.
    Invariants: the rule is checked again here, under the ticket's row lock; a refusal raises
    (``PermissionDenied`` for the adder, ``ValidationError`` for the person) and writes nothing.
    Side effects: the watcher link and a WATCHER_ADDED event, unless they already follow it.
    """
    with transaction.atomic():
        ticket = _lock(ticket_id)
        inviter = ticket.requester if via_reply_address else by
        _require(permissions.can_add_watcher(inviter, ticket))
        if watcher.pk == ticket.requester_id:
            raise ValidationError("The requester already follows the ticket.")
        if not permissions.can_add_as_watcher(inviter, watcher, ticket):
            raise ValidationError(WATCHER_REFUSED)
        if not ticket.watchers.filter(pk=watcher.pk).exists():
            ticket.watchers.add(watcher)
            roles.forget_roles(watcher)
            via = "email reply address" if via_reply_address else None
            record_event(events.watcher_added(ticket, by=by, watcher=watcher.pk, via=via))
    return ticket


WATCHER_REFUSED = (
    "They cannot follow this ticket: a requester may add colleagues only (the same mail domain), "
    "and a vendor's people only follow tickets escalated to their vendor."
)
