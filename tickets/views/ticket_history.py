"""The ticket page's history timeline: one line of plain words per TicketEvent.

Names of the people and categories an event points at are fetched in one query each for the
whole timeline, so the page's query count does not grow with the number of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from ..models import Category, EventKind, Priority, Status, TicketEvent, Tier, format_reference


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

    def ref(self, value) -> str:
        """A linked ticket's reference, or no name at all if the reader may not see that ticket."""
        return format_reference(value) if isinstance(value, int) and value in self.visible_tickets else "another ticket"


def _ids(events: Iterable[TicketEvent], kinds: set[str], keys: tuple[str, ...]) -> set[int]:
    found = set()
    for event in events:
        if event.kind in kinds:
            found.update(v for k in keys if isinstance(v := event.data.get(k), int))
    return found


TICKET_KEYS = ("into", "from", "related", "incident", "problem")


def ticket_ids_in(events: Iterable[TicketEvent]) -> set[int]:
    """Ids of the other tickets that merge and link events name."""
    return _ids(events, {EventKind.MERGED, EventKind.LINKED}, TICKET_KEYS)


def describe(events: list[TicketEvent], visible_tickets: set[int]) -> list[HistoryLine]:
    """Plain-words lines for ``events`` (already filtered to what the reader may see).

    Other tickets are named only when their id is in ``visible_tickets``, so the history does
    not leak the existence of tickets the reader cannot open.
    """
    user_ids = _ids(events, {EventKind.ASSIGNED}, ("from", "to")) | _ids(
        events, {EventKind.WATCHER_ADDED}, ("watcher",)
    )
    category_ids = _ids(events, {EventKind.CATEGORY_CHANGED}, ("from", "to"))
    users = {u.pk: u.display_name for u in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    categories = {c.pk: c.name for c in Category.objects.filter(pk__in=category_ids)} if category_ids else {}
    names = _Names(users=users, categories=categories, visible_tickets=visible_tickets)
    return [_line(event, names) for event in events]


def _line(event: TicketEvent, names: _Names) -> HistoryLine:
    data = event.data if isinstance(event.data, dict) else {}
    kind = event.kind
    summary = _label(EventKind, kind, kind)
    detail = ""
    if kind == EventKind.CREATED:
        summary = f"Created ({data.get('channel', 'portal')})"
    elif kind == EventKind.STATUS_CHANGED:
        summary = f"Status: {_status(data.get('from'))} → {_status(data.get('to'))}"
    elif kind in (EventKind.ESCALATED, EventKind.DEESCALATED):
        verb = "Escalated" if kind == EventKind.ESCALATED else "De-escalated"
        summary = f"{verb} from {_tier(data.get('from'))} to {_tier(data.get('to'))}"
        if data.get("vendor_reference"):
            summary += f" (vendor reference {data['vendor_reference']})"
        detail = str(data.get("note", ""))
    elif kind == EventKind.ASSIGNED:
        to = data.get("to")
        summary = f"Assigned to {names.users.get(to, 'someone')}" if to else "Unassigned"
    elif kind == EventKind.PRIORITY_CHANGED:
        before, after = data.get("from") or {}, data.get("to") or {}
        summary = f"Priority: {_label(Priority, before.get('priority'))} → {_label(Priority, after.get('priority'))}"
        detail = str(after.get("reason") or "")
    elif kind == EventKind.CATEGORY_CHANGED:
        before, after = (names.categories.get(data.get(k), "none") for k in ("from", "to"))
        summary = f"Category: {before} → {after}"
    elif kind == EventKind.ATTACHMENT_ADDED:
        summary = f"Attached {data.get('filename', 'a file')}"
    elif kind == EventKind.MANAGERS_NOTIFIED:
        detail = str(data.get("reason", ""))
    elif kind == EventKind.WATCHER_ADDED:
        summary = f"Watcher added: {names.users.get(data.get('watcher'), 'someone')}"
    elif kind == EventKind.MERGED:
        summary = (
            f"Merged into {names.ref(data['into'])}" if "into" in data else f"Merged from {names.ref(data.get('from'))}"
        )
    elif kind == EventKind.LINKED:
        if "related" in data:
            why = " (follow-up)" if data.get("why") == "follow-up" else ""
            summary = f"Linked to {names.ref(data['related'])}{why}"
        elif "incident" in data:
            summary = f"Incident {names.ref(data['incident'])} linked to this problem"
        elif data.get("problem"):
            summary = f"Linked to problem {names.ref(data['problem'])}"
        else:
            summary = "Unlinked from its problem"
    elif kind == EventKind.RESOLVED:
        detail = str(data.get("note", ""))
    elif kind == EventKind.REOPENED:
        detail = str(data.get("reason", ""))
    elif kind == EventKind.CLOSED:
        summary = "Closed (resolution confirmed)" if data.get("why") == "confirmed" else "Closed"
    elif kind == EventKind.SLA:
        detail = str(data.get("detail") or data.get("clock") or "")
    return HistoryLine(event=event, summary=summary, detail=detail)
