"""What an SLA warning or breach does: mails to the people who must act, and the escalation.

Run by ``sla.tasks.clock_event_task`` once per recorded ``ClockEvent`` (through the outbox).
The mails go through the e-mail channel (``tickets.mail.outbound``: templates
``email/sla_alert*``, threading headers, at most once per event); a breach is essential mail,
a warning is optional. One mail per event to everyone concerned (staff only, so the To list
is no secret).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import backoff_seconds, enqueue
from tickets import services as ticket_services
from tickets.mail.outbound import DeliveryFailed, Notification, Recipient, send_notification
from tickets.models import OutboundMail, Ticket
from tickets.notifications import agents_of_tier, managers

from .models import Clock, ClockEvent, ClockEventKind, Metric, Policy
from .services import CLOCK_EVENT_TASK

logger = logging.getLogger(__name__)


def describe(event: ClockEvent) -> str:
    """ "Resolution (cycle 1)", "Tier 2 (OLA)", "Vendor (UC)" ..."""
    label = Metric(event.metric).label
    if event.metric == Metric.OLA:
        label = f"Tier {event.scope} (OLA)"
    return f"{label}, cycle {event.cycle}" if event.cycle > 1 else label


def _people_to_tell(ticket: Ticket, event: ClockEvent, policy: Policy | None) -> list[Recipient]:
    breached = event.kind == ClockEventKind.BREACHED
    people: list[Recipient] = []
    if not breached or policy is None or policy.notify_assignee:
        assignee = ticket.assignee
        if assignee is not None and assignee.email and assignee.is_active:
            people.append(Recipient.of(assignee, essential=breached))
        else:
            people += [Recipient.of(u, essential=breached) for u in agents_of_tier(ticket.tier)]
    if breached and policy is not None and policy.notify_managers:
        people += [Recipient.of(u, essential=True) for u in managers()]
    return people


def _retry_mails_later(event: ClockEvent) -> None:
    """Queue this event's action again (with back-off) for the mails the server refused.

    The escalation is not held back by a mail outage: it stays done, and the repeat finds it
    done; the mails that went out are not repeated (their ``OutboundMail`` rows say sent).
    """
    tries = (
        OutboundMail.objects.filter(key__startswith=f"sla-event:{event.pk}:")
        .order_by("-attempts")
        .values_list("attempts", flat=True)
        .first()
        or 1
    )
    message = enqueue(CLOCK_EVENT_TASK, kwargs={"event_id": event.pk})
    OutboxMessage.objects.filter(pk=message.pk).update(
        available_at=timezone.now() + timedelta(seconds=backoff_seconds(tries))
    )


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
    mails = 0
    mail_failed = False
    try:
        mails = send_notification(
            Notification(
                source=f"sla-event:{event.pk}",
                template="sla_alert",
                ticket=ticket,
                recipients=_people_to_tell(ticket, event, policy),
                context={"what": what, "word": word, "due": event.at, "breached": word == "breached"},
                grouped=True,
                reply_by_mail=False,
            )
        )
    except DeliveryFailed as exc:
        logger.warning("SLA event #%s: mail refused, retried later: %s", event.pk, exc)
        mail_failed = True
    escalated = False
    if event.kind == ClockEventKind.BREACHED and policy is not None and policy.escalate_on_breach:
        escalated = (
            ticket_services.escalate_automatically(
                ticket_id=ticket.pk, reason=f"Automatic escalation: {what} breached its target.", from_tier=event.tier
            )
            is not None
        )
    if mail_failed:
        _retry_mails_later(event)
    return {"mails": mails, "escalated": escalated}
