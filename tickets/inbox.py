"""The attention inbox (the bell): what needs a person, written from the ticket history.

``on_ticket_events`` receives every batch of events (``tickets.events.ticket_events``) in the
writer's transaction and adds one ``Notification`` per person who should look, in one INSERT
per batch. A change that is rolled back leaves no notification. The rules:

* ASSIGNED to someone: that person ("assigned");
* a public reply from the requester's or the vendor's side: the ticket's assignee ("reply");
* an internal note naming ``@username`` of a staff member who may work the ticket: that
  person ("mention");
* an SLA warning or breach: the ticket's assignee ("sla_warning" / "sla_breach");
* an escalation into a tier: that tier's agents ("escalated");
* "notify managers": the managers ("managers").

Nobody is notified of their own action. The texts name the ticket and who did it, never the
content of an internal note (the inbox is a pointer; the ticket page shows what each reader may
see).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from helpdesk.core.models import User

from . import events as schema
from . import permissions, roles
from .models import EventKind, Notification, Ticket, TicketEvent, TicketMessage

MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")
Kind = Notification.Kind


def _active_users() -> QuerySet[User]:
    return get_user_model().objects.filter(is_active=True)


def _tier_agents(tier: int) -> list[int]:
    return list(
        _active_users()
        .filter(groups__name=roles.GROUP_AGENT, tier_memberships__tier=tier)
        .values_list("pk", flat=True)
        .distinct()
    )


def _managers() -> list[int]:
    return list(_active_users().filter(groups__name=roles.GROUP_MANAGER).values_list("pk", flat=True).distinct())


def mentioned(body: str) -> set[str]:
    """The usernames ``@named`` in a note (a trailing full stop is not part of a name)."""
    return {name.rstrip(".") for name in MENTION.findall(body)}


def _mentions(notes: list[TicketEvent]) -> dict[int, set[int]]:
    """Per note event id, the staff people it names who may work its ticket."""
    if not notes:
        return {}
    message_ids = {schema.payload(e, schema.NoteAdded)["message"]: e.pk for e in notes}
    names_of = {
        message_ids[m.pk]: mentioned(m.body)
        for m in TicketMessage.objects.filter(pk__in=message_ids).only("pk", "body")
    }
    wanted = set().union(*names_of.values())
    if not wanted:
        return {}
    people = {u.username: u for u in _active_users().filter(username__in=wanted)}
    found: dict[int, set[int]] = {}
    for event in notes:
        for name in names_of.get(event.pk, set()):
            person = people.get(name)
            if person is not None and permissions.can_work(person, event.ticket):
                found.setdefault(event.pk, set()).add(person.pk)
    return found


def _who(event: TicketEvent) -> str:
    return event.actor.display_name if event.actor_id and event.actor else "The desk"


def notifications_for(batch: Iterable[TicketEvent]) -> list[Notification]:
    """The notifications a batch of events calls for (unsaved), by the rules above."""
    batch = list(batch)
    mentions = _mentions([e for e in batch if e.kind == EventKind.NOTE_ADDED])
    made: list[Notification] = []

    def note(user_ids: Iterable[int | None], event: TicketEvent, kind: str, text: str) -> None:
        for user_id in {u for u in user_ids if u is not None} - {event.actor_id}:
            made.append(
                Notification(user_id=user_id, ticket=event.ticket, kind=kind, actor_id=event.actor_id, text=text)
            )

    for event in batch:
        ticket: Ticket = event.ticket
        ref = ticket.reference
        if event.kind == EventKind.ASSIGNED:
            note(
                [schema.payload(event, schema.Assigned)["to"]],
                event,
                Kind.ASSIGNED,
                f"{ref} assigned to you by {_who(event)}",
            )
        elif event.kind == EventKind.REPLIED:
            if schema.payload(event, schema.Replied)["side"] in ("requester", "vendor"):
                note([ticket.assignee_id], event, Kind.REPLY, f"{_who(event)} replied on {ref}")
        elif event.kind == EventKind.NOTE_ADDED:
            note(mentions.get(event.pk, ()), event, Kind.MENTION, f"{_who(event)} mentioned you on {ref}")
        elif event.kind == EventKind.SLA:
            crossed = schema.payload(event, schema.SlaCrossed)
            breached = crossed["sla"] == "breached"
            kind = Kind.SLA_BREACH if breached else Kind.SLA_WARNING
            what = "breached its SLA" if breached else "is about to breach its SLA"
            note([ticket.assignee_id], event, kind, f"{ref} {what} ({crossed['metric'].replace('_', ' ')})")
        elif event.kind == EventKind.ESCALATED:
            tier = schema.payload(event, schema.TierMoved)["to"]
            note(_tier_agents(tier), event, Kind.ESCALATED, f"{ref} escalated to tier {tier} by {_who(event)}")
        elif event.kind == EventKind.MANAGERS_NOTIFIED:
            note(_managers(), event, Kind.MANAGERS, f"{_who(event)} asked the managers to look at {ref}")
    return made


def on_ticket_events(sender: type[Ticket], events: list[TicketEvent], **kwargs: object) -> None:
    """``ticket_events`` receiver: the batch's notifications, in the writer's transaction."""
    made = notifications_for(events)
    if made:
        Notification.objects.bulk_create(made)


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


__all__ = ["mentioned", "notifications_for", "on_ticket_events", "unread_count"]
