"""The rows of the queue and vendor lists: display values prepared in Python, HTML in the templates.

These lists are the hottest pages of the agent workspace. A page is read with ``values()``
(no model instances), and each row's display strings (labels, badges, names, the SLA due
words) are worked out here once, so the templates (``tickets/_queue_table.html``,
``tickets/vendor_home.html``) only print fields, auto-escaped as usual, without per-row
``{% url %}`` or ``get_FOO_display`` calls. Dates are printed with ``{% when %}``, the one
date/time style of the site.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from helpdesk.core.models import User

from ..models import Channel, Priority, Status, Tier, format_reference

# Display labels looked up directly (``get_FOO_display`` flattens the choices on every call);
# the values of a choice field never fall outside its choices (database constraints).
PRIORITY_LABELS = dict(Priority.choices)
STATUS_LABELS = dict(Status.choices)
TIER_LABELS = dict(Tier.choices)
CHANNEL_LABELS = dict(Channel.choices)
PRIORITY_BADGES = {1: "text-bg-danger", 2: "text-bg-warning", 3: "text-bg-info"}
STATUS_BADGES = {
    Status.NEW: "text-bg-primary",
    Status.OPEN: "text-bg-success",
    Status.RESOLVED: "text-bg-light border",
    Status.CLOSED: "text-bg-light border",
}


def span(seconds: float) -> str:
    """A duration for the "Due" column: "35 min", "2 h", "3 d" (rounded down; the title has the exact time)."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


DUE_SOON_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Due:
    text: str
    badge: str  # "" (plain), "text-bg-warning" (within the hour) or "text-bg-danger" (overdue or breached)
    iso: str
    title: str


def due(due_at: datetime | None, breached: bool, now: datetime) -> Due | None:
    """The ticket's nearest SLA due time ("in 35 min", "overdue 2 h"), from the summary fields ``sla`` keeps.

    Red when overdue or when a clock already breached, amber within the hour; nothing when no
    clock runs, unless a (paused) clock breached: then just "breached".
    """
    if due_at is None:
        return Due("breached", "text-bg-danger", "", "An SLA target was missed") if breached else None
    local = timezone.localtime(due_at)
    title = f"Due {local:%Y-%m-%d %H:%M %Z}"
    left = (due_at - now).total_seconds()
    if left <= 0:
        return Due(f"overdue {span(-left)}", "text-bg-danger", local.isoformat(), title)
    if breached:
        return Due(f"in {span(left)}, breached", "text-bg-danger", local.isoformat(), title + "; a target was missed")
    return Due(f"in {span(left)}", "text-bg-warning" if left <= DUE_SOON_SECONDS else "", local.isoformat(), title)


@dataclass(frozen=True, slots=True)
class QueueRow:
    pk: int
    url: str
    reference: str
    subject: str
    is_swarm: bool
    requester_name: str
    requester_email: str
    priority: str
    priority_badge: str
    status: str
    status_badge: str
    tier: str
    vendor_reference: str
    assignee: str
    category: str
    channel: str
    created_at: datetime
    updated_at: datetime
    due: Due | None


# The columns a row shows, read with ``values()``: no model instances (four per row with the
# requester, assignee and category) are built for a page.
ROW_FIELDS = (
    "pk",
    "subject",
    "is_swarm",
    "priority",
    "status",
    "tier",
    "vendor_id",
    "vendor_reference",
    "channel",
    "created_at",
    "updated_at",
    "sla_due_at",
    "sla_breached",
)
PEOPLE_FIELDS = (
    "requester__first_name",
    "requester__last_name",
    "requester__username",
    "requester__email",
    "assignee_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "category_id",
    "category__name",
    "category__parent__name",
)


def queue_rows(tickets, *, people: bool = True) -> list[QueueRow]:
    """Display rows for ``tickets`` (a page of a ticket queryset, or the queryset itself).

    ``people=False`` when requester/assignee/category are not shown (and need not be read).
    """
    fields = ROW_FIELDS + PEOPLE_FIELDS if people else ROW_FIELDS
    return rows_from_values(getattr(tickets, "object_list", tickets).values(*fields), people=people)


def rows_from_values(values: Iterable[dict], *, people: bool) -> list[QueueRow]:
    """Display rows from ``ROW_FIELDS`` (and ``PEOPLE_FIELDS``) values of tickets."""
    now = timezone.now()
    # One reverse() for the page: the URL of every ticket differs only in its primary key.
    url_pattern = reverse("tickets:detail", args=[0]).replace("/0/", "/{}/")
    return [_row(v, url_pattern, now, people) for v in values]


def _row(v: dict, url_pattern: str, now: datetime, people: bool) -> QueueRow:
    category = ""
    if people and v["category_id"]:
        parent = v["category__parent__name"]
        category = f"{parent} / {v['category__name']}" if parent is not None else v["category__name"]
    pk = v["pk"]
    return QueueRow(
        pk=pk,
        url=url_pattern.format(pk),
        reference=format_reference(pk),
        subject=v["subject"],
        is_swarm=v["is_swarm"],
        requester_name=(
            User.name_from(v["requester__first_name"], v["requester__last_name"], v["requester__username"])
            if people
            else ""
        ),
        requester_email=v["requester__email"] if people else "",
        priority=str(PRIORITY_LABELS.get(v["priority"], v["priority"])),
        priority_badge=PRIORITY_BADGES.get(v["priority"], "text-bg-secondary"),
        status=str(STATUS_LABELS.get(v["status"], v["status"])),
        status_badge=STATUS_BADGES.get(v["status"], "text-bg-warning"),
        tier=str(TIER_LABELS.get(v["tier"], v["tier"])),
        vendor_reference=v["vendor_reference"] if v["vendor_id"] else "",
        assignee=(
            User.name_from(v["assignee__first_name"], v["assignee__last_name"], v["assignee__username"])
            if people and v["assignee_id"]
            else ""
        ),
        category=category,
        channel=str(CHANNEL_LABELS.get(v["channel"], v["channel"])),
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        due=due(v["sla_due_at"], v["sla_breached"], now),
    )


__all__ = ["Due", "QueueRow", "due", "queue_rows"]
