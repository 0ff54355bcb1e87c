"""The ticket page's composer: a message and field changes sent together, in one transaction.

"Reply and set Pending" is one submit: a public reply, an internal note or a message to the
vendor, plus any of status, priority, category and assignee. Each part is done by the service
that owns its rules (``add_reply``, ``change_status``, ...), all inside one
``transaction.atomic()`` on the locked ticket row: if any part is refused, nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from ..models import Category, MessageKind, Ticket, TicketMessage
from .claiming import assign_ticket
from .conversation import add_note, add_reply, add_vendor_message
from .status import change_status
from .triage import change_category, change_priority
from .versions import lock_at_version


class Keep(Enum):
    """The value of a field change that leaves the field as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class PriorityChange:
    """Impact and urgency (the matrix decides the priority) or an override with its reason."""

    impact: str | None = None
    urgency: str | None = None
    priority: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class FieldChanges:
    """What the composer changes besides the message; ``KEEP`` leaves a field alone.

    ``category`` and ``assignee`` may be None: no category, nobody.
    """

    status: str | Keep = KEEP
    priority: PriorityChange | Keep = KEEP
    category: Category | Keep | None = KEEP
    assignee: User | Keep | None = KEEP

    def any(self) -> bool:
        return any(value is not KEEP for value in (self.status, self.priority, self.category, self.assignee))


@dataclass(frozen=True)
class Composed:
    """What one submit did: the message written (if any) and the ticket as it is now."""

    ticket: Ticket
    message: TicketMessage | None
    changed: list[str] = field(default_factory=list)


MESSAGE_KINDS = (MessageKind.PUBLIC, MessageKind.INTERNAL, MessageKind.VENDOR)


@retry_on_conflict
def compose_ticket(
    *,
    ticket_id: int,
    by: User,
    kind: str = MessageKind.PUBLIC,
    body: str = "",
    uploads: Sequence[UploadedFile] | Iterable[UploadedFile] = (),
    changes: FieldChanges | None = None,
    version: int | None = None,
    channel: str | None = None,
) -> Composed:
    """Write a message of ``kind`` (when ``body`` is given) and apply ``changes``, all or nothing.

    Invariants: one transaction on the locked ticket row, checked against ``version`` first
    (``StaleTicket`` if someone else changed the ticket since); each part is checked by its own
    service (permission and state), and a refusal of any part (``ValidationError`` or
    ``PermissionDenied``) rolls back every part. An empty submit (no text, no files, no change)
    is refused. The message is written first, so "reply and set Pending" on a new ticket takes
    it to open (the first response) and then to pending.
    Side effects: those of the services called (events, notifications through the outbox, files).
    """
    changes = changes or FieldChanges()
    uploads = list(uploads)
    text = (body or "").strip()
    if kind not in MESSAGE_KINDS:
        raise ValidationError("Choose a reply, an internal note or a message to the vendor.")
    if not text and uploads:
        raise ValidationError("Write a message to go with the files.")
    if not text and not changes.any():
        raise ValidationError("Write a message or change a field: there was nothing to send.")
    done: list[str] = []
    with transaction.atomic():
        lock_at_version(ticket_id=ticket_id, version=version)
        message = None
        if text:
            message = _write(ticket_id=ticket_id, by=by, kind=kind, body=text, uploads=uploads, channel=channel)
            done.append(str(MessageKind(kind).label))
        if changes.assignee is not KEEP:
            assign_ticket(ticket_id=ticket_id, by=by, assignee=changes.assignee)
            done.append("assignee")
        if changes.category is not KEEP:
            change_category(ticket_id=ticket_id, by=by, category=changes.category)
            done.append("category")
        if isinstance(changes.priority, PriorityChange):
            change_priority(
                ticket_id=ticket_id,
                by=by,
                impact=changes.priority.impact,
                urgency=changes.priority.urgency,
                priority=changes.priority.priority,
                reason=changes.priority.reason,
            )
            done.append("priority")
        if isinstance(changes.status, str):
            change_status(ticket_id=ticket_id, by=by, status=changes.status)
            done.append("status")
        ticket = Ticket.objects.get(pk=ticket_id)
    return Composed(ticket=ticket, message=message, changed=done)


def _write(
    *, ticket_id: int, by: User, kind: str, body: str, uploads: list[UploadedFile], channel: str | None
) -> TicketMessage:
    """The message part: the service of its kind, which checks who may write it."""
    extra = {"channel": channel} if channel else {}
    if kind == MessageKind.INTERNAL:
        return add_note(ticket_id=ticket_id, by=by, body=body, uploads=uploads)
    if kind == MessageKind.VENDOR:
        return add_vendor_message(ticket_id=ticket_id, by=by, body=body, uploads=uploads, **extra)
    return add_reply(ticket_id=ticket_id, by=by, body=body, uploads=uploads, **extra)
