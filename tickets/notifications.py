"""Who hears about a ticket change, and the plain-text mail they get.

Requester-side mails (requester and watchers) carry only public content; internal events
(escalations, notes, manager alerts) go to agents and managers only. The e-mail channel
capability replaces these texts with full templates and threading headers.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from . import roles
from .models import MessageKind, Ticket, TicketMessage

REQUESTER_EVENTS = {"received", "reply", "status", "resolved", "reopened"}


def agents_of_tier(tier: int):
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.GROUP_AGENT, tier_memberships__tier=tier)
        .exclude(email="")
    )


def managers():
    return get_user_model().objects.filter(is_active=True, groups__name=roles.GROUP_MANAGER).exclude(email="")


def recipients_for(ticket: Ticket, event: str, extra: dict) -> tuple[set[str], str]:
    """(addresses, body) for ``event`` on ``ticket``; internal details only to staff."""
    url = f"{settings.SITE_URL}{ticket.get_absolute_url()}"
    if event in REQUESTER_EVENTS:
        people = {ticket.requester.email, *ticket.watchers.exclude(email="").values_list("email", flat=True)}
        body = f"{ticket.reference} — {ticket.subject}\nStatus: {ticket.get_status_display()}\n\n"
        if event == "reply":
            message = TicketMessage.objects.filter(pk=extra.get("message_id"), kind=MessageKind.PUBLIC).first()
            if message is None:
                return set(), ""
            body += f"{message.author.display_name} wrote:\n\n{message.body}\n\n"
            people.discard(message.author.email)
        elif event == "resolved":
            body += f"Resolution:\n\n{ticket.resolution_note}\n\n"
        return {p for p in people if p}, body + f"View the ticket: {url}\n"
    if event in {"escalated", "deescalated"}:
        people = set(agents_of_tier(extra.get("tier", ticket.tier)).values_list("email", flat=True))
        body = f"{ticket.reference} — {ticket.subject}\nMoved to tier {ticket.tier}.\n\n{url}\n"
        return people, body
    if event == "assigned":
        people = set(
            get_user_model().objects.filter(pk=extra.get("to")).exclude(email="").values_list("email", flat=True)
        )
        return people, f"{ticket.reference} — {ticket.subject}\nAssigned to you.\n\n{url}\n"
    if event == "managers":
        people = set(managers().values_list("email", flat=True))
        return (
            people,
            f"{ticket.reference} — {ticket.subject}\nAn agent asks for managers:\n\n"
            f"{extra.get('reason', '')}\n\n{url}\n",
        )
    return set(), ""


def send_ticket_notification(*, ticket_id: int, event: str, **extra) -> int:
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    people, body = recipients_for(ticket, event, extra)
    if not people:
        return 0
    subject = f"[{ticket.reference}] {ticket.subject}".replace("\r", " ").replace("\n", " ")
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(people))
