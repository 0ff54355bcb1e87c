"""Helpers shared by the ticket page tests (test_ticket_views.py, test_ticket_actions.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.contrib.messages import get_messages

from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

SNAPSHOT_FIELDS = (
    "status",
    "tier",
    "assignee_id",
    "priority",
    "impact",
    "urgency",
    "category_id",
    "vendor_id",
    "vendor_reference",
    "is_swarm",
    "resolved_at",
    "closed_at",
    "resolution_note",
    "merged_into_id",
    "problem_id",
    "updated_at",
    "version",
)


def snapshot(ticket: Ticket) -> dict:
    """Everything an action could change on ``ticket``: fields, rows under it, people on it."""
    row = Ticket.objects.filter(pk=ticket.pk).values(*SNAPSHOT_FIELDS).get()
    return {
        **row,
        "messages": TicketMessage.objects.filter(ticket=ticket).count(),
        "events": TicketEvent.objects.filter(ticket=ticket).count(),
        "attachments": Attachment.objects.filter(ticket=ticket).count(),
        "watchers": sorted(ticket.watchers.values_list("pk", flat=True)),
        "collaborators": sorted(ticket.collaborators.values_list("pk", flat=True)),
        "related": sorted(ticket.related.values_list("pk", flat=True)),
        "tickets": Ticket.objects.count(),
    }


def url(ticket: Ticket, action: str = "") -> str:
    return f"/tickets/{ticket.pk}/{action + '/' if action else ''}"


def flash(response) -> list[str]:
    """The messages framework's messages in ``response`` (consumed or still queued)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def page_text(response) -> str:
    """The page's text with tags and repeated white space removed (for 'shown in the page' checks)."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


class ActiveContentFinder(HTMLParser):
    """Everything in a page that could run script: inline or foreign scripts, on* handlers, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not (attributes.get("src") or "").startswith("/static/"):
                self.found.append(f"script without a static src: {attrs}")
        if tag in {"iframe", "object", "embed", "style", "base"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in {"style"}:
                self.found.append(f"{tag}[style]")
            if name in {"href", "src", "action", "formaction", "xlink:href"} and value:
                squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
                if squeezed.startswith(("javascript:", "data:", "vbscript:")):
                    self.found.append(f"{tag}[{name}={value}]")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data[:50]}")


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html)
    finder.close()
    return finder.found
