"""Opening tickets: through the portal, by e-mail or the API, and an agent logging a phone call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from helpdesk.core import ratelimit
from helpdesk.core.db import retry_on_conflict
from helpdesk.core.models import User

from .. import events, permissions, roles
from ..events import record_event
from ..models import Category, Channel, Status, Ticket, Tier, priority_for
from ._common import _clean_text, _notify, _require, _touch
from .attachments import store_attachments, validate_uploads
from .status import resolve_ticket


def create_ticket(
    *,
    requester: User,
    by: User,
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
def _write_new_ticket(*, by: User, uploads: list[UploadedFile], **fields: Any) -> Ticket:
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
        record_event(events.created(ticket, by=by, at=now))
        _notify(ticket, "received")
        # Last, so nothing after the files are written can roll the ticket back.
        store_attachments(ticket=ticket, by=by, uploads=uploads)
    return ticket


@retry_on_conflict
def log_phone_call(
    *,
    agent: User,
    requester: User,
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
        record_event(events.assigned(ticket, by=agent, before=None, after=agent.pk))
        if resolution_note.strip():
            ticket = resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note=resolution_note)
    return ticket
