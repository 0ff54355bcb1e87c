"""Who hears about a ticket change, and which mail they get (rendered by ``tickets.mail.outbound``).

The rules:

* Requester-side mail (requester, watchers) and vendor mail carry public content only: the
  ticket, public replies, status, the resolution. Internal notes and escalation notes never
  reach them. The author of a reply is never mailed their own words.
* Staff notices (tier changes, assignment, manager alerts) go to agents and managers.
* Essential mail, always sent: a new ticket's confirmation, replies on and the resolution of
  one's own ticket, a vendor's escalation notice, manager alerts (and SLA breaches, in
  ``sla.notifications``). Everything else is optional and skipped for people who turned it off.

Hook for later work (the satisfaction survey): ``register_context_provider("resolved", fn)``
with ``fn(ticket, user) -> dict``; ``extra_text`` / ``extra_html`` from it are shown in that
person's resolution mail (see ``templates/email/ticket_resolved.*``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model

from . import permissions, roles
from .mail.outbound import (
    DeliveryFailed,
    Notification,
    Recipient,
    markdown_html,
    send_notification,
    source_for_current_task,
)
from .models import EventKind, MessageKind, Ticket, TicketEvent, TicketMessage, Tier

logger = logging.getLogger(__name__)

REQUESTER_EVENTS = {"received", "reply", "status", "resolved", "reopened"}

ContextProvider = Callable[[Ticket, object], dict]
_context_providers: dict[str, list[ContextProvider]] = {}


def register_context_provider(event: str, provider: ContextProvider) -> None:
    """Add ``provider(ticket, user) -> dict`` to the template context of ``event``'s requester-side mails."""
    _context_providers.setdefault(event, []).append(provider)


def _extra_context(event: str, ticket: Ticket, user) -> dict:
    extra: dict = {}
    for provider in _context_providers.get(event, []):
        extra.update(provider(ticket, user) or {})
    return extra


def agents_of_tier(tier: int):
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.GROUP_AGENT, tier_memberships__tier=tier)
        .exclude(email="")
    )


def managers():
    return get_user_model().objects.filter(is_active=True, groups__name=roles.GROUP_MANAGER).exclude(email="")


def vendor_contacts(ticket: Ticket):
    """The vendor's people on a tier-4 ticket (nobody otherwise)."""
    if ticket.tier != Tier.T4 or ticket.vendor_id is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(is_active=True, vendor_contact__vendor_id=ticket.vendor_id).exclude(email="")


def _watchers(ticket: Ticket) -> list:
    """Watchers who may still follow the ticket (a vendor's people only while it is at their tier 4)."""
    return [w for w in ticket.watchers.filter(is_active=True).exclude(email="") if permissions.may_follow(w, ticket)]


# The history event each mail tells about. A person is mailed about an event only if they may
# read it in the history (``permissions.may_see_event``, the one rule for page, API and mail).
MAIL_EVENT_KINDS: dict[str, str] = {
    "received": EventKind.CREATED,
    "reply": EventKind.REPLIED,
    "vendor_message": EventKind.REPLIED,
    "status": EventKind.STATUS_CHANGED,
    "resolved": EventKind.RESOLVED,
    "reopened": EventKind.REOPENED,
    "escalated": EventKind.ESCALATED,
    "deescalated": EventKind.DEESCALATED,
    "assigned": EventKind.ASSIGNED,
    "managers": EventKind.MANAGERS_NOTIFIED,
}


def _readers(ticket: Ticket, event: str, users) -> list:
    """Those of ``users`` who may read the history event that the mail ``event`` is about."""
    kind = MAIL_EVENT_KINDS[event]
    return [u for u in users if permissions.may_see_event(u, ticket, kind)]


def _requester_side(ticket: Ticket, event: str, *, requester_essential: bool, exclude: int | None = None):
    people = []
    if ticket.requester.is_active and ticket.requester_id != exclude and _readers(ticket, event, [ticket.requester]):
        people.append(
            Recipient.of(
                ticket.requester,
                essential=requester_essential,
                context=_extra_context(event, ticket, ticket.requester),
            )
        )
    for watcher in _readers(ticket, event, _watchers(ticket)):
        if watcher.pk != exclude:
            people.append(Recipient.of(watcher, essential=False, context=_extra_context(event, ticket, watcher)))
    return people


def notifications_for(ticket: Ticket, event: str, extra: dict, source: str) -> list[Notification]:
    """The mails ``event`` on ``ticket`` causes (possibly none)."""

    def note(template: str, people: list[Recipient], **kwargs) -> Notification:
        return Notification(source=source, template=template, ticket=ticket, recipients=people, **kwargs)

    description = {"description": ticket.description, "description_html": markdown_html(ticket.description)}
    if event == "received":
        # The confirmation is the requester's alone (whoever watches later was not there yet).
        people = [Recipient.of(ticket.requester, essential=True)] if ticket.requester.is_active else []
        return [note("ticket_received", people, context=description)]
    if event == "reply":
        message_id = extra.get("message_id")
        message = (
            TicketMessage.objects.select_related("author")
            .filter(pk=message_id, ticket=ticket, kind=MessageKind.PUBLIC)
            .first()
            if message_id is not None
            else None
        )
        if message is None:  # gone, or not public: nothing may be mailed
            return []
        people = _requester_side(ticket, event, requester_essential=True, exclude=message.author_id)
        people += [
            Recipient.of(u, essential=False)
            for u in _readers(ticket, event, vendor_contacts(ticket))
            if u.pk != message.author_id
        ]
        assignee = ticket.assignee
        if assignee is not None and assignee.pk != message.author_id and assignee.is_active:
            people += [Recipient.of(u, essential=False) for u in _readers(ticket, event, [assignee])]
        context = {"message": message, "message_html": markdown_html(message.body), "author": message.author}
        return [note("ticket_reply", people, context=context)]
    if event == "vendor_message":
        # The tier-4 side conversation: the desk's message goes to the vendor's people, the
        # vendor's to whoever holds the ticket (the assignee, else the managers). Never the
        # requester or the watchers; the same mail as a reply, with the same threading.
        vendor_message_id = extra.get("message_id")
        message = (
            TicketMessage.objects.select_related("author")
            .filter(pk=vendor_message_id, ticket=ticket, kind=MessageKind.VENDOR)
            .first()
            if vendor_message_id is not None
            else None
        )
        if message is None or message.author is None:
            return []
        if permissions.is_vendor_of(message.author, ticket):
            desk = [ticket.assignee] if ticket.assignee is not None and ticket.assignee.is_active else list(managers())
            people = [Recipient.of(u, essential=True) for u in _readers(ticket, event, desk)]
        else:
            people = [
                Recipient.of(u, essential=True)
                for u in _readers(ticket, event, vendor_contacts(ticket))
                if u.pk != message.author_id
            ]
        context = {"message": message, "message_html": markdown_html(message.body), "author": message.author}
        return [note("ticket_reply", people, context=context)]
    if event == "status":
        return [note("ticket_status", _requester_side(ticket, event, requester_essential=False))]
    if event == "resolved":
        context = {"resolution_html": markdown_html(ticket.resolution_note)}
        return [note("ticket_resolved", _requester_side(ticket, event, requester_essential=True), context=context)]
    if event == "reopened":
        people = _requester_side(ticket, event, requester_essential=False)
        assignee = ticket.assignee
        if assignee is not None and assignee.is_active:
            people += [Recipient.of(u, essential=False) for u in _readers(ticket, event, [assignee])]
        return [note("ticket_reopened", people)]
    if event in {"escalated", "deescalated"}:
        tier = int(extra.get("tier", ticket.tier))
        # The note of the latest such move (the one this mail is about, unless another followed it).
        last = TicketEvent.objects.filter(ticket=ticket, kind=EventKind(event)).order_by("-at", "-id").first()
        staff_context = {"event": event, "tier": tier, "note": last.data.get("note", "") if last else ""}
        notes = [
            note(
                "ticket_tier_changed",
                [Recipient.of(u, essential=False) for u in _readers(ticket, event, agents_of_tier(tier))],
                context=staff_context,
                grouped=True,
                reply_by_mail=False,
            )
        ]
        if event == "escalated" and tier == Tier.T4:
            # Not the escalation event (which the vendor may not read) but the public facts of the
            # ticket now at their tier: never the escalation note.
            notes.append(
                note(
                    "ticket_vendor_escalated",
                    [Recipient.of(u, essential=True) for u in vendor_contacts(ticket)],
                    context=description,
                )
            )
        return notes
    if event == "assigned":
        to = extra.get("to")
        assigned = (
            get_user_model().objects.filter(pk=to, is_active=True).exclude(email="")
            if to is not None
            else get_user_model().objects.none()
        )
        people = [Recipient.of(u, essential=False) for u in _readers(ticket, event, assigned)]
        return [note("ticket_assigned", people, reply_by_mail=False)]
    if event == "managers":
        people = [Recipient.of(u, essential=True) for u in _readers(ticket, event, managers())]
        context = {"reason": extra.get("reason", "")}
        return [note("ticket_managers", people, context=context, grouped=True, reply_by_mail=False)]
    logger.warning("no mail for ticket event %r", event)
    return []


def send_ticket_notification(*, ticket_id: int, event: str, **extra) -> int:
    """Mail everyone ``event`` concerns; returns the number of mails sent now.

    Run by ``tickets.tasks.notify_task`` once per outbox message; each (message, recipient)
    is mailed at most once however often the task runs. Raises ``DeliveryFailed`` when the
    mail server refused some mails, so the outbox retries them later.
    """
    ticket = Ticket.objects.select_related("requester", "assignee").filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    source = source_for_current_task()
    sent = 0
    failures = []
    for notification in notifications_for(ticket, event, extra, source):
        try:
            sent += send_notification(notification)
        except DeliveryFailed as exc:
            failures.append(str(exc))
    if failures:
        raise DeliveryFailed("; ".join(failures))
    return sent
