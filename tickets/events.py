"""The ticket history: what each kind of event holds, how it is written, how other apps hear about it.

Every kind of ``TicketEvent`` has one constructor here (``created``, ``status_changed``, ...)
whose keyword arguments are the only way its ``data`` keys are written, and one TypedDict
(``Created``, ``StatusChanged``, ...) that names those keys for readers: ``payload(event,
StatusChanged)`` gives the data typed, and ``key(StatusChanged, "to")`` gives a key for SQL,
refusing at import a key the schema does not have. A constructor returns an unsaved event;
``record_event`` writes one, ``record_events_bulk`` a batch (beat tasks such as the auto-close
and the SLA sweep). Both are the one way events are written, and writing them also announces
them: ``ticket_events`` is sent once per write, inside the caller's transaction, with every
event just written, so an app such as ``sla`` or ``reports`` (which ``tickets`` never imports)
reacts atomically with the change, and handles a batch of events as one set. A new ticket is no
exception: its CREATED event is announced like every other.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NotRequired, Protocol, TypedDict, TypeVar, cast

from django.dispatch import Signal

from helpdesk.core.models import User

from .models import EventKind, Ticket, TicketEvent

# --------------------------------------------------------------------------- what each kind holds

# Which side of the conversation wrote a public reply; the SLA response clocks and the KPIs read it.
Side = Literal["requester", "agent", "vendor", "other"]


class Created(TypedDict):
    channel: str
    priority: int
    tier: int


StatusChanged = TypedDict("StatusChanged", {"from": str, "to": str})
# ESCALATED and DEESCALATED: tiers, the written note, and the vendor at tier 4.
TierMoved = TypedDict(
    "TierMoved",
    {
        "from": int,
        "to": int,
        "note": str,
        "vendor": int | None,
        "vendor_reference": str,
        "previous_assignee": int | None,
    },
)
Assigned = TypedDict("Assigned", {"from": int | None, "to": int | None})


class PriorityFields(TypedDict):
    impact: str
    urgency: str
    priority: int
    reason: str


PriorityChanged = TypedDict("PriorityChanged", {"from": PriorityFields, "to": PriorityFields})
CategoryChanged = TypedDict("CategoryChanged", {"from": int | None, "to": int | None})


class Replied(TypedDict):
    message: int
    side: Side


class NoteAdded(TypedDict):
    message: int


class AttachmentAdded(TypedDict):
    attachment: int
    filename: str


class ManagersNotified(TypedDict):
    reason: str


class WatcherAdded(TypedDict):
    watcher: int
    via: NotRequired[str]


# MERGED: on the duplicate, the ticket it went "into"; on the survivor, where it came "from".
Merged = TypedDict("Merged", {"into": int, "from": int, "messages": int}, total=False)


class Linked(TypedDict, total=False):
    """LINKED has four shapes: related (``why`` "follow-up" for a reply to a closed ticket),
    an incident pointed at its ``problem`` (or unlinked: ``problem`` None with the ``previous``
    one), and the problem's side naming the ``incident``."""

    related: int
    why: str
    problem: int | None
    previous: int | None
    incident: int


class Resolved(TypedDict):
    note: str
    problem: NotRequired[int]  # resolved together with this problem ticket


class Reopened(TypedDict):
    reason: str


class Closed(TypedDict):
    why: str  # "confirmed" by the requester, or "reopen window ended"


class SlaCrossed(TypedDict):
    sla: Literal["warning", "breached"]
    metric: str
    scope: int
    cycle: int
    due: str  # ISO 8601


class Nothing(TypedDict):
    """SWARM_OPENED and SWARM_JOINED: the actor and the time say it all."""


SCHEMAS: dict[str, type] = {
    EventKind.CREATED: Created,
    EventKind.STATUS_CHANGED: StatusChanged,
    EventKind.ESCALATED: TierMoved,
    EventKind.DEESCALATED: TierMoved,
    EventKind.ASSIGNED: Assigned,
    EventKind.PRIORITY_CHANGED: PriorityChanged,
    EventKind.CATEGORY_CHANGED: CategoryChanged,
    EventKind.REPLIED: Replied,
    EventKind.NOTE_ADDED: NoteAdded,
    EventKind.ATTACHMENT_ADDED: AttachmentAdded,
    EventKind.MANAGERS_NOTIFIED: ManagersNotified,
    EventKind.SWARM_OPENED: Nothing,
    EventKind.SWARM_JOINED: Nothing,
    EventKind.WATCHER_ADDED: WatcherAdded,
    EventKind.MERGED: Merged,
    EventKind.LINKED: Linked,
    EventKind.RESOLVED: Resolved,
    EventKind.REOPENED: Reopened,
    EventKind.CLOSED: Closed,
    EventKind.SLA: SlaCrossed,
}

D = TypeVar("D")


class EventLike(Protocol):
    """A ``TicketEvent`` or a copy of one (the SLA engine replays plain copies)."""

    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> Any: ...


def payload(event: EventLike, schema: type[D]) -> D:
    """``event.data`` typed as ``schema``, which must be its kind's (a mismatch is a bug: it raises)."""
    if SCHEMAS.get(event.kind) is not schema:
        raise TypeError(f"A {event.kind} event's data is not a {schema.__name__}.")
    return cast(D, event.data if isinstance(event.data, dict) else {})


def key(schema: type, name: str) -> str:
    """``name``, checked to be a data key of ``schema``: for SQL that reads ``data->>'name'``."""
    keys = getattr(schema, "__required_keys__", frozenset()) | getattr(schema, "__optional_keys__", frozenset())
    if name not in keys:
        raise KeyError(f"{schema.__name__} has no key {name!r}.")
    return name


# --------------------------------------------------------------------------- constructors

TicketRef = Ticket | int


def _event(
    ticket: TicketRef,
    kind: EventKind,
    data: Mapping[str, Any],
    *,
    by: User | None,
    at: datetime | None = None,
    internal: bool = False,
) -> TicketEvent:
    event = TicketEvent(kind=kind, actor=by, data=dict(data), internal=internal)
    if isinstance(ticket, Ticket):
        event.ticket = ticket
    else:
        event.ticket_id = ticket
    if at is not None:
        event.at = at
    return event


def created(ticket: Ticket, *, by: User | None, at: datetime | None = None) -> TicketEvent:
    data: Created = {"channel": ticket.channel, "priority": ticket.priority, "tier": ticket.tier}
    return _event(ticket, EventKind.CREATED, data, by=by, at=at)


def status_changed(
    ticket: TicketRef, *, by: User | None, before: str, after: str, at: datetime | None = None
) -> TicketEvent:
    data: StatusChanged = {"from": before, "to": after}
    return _event(ticket, EventKind.STATUS_CHANGED, data, by=by, at=at)


def tier_moved(
    ticket: Ticket,
    *,
    by: User | None,
    escalated: bool,
    before: int,
    note: str,
    previous_assignee: int | None,
    at: datetime | None = None,
) -> TicketEvent:
    """ESCALATED (or DEESCALATED) from ``before`` to the ticket's tier now, with its vendor."""
    data: TierMoved = {
        "from": before,
        "to": ticket.tier,
        "note": note,
        "vendor": ticket.vendor_id,
        "vendor_reference": ticket.vendor_reference,
        "previous_assignee": previous_assignee,
    }
    kind = EventKind.ESCALATED if escalated else EventKind.DEESCALATED
    return _event(ticket, kind, data, by=by, at=at, internal=True)


def assigned(
    ticket: Ticket, *, by: User | None, before: int | None, after: int | None, at: datetime | None = None
) -> TicketEvent:
    data: Assigned = {"from": before, "to": after}
    return _event(ticket, EventKind.ASSIGNED, data, by=by, at=at)


def priority_changed(
    ticket: Ticket, *, by: User, before: PriorityFields, after: PriorityFields, at: datetime | None = None
) -> TicketEvent:
    data: PriorityChanged = {"from": before, "to": after}
    return _event(ticket, EventKind.PRIORITY_CHANGED, data, by=by, at=at)


def category_changed(ticket: Ticket, *, by: User, before: int | None, after: int | None) -> TicketEvent:
    data: CategoryChanged = {"from": before, "to": after}
    return _event(ticket, EventKind.CATEGORY_CHANGED, data, by=by)


def replied(ticket: Ticket, *, by: User, message: int, side: Side, at: datetime | None = None) -> TicketEvent:
    data: Replied = {"message": message, "side": side}
    return _event(ticket, EventKind.REPLIED, data, by=by, at=at)


def note_added(ticket: Ticket, *, by: User, message: int, at: datetime | None = None) -> TicketEvent:
    data: NoteAdded = {"message": message}
    return _event(ticket, EventKind.NOTE_ADDED, data, by=by, at=at, internal=True)


def attachment_added(ticket: Ticket, *, by: User, attachment: int, filename: str, internal: bool) -> TicketEvent:
    data: AttachmentAdded = {"attachment": attachment, "filename": filename}
    return _event(ticket, EventKind.ATTACHMENT_ADDED, data, by=by, internal=internal)


def managers_notified(ticket: Ticket, *, by: User, reason: str) -> TicketEvent:
    data: ManagersNotified = {"reason": reason}
    return _event(ticket, EventKind.MANAGERS_NOTIFIED, data, by=by, internal=True)


def swarm_opened(ticket: Ticket, *, by: User) -> TicketEvent:
    return _event(ticket, EventKind.SWARM_OPENED, Nothing(), by=by, internal=True)


def swarm_joined(ticket: Ticket, *, by: User) -> TicketEvent:
    return _event(ticket, EventKind.SWARM_JOINED, Nothing(), by=by, internal=True)


def watcher_added(ticket: Ticket, *, by: User, watcher: int, via: str | None = None) -> TicketEvent:
    data: WatcherAdded = {"watcher": watcher}
    if via:
        data["via"] = via
    return _event(ticket, EventKind.WATCHER_ADDED, data, by=by)


def merged_into(duplicate: Ticket, *, by: User, into: int, at: datetime | None = None) -> TicketEvent:
    data: Merged = {"into": into}
    return _event(duplicate, EventKind.MERGED, data, by=by, at=at)


def merged_from(
    survivor: Ticket, *, by: User, duplicate: int, messages: int, at: datetime | None = None
) -> TicketEvent:
    data: Merged = {"from": duplicate, "messages": messages}
    return _event(survivor, EventKind.MERGED, data, by=by, at=at)


def linked_related(ticket: Ticket, *, by: User, related: int, follow_up: bool = False) -> TicketEvent:
    data: Linked = {"related": related}
    if follow_up:
        data["why"] = "follow-up"
    return _event(ticket, EventKind.LINKED, data, by=by)


def linked_to_problem(incident: Ticket, *, by: User, problem: int) -> TicketEvent:
    data: Linked = {"problem": problem}
    return _event(incident, EventKind.LINKED, data, by=by)


def unlinked_from_problem(incident: Ticket, *, by: User, previous: int | None) -> TicketEvent:
    data: Linked = {"problem": None, "previous": previous}
    return _event(incident, EventKind.LINKED, data, by=by)


def incident_linked(problem: Ticket, *, by: User, incident: int) -> TicketEvent:
    data: Linked = {"incident": incident}
    return _event(problem, EventKind.LINKED, data, by=by)


def resolved(
    ticket: Ticket, *, by: User, note: str, problem: int | None = None, at: datetime | None = None
) -> TicketEvent:
    data: Resolved = {"note": note}
    if problem is not None:
        data["problem"] = problem
    return _event(ticket, EventKind.RESOLVED, data, by=by, at=at)


def reopened(ticket: Ticket, *, by: User | None, reason: str, at: datetime | None = None) -> TicketEvent:
    data: Reopened = {"reason": reason}
    return _event(ticket, EventKind.REOPENED, data, by=by, at=at)


def closed(ticket: TicketRef, *, by: User | None, why: str, at: datetime | None = None) -> TicketEvent:
    data: Closed = {"why": why}
    return _event(ticket, EventKind.CLOSED, data, by=by, at=at)


def sla_crossed(
    ticket: TicketRef,
    *,
    crossing: Literal["warning", "breached"],
    metric: str,
    scope: int,
    cycle: int,
    due: datetime,
    at: datetime,
) -> TicketEvent:
    """A clock line crossed (by the SLA sweep): internal, written by the system."""
    data: SlaCrossed = {"sla": crossing, "metric": metric, "scope": scope, "cycle": cycle, "due": due.isoformat()}
    return _event(ticket, EventKind.SLA, data, by=None, at=at, internal=True)


# --------------------------------------------------------------------------- writing and announcing

# Sent with ``events=list[TicketEvent]`` after the rows are written, inside the caller's
# transaction. Each event is announced exactly once; every event's ``ticket`` is loaded.
ticket_events = Signal()


def record_event(event: TicketEvent) -> TicketEvent:
    """Append one event (made by a constructor above) and announce it: ``record_events_bulk`` of one.

    The caller holds the transaction (and the ticket's row lock for a live change). Receivers
    see the event's ``ticket`` object itself, so what they write on it (the SLA summary) is on
    the caller's object too.
    """
    return record_events_bulk([event])[0]


def record_events_bulk(events: Sequence[TicketEvent]) -> list[TicketEvent]:
    """Append a batch of unsaved events (of one or many tickets) and announce them once, as a set.

    Invariants: the events are written in the caller's transaction (an aborted change leaves
    no history and no receiver's work behind), in one INSERT whatever the batch size, and
    each is announced exactly once. Side effects: one query loads the tickets of events
    given only a ``ticket_id``, so receivers may read ``event.ticket`` without a query per
    event; then ``ticket_events`` is sent once with the whole batch. The statements the
    receivers add depend on them: ``reports`` marks the rollup's days in one statement per
    batch, ``sla`` replays each ticket of the batch (SLA events excepted).
    """
    events = TicketEvent.objects.bulk_create(list(events))
    if not events:
        return events
    missing = {e.ticket_id for e in events if not TicketEvent.ticket.is_cached(e)}
    if missing:
        tickets = Ticket.objects.in_bulk(missing)
        for event in events:
            if not TicketEvent.ticket.is_cached(event):
                event.ticket = tickets[event.ticket_id]
    ticket_events.send(sender=Ticket, events=events)
    return events


__all__ = [
    "SCHEMAS",
    "key",
    "payload",
    "record_event",
    "record_events_bulk",
    "ticket_events",
]
