"""What an SLA warning or breach does: mails to the people who must act, and the escalation.

Run by ``sla.tasks.clock_event_task`` once per recorded ``ClockEvent`` (through the outbox).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.notifications import agents_of_tier, managers

from .models import Clock, ClockEvent, ClockEventKind, Metric, Policy


def describe(event: ClockEvent) -> str:
    """ "Resolution (cycle 1)", "Tier 2 (OLA)", "Vendor (UC)" ..."""
    label = Metric(event.metric).label
    if event.metric == Metric.OLA:
        label = f"Tier {event.scope} (OLA)"
    return f"{label}, cycle {event.cycle}" if event.cycle > 1 else label


def _people_to_tell(ticket: Ticket, event: ClockEvent, policy: Policy | None) -> set[str]:
    people: set[str] = set()
    breached = event.kind == ClockEventKind.BREACHED
    if not breached or policy is None or policy.notify_assignee:
        if ticket.assignee_id and ticket.assignee.email:
            people.add(ticket.assignee.email)
        else:
            people |= set(agents_of_tier(ticket.tier).values_list("email", flat=True))
    if breached and policy is not None and policy.notify_managers:
        people |= set(managers().values_list("email", flat=True))
    return {p for p in people if p}


def act_on_clock_event(event_id: int) -> dict:
    """Send the mails of one warning/breach and, for a breach under an escalating policy, escalate once."""
    event = ClockEvent.objects.select_related("ticket__assignee").filter(pk=event_id).first()
    if event is None:
        return {"mails": 0, "escalated": False}
    ticket = event.ticket
    clock = (
        Clock.objects.filter(ticket_id=ticket.pk, metric=event.metric, scope=event.scope, cycle=event.cycle)
        .select_related("policy")
        .first()
    )
    policy = clock.policy if clock else None
    what = describe(event)
    word = "breached" if event.kind == ClockEventKind.BREACHED else "about to breach"
    url = f"{settings.SITE_URL}{ticket.get_absolute_url()}"
    people = _people_to_tell(ticket, event, policy)
    mails = 0
    if people:
        subject = f"[{ticket.reference}] SLA {word}: {what}"
        body = (
            f"{ticket.reference} — {ticket.subject}\n\n{what} is {word} (due {event.at:%Y-%m-%d %H:%M %Z}).\n\n{url}\n"
        )
        mails = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(people))
    escalated = False
    if event.kind == ClockEventKind.BREACHED and policy is not None and policy.escalate_on_breach:
        escalated = (
            ticket_services.escalate_automatically(
                ticket_id=ticket.pk, reason=f"Automatic escalation: {what} breached its target.", from_tier=event.tier
            )
            is not None
        )
    return {"mails": mails, "escalated": escalated}
