"""The ticket page's history timeline: one line of plain words per TicketEvent.

Names of the people and categories an event points at are fetched in one query each for the
whole timeline, so the page's query count does not grow with the number of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from .. import events
from ..events import key, payload
from ..models import Category, EventKind, Priority, Status, TicketEvent, Tier, Vendor, format_reference


@dataclass(frozen=True)
class HistoryLine:
    event: TicketEvent
    summary: str
    detail: str = ""


def _label(choices, value, default: str = "?") -> str:
    try:
        return choices(value).label
    except (ValueError, TypeError):
        return default


def _status(value) -> str:
    return _label(Status, value, str(value))


def _tier(value) -> str:
    return f"tier {value}" if value in Tier.values else "?"


@dataclass(frozen=True)
class _Names:
    users: dict[int, str]
    categories: dict[int, str]
    visible_tickets: set[int]
    vendors: dict[int, str] = field(default_factory=dict)

    def ref(self, value: object) -> str:
        """A linked ticket's reference, or no name at all if the reader may not see that ticket."""
        return format_reference(value) if isinstance(value, int) and value in self.visible_tickets else "another ticket"

    def user(self, value: object) -> str:
        return self.users.get(value, "someone") if isinstance(value, int) else "someone"

    def category(self, value: object) -> str:
        return self.categories.get(value, "none") if isinstance(value, int) else "none"


# The data keys that name other rows, per kind (checked against the schemas in tickets.events).
_TICKET_KEYS: dict[str, tuple[str, ...]] = {
    EventKind.MERGED: (key(events.Merged, "into"), key(events.Merged, "from")),
    EventKind.LINKED: tuple(key(events.Linked, k) for k in ("related", "incident", "problem")),
}
_USER_KEYS: dict[str, tuple[str, ...]] = {
    EventKind.ASSIGNED: (key(events.Assigned, "from"), key(events.Assigned, "to")),
    EventKind.WATCHER_ADDED: (key(events.WatcherAdded, "watcher"),),
}
_CATEGORY_KEYS: dict[str, tuple[str, ...]] = {
    EventKind.CATEGORY_CHANGED: (key(events.CategoryChanged, "from"), key(events.CategoryChanged, "to")),
}


def _ids(history: Iterable[TicketEvent], keys: dict[str, tuple[str, ...]]) -> set[int]:
    found = set()
    for event in history:
        for name in keys.get(event.kind, ()):
            if isinstance(value := event.data.get(name), int):
                found.add(value)
    return found


def ticket_ids_in(history: Iterable[TicketEvent]) -> set[int]:
    """Ids of the other tickets that merge and link events name."""
    return _ids(history, _TICKET_KEYS)


def describe(history: list[TicketEvent], visible_tickets: set[int]) -> list[HistoryLine]:
    """Plain-words lines for ``history`` (already filtered to what the reader may see).

    Other tickets are named only when their id is in ``visible_tickets``, so the history does
    not leak the existence of tickets the reader cannot open.
    """
    user_ids = _ids(history, _USER_KEYS)
    category_ids = _ids(history, _CATEGORY_KEYS)
    users = {u.pk: u.display_name for u in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    categories = {c.pk: c.name for c in Category.objects.filter(pk__in=category_ids)} if category_ids else {}
    vendor_ids = {
        scope
        for event in history
        if event.kind == EventKind.SLA
        and event.data.get(key(events.SlaCrossed, "metric")) == "uc"
        and isinstance(scope := event.data.get(key(events.SlaCrossed, "scope")), int)
    }
    vendors = dict(Vendor.objects.filter(pk__in=vendor_ids).values_list("pk", "name")) if vendor_ids else {}
    names = _Names(users=users, categories=categories, visible_tickets=visible_tickets, vendors=vendors)
    return [_line(event, names) for event in history]


# The SLA metrics by name (``tickets`` does not import ``sla``; these are its ``Metric`` values).
_SLA_METRICS = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


def _sla_line(crossed: events.SlaCrossed, names: _Names) -> tuple[str, str]:
    """ "SLA warning: resolution", "SLA breached: resolution (Tier 2 OLA)" for a clock line crossed.

    The tier's OLA and the vendor's underpinning contract (UC) time the resolution inside the
    desk's own agreement; they are named in brackets, the vendor by name. A later cycle of a
    clock (after a reopening) says which.
    """
    metric, scope, cycle = crossed.get("metric", ""), crossed.get("scope"), crossed.get("cycle", 1)
    if metric == "ola":
        what = f"resolution (Tier {scope} OLA)"
    elif metric == "uc":
        vendor = names.vendors.get(scope) if isinstance(scope, int) else None
        what = f"resolution ({vendor} UC)" if vendor else "resolution (vendor contract, UC)"
    else:
        what = _SLA_METRICS.get(metric, metric.replace("_", " ") or "a clock")
    if isinstance(cycle, int) and cycle > 1:
        what = f"{what}, cycle {cycle}"
    verb = "breached" if crossed.get("sla") == "breached" else "warning"
    return f"SLA {verb}: {what}", ""


def _line(event: TicketEvent, names: _Names) -> HistoryLine:
    kind = event.kind
    summary = _label(EventKind, kind, kind)
    detail = ""
    if kind == EventKind.CREATED:
        summary = f"Created ({payload(event, events.Created).get('channel', 'portal')})"
    elif kind == EventKind.STATUS_CHANGED:
        status = payload(event, events.StatusChanged)
        summary = f"Status: {_status(status.get('from'))} → {_status(status.get('to'))}"
    elif kind in (EventKind.ESCALATED, EventKind.DEESCALATED):
        moved = payload(event, events.TierMoved)
        verb = "Escalated" if kind == EventKind.ESCALATED else "De-escalated"
        summary = f"{verb} from {_tier(moved.get('from'))} to {_tier(moved.get('to'))}"
        if moved.get("vendor_reference"):
            summary += f" (vendor reference {moved['vendor_reference']})"
        detail = str(moved.get("note", ""))
    elif kind == EventKind.ASSIGNED:
        to = payload(event, events.Assigned).get("to")
        summary = f"Assigned to {names.users.get(to, 'someone')}" if to else "Unassigned"
    elif kind == EventKind.PRIORITY_CHANGED:
        change = payload(event, events.PriorityChanged)
        before, after = change.get("from") or {}, change.get("to") or {}
        summary = f"Priority: {_label(Priority, before.get('priority'))} → {_label(Priority, after.get('priority'))}"
        detail = str(after.get("reason") or "")
    elif kind == EventKind.CATEGORY_CHANGED:
        category = payload(event, events.CategoryChanged)
        summary = f"Category: {names.category(category.get('from'))} → {names.category(category.get('to'))}"
    elif kind == EventKind.ATTACHMENT_ADDED:
        summary = f"Attached {payload(event, events.AttachmentAdded).get('filename', 'a file')}"
    elif kind == EventKind.MANAGERS_NOTIFIED:
        detail = str(payload(event, events.ManagersNotified).get("reason", ""))
    elif kind == EventKind.WATCHER_ADDED:
        summary = f"Watcher added: {names.user(payload(event, events.WatcherAdded).get('watcher'))}"
    elif kind == EventKind.MERGED:
        merged = payload(event, events.Merged)
        summary = (
            f"Merged into {names.ref(merged['into'])}"
            if "into" in merged
            else f"Merged from {names.ref(merged.get('from'))}"
        )
    elif kind == EventKind.LINKED:
        link = payload(event, events.Linked)
        if "related" in link:
            why = " (follow-up)" if link.get("why") == "follow-up" else ""
            summary = f"Linked to {names.ref(link['related'])}{why}"
        elif "incident" in link:
            summary = f"Incident {names.ref(link['incident'])} linked to this problem"
        elif link.get("problem"):
            summary = f"Linked to problem {names.ref(link.get('problem'))}"
        else:
            summary = "Unlinked from its problem"
    elif kind == EventKind.RESOLVED:
        detail = str(payload(event, events.Resolved).get("note", ""))
    elif kind == EventKind.REOPENED:
        detail = str(payload(event, events.Reopened).get("reason", ""))
    elif kind == EventKind.CLOSED:
        summary = (
            "Closed (resolution confirmed)" if payload(event, events.Closed).get("why") == "confirmed" else "Closed"
        )
    elif kind == EventKind.SLA:
        summary, detail = _sla_line(payload(event, events.SlaCrossed), names)
    return HistoryLine(event=event, summary=summary, detail=detail)
