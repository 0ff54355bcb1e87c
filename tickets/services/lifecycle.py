"""Creating tickets, the conversation, the lifecycle, tiers and claiming.

Every function runs in one transaction, locks the ticket row it changes
(``select_for_update``), refuses what the rules forbid with a ``ValidationError`` whose
message is meant for people (nothing is written then), records each change as a
``TicketEvent`` and queues notifications through the outbox. Locks follow the desk's order
(``helpdesk.core.db``): ticket rows first, several at once in ascending id (``_lock_tickets``);
each service runs its transaction again after a deadlock (``retry_on_conflict``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.core import ratelimit
from helpdesk.core.db import retry_on_conflict
from helpdesk.core.services import enqueue

from .. import permissions, roles
from ..events import record_event, record_events_bulk
from ..models import (
    OPEN_STATUSES,
    Category,
    Channel,
    EventKind,
    MessageKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    Tier,
    Vendor,
    priority_for,
)
from .attachments import store_attachments, validate_uploads
from .text import one_line

NOTIFY_TASK = "tickets.tasks.notify_task"

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


def _notify(ticket: Ticket, event: str, **extra) -> None:
    """Queue a notification about ``ticket`` (delivered by Celery after commit, through the outbox)."""
    enqueue(NOTIFY_TASK, kwargs={"ticket_id": ticket.pk, "event": event, **extra})


# --------------------------------------------------------------------------- creating


def create_ticket(
    *,
    requester,
    by,
    subject: str,
    description: str,
    impact: str = "medium",
    urgency: str = "medium",
    category: Category | None = None,
    channel: str = Channel.PORTAL,
    uploads: Iterable[UploadedFile] = (),
) -> Ticket:
    """Open a new ticket for ``requester`` (``by`` is who typed it: the requester, or an agent on the phone).

    Invariants: subject and description are required; priority comes from the impact x
    urgency matrix; the ticket lands in tier 1 unless its category routes it elsewhere;
    attachments are checked before anything is written; so is ``by``'s rate limit
    (``helpdesk.core.ratelimit``, refused with ``RateLimited``).
    Side effects, all in one transaction (nothing is written if any part fails): the ticket,
    its CREATED event (which ``sla`` hears, writing the ticket's clocks and SLA summary), a
    "received" notification in the outbox, and the attachments.
    """
    subject = _clean_text(subject, "Subject", max_length=200, single_line=True)
    description = _clean_text(description, "Description")
    uploads = validate_uploads(uploads)
    if category is not None and not category.is_active:
        raise ValidationError("That category is no longer in use.")
    ratelimit.enforce(ratelimit.CREATE_TICKET, user=by, staff=permissions.is_staff_reader(by))
    return _write_new_ticket(
        by=by,
        uploads=uploads,
        subject=subject,
        description=description,
        requester=requester,
        channel=channel,
        category=category,
        impact=impact,
        urgency=urgency,
    )


@retry_on_conflict
def _write_new_ticket(*, by, uploads: list[UploadedFile], **fields) -> Ticket:
    """The writes of ``create_ticket`` for checked ``fields``, in one transaction.

    Apart from ``create_ticket`` so that a run again after a conflict does not count the
    creation against ``by``'s rate limit twice; the ticket is built afresh on each run.
    """
    now = timezone.now()
    impact, urgency, category = fields["impact"], fields["urgency"], fields["category"]
    with transaction.atomic():
        ticket = Ticket.objects.create(
            **fields,
            priority=priority_for(impact, urgency),
            tier=category.route_tier if category else Tier.T1,
            created_at=now,
            updated_at=now,
        )
        record_event(
            ticket,
            EventKind.CREATED,
            actor=by,
            at=now,
            data={"channel": ticket.channel, "priority": ticket.priority, "tier": ticket.tier},
        )
        _notify(ticket, "received")
        # Last, so nothing after the files are written can roll the ticket back.
        store_attachments(ticket=ticket, by=by, uploads=uploads)
    return ticket


@retry_on_conflict
def log_phone_call(
    *,
    agent,
    requester,
    subject: str,
    description: str,
    impact: str = "medium",
    urgency: str = "medium",
    category: Category | None = None,
    resolution_note: str = "",
) -> Ticket:
    """An agent records a phone call for ``requester``: channel phone, assigned to the agent.

    With a ``resolution_note`` the ticket is resolved at once (first-contact resolution).
    """
    _require(roles.is_agent(agent) or roles.is_manager(agent), "Only agents log phone calls.")
    with transaction.atomic():
        ticket = create_ticket(
            requester=requester,
            by=agent,
            subject=subject,
            description=description,
            impact=impact,
            urgency=urgency,
            category=category,
            channel=Channel.PHONE,
        )
        ticket.assignee = agent
        ticket.status = Status.OPEN
        _touch(ticket, timezone.now(), "assignee", "status")
        record_event(ticket, EventKind.ASSIGNED, actor=agent, data={"from": None, "to": agent.pk})
        if resolution_note.strip():
            ticket = resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note=resolution_note)
    return ticket


# --------------------------------------------------------------------------- conversation


@retry_on_conflict
def add_reply(
    *, ticket_id: int, by, body: str, channel: str = Channel.PORTAL, uploads: Iterable[UploadedFile] = ()
) -> TicketMessage:
    """Post a public reply; it moves the ticket along the lifecycle as people expect.

    * an agent's first public reply is the first response, and takes a new ticket to open;
    * the requester's reply takes a ticket waiting for them back to open, and reopens a
      resolved one inside the reopen window;
    * the vendor's reply takes a ticket waiting for the vendor back to open;
    * a reply to a closed ticket is refused: ``reply_to_closed`` starts a linked new ticket;
    * past ``by``'s rate limit for replies it is refused (``RateLimited``) before anything is written.
    """
    body = _clean_text(body, "The reply")
    uploads = validate_uploads(uploads)
    ratelimit.enforce(ratelimit.REPLY, user=by, staff=permissions.is_staff_reader(by))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_reply(by, ticket))
        if ticket.status == Status.CLOSED:
            raise ValidationError("This ticket is closed; a reply starts a new ticket instead.")
        is_worker = permissions.can_work(by, ticket)
        requester_side = ticket.requester_id == by.pk or permissions.is_requester_side(by, ticket)
        vendor_side = permissions.is_vendor_of(by, ticket)
        message = TicketMessage.objects.create(
            ticket=ticket, author=by, kind=MessageKind.PUBLIC, body=body, channel=channel, created_at=now
        )
        # Which side spoke decides the SLA response clocks (``sla`` reads it from the history).
        side = "agent" if is_worker else "requester" if requester_side else "vendor" if vendor_side else "other"
        record_event(ticket, EventKind.REPLIED, actor=by, at=now, data={"message": message.pk, "side": side})
        changed = []
        if is_worker:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                changed.append("first_response_at")
            if ticket.status == Status.NEW:
                _set_status(ticket, Status.OPEN, by, now)
                changed.append("status")
        elif requester_side:
            if ticket.status == Status.PENDING_REQUESTER:
                _set_status(ticket, Status.OPEN, by, now)
                changed.append("status")
            elif ticket.status == Status.RESOLVED:
                _check_reopen_window(ticket, now)
                _reopen(ticket, by, now, reason="The requester replied.")
                changed += ["status", "resolved_at"]
        elif vendor_side and ticket.status == Status.PENDING_VENDOR:
            _set_status(ticket, Status.OPEN, by, now)
            changed.append("status")
        _touch(ticket, now, *changed)
        _notify(ticket, "reply", message_id=message.pk)
        store_attachments(ticket=ticket, by=by, uploads=uploads, message=message)
    return message


@retry_on_conflict
def reply_to_closed(*, ticket_id: int, by, body: str, channel: str = Channel.PORTAL) -> Ticket:
    """A requester writing on a closed ticket gets a new ticket linked to the old one (DESIGN.md).

    ``channel`` is where the follow-up came from (the portal, or e-mail for a mailed reply).
    """
    with transaction.atomic():
        old = _lock(ticket_id)
        if old.status != Status.CLOSED:
            raise ValidationError("This ticket is not closed; reply on it directly.")
        _require(old.requester_id == by.pk, "Only the requester can follow up on a closed ticket.")
        new = create_ticket(
            requester=by,
            by=by,
            subject=f"Follow-up to {old.reference}: {old.subject}"[:200],
            description=body,
            impact=old.impact,
            urgency=old.urgency,
            category=old.category if old.category and old.category.is_active else None,
            channel=channel,
        )
        new.related.add(old)
        record_event(new, EventKind.LINKED, actor=by, data={"related": old.pk, "why": "follow-up"})
        record_event(old, EventKind.LINKED, actor=by, data={"related": new.pk, "why": "follow-up"})
    return new


@retry_on_conflict
def add_note(*, ticket_id: int, by, body: str, uploads: Iterable[UploadedFile] = ()) -> TicketMessage:
    """Add an internal note (agents only; never shown to requesters or vendors, nor its files)."""
    body = _clean_text(body, "The note")
    uploads = validate_uploads(uploads)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_add_note(by, ticket))
        message = TicketMessage.objects.create(
            ticket=ticket, author=by, kind=MessageKind.INTERNAL, body=body, created_at=now
        )
        record_event(ticket, EventKind.NOTE_ADDED, actor=by, at=now, data={"message": message.pk}, internal=True)
        _touch(ticket, now)
        store_attachments(ticket=ticket, by=by, uploads=uploads, message=message)
    return message


# --------------------------------------------------------------------------- status


def _set_status(ticket: Ticket, status: str, by, now: datetime) -> None:
    record_event(ticket, EventKind.STATUS_CHANGED, actor=by, at=now, data={"from": ticket.status, "to": status})
    ticket.status = status


@retry_on_conflict
def change_status(*, ticket_id: int, by, status: str) -> Ticket:
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
def resolve_ticket(*, ticket_id: int, by, resolution_note: str, resolve_incidents: bool = False) -> Ticket:
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
                _mark_resolved(ticket, by, now, note, event_data={"note": note})
            elif ticket.is_problem and each.problem_id == ticket_id and each.is_open:
                _mark_resolved(
                    each,
                    by,
                    now,
                    f"Resolved with problem {ticket.reference}: {note}",
                    event_data={"note": note, "problem": ticket.pk},
                )
    return ticket


def _mark_resolved(ticket: Ticket, by, now: datetime, resolution_note: str, *, event_data: dict) -> None:
    """The resolve step itself, for a locked open ticket: status, note, time, event, notification."""
    _set_status(ticket, Status.RESOLVED, by, now)
    ticket.resolution_note = resolution_note
    ticket.resolved_at = now
    _touch(ticket, now, "status", "resolution_note", "resolved_at")
    record_event(ticket, EventKind.RESOLVED, actor=by, at=now, data=event_data)
    _notify(ticket, "resolved")


def _check_reopen_window(ticket: Ticket, now: datetime) -> None:
    if ticket.resolved_at and now - ticket.resolved_at > reopen_window():
        raise ValidationError(
            f"This ticket was resolved more than {settings.TICKET_REOPEN_WINDOW_DAYS} days ago and can no "
            "longer be reopened; please open a new ticket."
        )


def _reopen(ticket: Ticket, by, now: datetime, reason: str) -> None:
    _set_status(ticket, Status.OPEN, by, now)
    ticket.resolved_at = None
    ticket.resolution_note = ""
    record_event(ticket, EventKind.REOPENED, actor=by, at=now, data={"reason": reason})


@retry_on_conflict
def reopen_ticket(*, ticket_id: int, by, reason: str = "") -> Ticket:
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
def confirm_resolution(*, ticket_id: int, by) -> Ticket:
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
        record_event(ticket, EventKind.CLOSED, actor=by, at=now, data={"why": "confirmed"})
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
                TicketEvent(ticket_id=pk, kind=kind, at=now, data=data)
                for pk in ids
                for kind, data in (
                    (EventKind.STATUS_CHANGED, {"from": Status.RESOLVED, "to": Status.CLOSED}),
                    (EventKind.CLOSED, {"why": "reopen window ended"}),
                )
            ]
        )
    return len(ids)


# --------------------------------------------------------------------------- tiers


@retry_on_conflict
def escalate_ticket(
    *,
    ticket_id: int,
    by,
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
def deescalate_ticket(*, ticket_id: int, by, reason: str, to_tier: int | None = None) -> Ticket:
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


def _move_tier(ticket: Ticket, by, now: datetime, target: int, note: str, kind: EventKind) -> None:
    previous = ticket.tier
    TicketMessage.objects.create(ticket=ticket, author=by, kind=MessageKind.INTERNAL, body=note, created_at=now)
    ticket.tier = target
    old_assignee = ticket.assignee_id
    ticket.assignee = None
    if ticket.status == Status.NEW:
        _set_status(ticket, Status.OPEN, by, now)
    _touch(ticket, now, "tier", "assignee", "vendor", "vendor_reference", "status")
    record_event(
        ticket,
        kind,
        actor=by,
        at=now,
        internal=True,
        data={
            "from": previous,
            "to": target,
            "note": note,
            "vendor": ticket.vendor_id,
            "vendor_reference": ticket.vendor_reference,
            "previous_assignee": old_assignee,
        },
    )
    _notify(ticket, kind.value, tier=target)


@retry_on_conflict
def notify_managers(*, ticket_id: int, by, reason: str) -> Ticket:
    """Hierarchical escalation: tell the managers, without changing the tier."""
    note = _clean_text(reason, "A reason for the managers")
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        record_event(ticket, EventKind.MANAGERS_NOTIFIED, actor=by, internal=True, data={"reason": note})
        _notify(ticket, "managers", reason=note)
    return ticket


# --------------------------------------------------------------------------- people on the ticket


def _assignable(user, ticket: Ticket) -> bool:
    return roles.is_manager(user) or ticket.tier in roles.agent_tiers(user)


@retry_on_conflict
def claim_ticket(*, ticket_id: int, by) -> Ticket:
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
def take_next(*, by) -> Ticket | None:
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
def assign_ticket(*, ticket_id: int, by, assignee) -> Ticket:
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


def _assign(ticket: Ticket, assignee, by) -> None:
    now = timezone.now()
    previous = ticket.assignee_id
    ticket.assignee = assignee
    changed = ["assignee"]
    if ticket.status == Status.NEW and assignee is not None:
        _set_status(ticket, Status.OPEN, by, now)
        changed.append("status")
    _touch(ticket, now, *changed)
    record_event(
        ticket, EventKind.ASSIGNED, actor=by, at=now, data={"from": previous, "to": assignee.pk if assignee else None}
    )
    if assignee is not None and assignee.pk != by.pk:
        _notify(ticket, "assigned", to=assignee.pk)


@retry_on_conflict
def change_priority(
    *,
    ticket_id: int,
    by,
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
        before = {
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
        after = {
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": ticket.priority,
            "reason": ticket.priority_reason,
        }
        if after == before:
            return ticket
        _touch(ticket, now, "impact", "urgency", "priority", "priority_reason")
        record_event(
            ticket,
            EventKind.PRIORITY_CHANGED,
            actor=by,
            at=now,
            data={"from": before, "to": after},
        )
    return ticket


@retry_on_conflict
def change_category(*, ticket_id: int, by, category: Category | None) -> Ticket:
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
        record_event(
            ticket,
            EventKind.CATEGORY_CHANGED,
            actor=by,
            data={"from": previous, "to": category.pk if category else None},
        )
    return ticket


@retry_on_conflict
def open_swarm(*, ticket_id: int, by) -> Ticket:
    """Open the ticket to a swarm: agents of any tier may join as collaborators; the tier stays."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_work(by, ticket))
        if not ticket.is_swarm:
            ticket.is_swarm = True
            _touch(ticket, timezone.now(), "is_swarm")
            ticket.collaborators.add(by)
            record_event(ticket, EventKind.SWARM_OPENED, actor=by, internal=True)
    return ticket


@retry_on_conflict
def join_swarm(*, ticket_id: int, by) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if not permissions.can_join_swarm(by, ticket):
            raise ValidationError("This ticket is not open to a swarm.")
        if not ticket.collaborators.filter(pk=by.pk).exists():
            ticket.collaborators.add(by)
            record_event(ticket, EventKind.SWARM_JOINED, actor=by, internal=True)
    return ticket


@retry_on_conflict
def add_watcher(*, ticket_id: int, by, watcher, via_reply_address: bool = False) -> Ticket:
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
            data = {"watcher": watcher.pk, **({"via": "email reply address"} if via_reply_address else {})}
            record_event(ticket, EventKind.WATCHER_ADDED, actor=by, data=data)
    return ticket


WATCHER_REFUSED = (
    "They cannot follow this ticket: a requester may add colleagues only (the same mail domain), "
    "and a vendor's people only follow tickets escalated to their vendor."
)
