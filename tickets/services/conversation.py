"""The conversation on a ticket: public replies, a follow-up to a closed ticket, internal notes."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from helpdesk.core import ratelimit
from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from .. import events, permissions
from ..events import record_event
from ..models import Channel, MessageKind, Status, Ticket, TicketMessage, Tier
from ._common import _clean_text, _lock, _notify, _require, _set_status, _touch
from .attachments import store_attachments, validate_uploads
from .creating import create_ticket
from .status import _check_reopen_window, _reopen


@retry_on_conflict
def add_reply(
    *, ticket_id: int, by: User, body: str, channel: str = Channel.PORTAL, uploads: Iterable[UploadedFile] = ()
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
        side: events.Side = (
            "agent" if is_worker else "requester" if requester_side else "vendor" if vendor_side else "other"
        )
        record_event(events.replied(ticket, by=by, message=message.pk, side=side, at=now))
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
def reply_to_closed(*, ticket_id: int, by: User, body: str, channel: str = Channel.PORTAL) -> Ticket:
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
        record_event(events.linked_related(new, by=by, related=old.pk, follow_up=True))
        record_event(events.linked_related(old, by=by, related=new.pk, follow_up=True))
    return new


@retry_on_conflict
def add_note(*, ticket_id: int, by: User, body: str, uploads: Iterable[UploadedFile] = ()) -> TicketMessage:
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
        record_event(events.note_added(ticket, by=by, message=message.pk, at=now))
        _touch(ticket, now)
        store_attachments(ticket=ticket, by=by, uploads=uploads, message=message)
    return message


@retry_on_conflict
def add_vendor_message(
    *, ticket_id: int, by: User, body: str, channel: str = Channel.PORTAL, uploads: Iterable[UploadedFile] = ()
) -> TicketMessage:
    """Write in the vendor side conversation of a tier-4 ticket (``MessageKind.VENDOR``).

    Invariants: the ticket sits at tier 4 with a vendor; the writer works the ticket (the desk
    writing to the vendor's contacts) or is one of that vendor's contacts (``permissions.can_write_to_vendor``).
    The requester never sees these messages, their files or their events: the REPLIED event is
    recorded as internal. A vendor's message takes a ticket waiting for the vendor back to open.
    Side effects: the message, its event (side "vendor" for the vendor, "other" for the desk,
    so it never counts as a response to the requester), the files, the ticket's ``updated_at``,
    and a mail to the other side (``notifications``: the vendor's people, or the desk).
    """
    body = _clean_text(body, "The message")
    uploads = validate_uploads(uploads)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _require(permissions.can_write_to_vendor(by, ticket))
        if ticket.tier != Tier.T4 or ticket.vendor_id is None:
            raise ValidationError("Only a ticket escalated to a vendor (tier 4) has a vendor conversation.")
        if ticket.status == Status.CLOSED:
            raise ValidationError("This ticket is closed.")
        vendor_side = permissions.is_vendor_of(by, ticket)
        message = TicketMessage.objects.create(
            ticket=ticket, author=by, kind=MessageKind.VENDOR, body=body, channel=channel, created_at=now
        )
        event = events.replied(ticket, by=by, message=message.pk, side="vendor" if vendor_side else "other", at=now)
        event.internal = True  # the requester never sees the vendor conversation, nor that it moved
        record_event(event)
        changed = []
        if vendor_side and ticket.status == Status.PENDING_VENDOR:
            _set_status(ticket, Status.OPEN, by, now)
            changed.append("status")
        _touch(ticket, now, *changed)
        _notify(ticket, "vendor_message", message_id=message.pk)
        store_attachments(ticket=ticket, by=by, uploads=uploads, message=message)
    return message
