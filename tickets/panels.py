"""Panels other apps add to the ticket page, without ``tickets`` importing those apps.

``sla`` and ``knowledgebase`` register a panel in their ``AppConfig.ready``: a template and
a function that returns its context for one ticket and user (or None to show nothing). The
ticket page renders the registered panels in the side column, in ``order``. A panel must
run a fixed number of SQL queries whatever the ticket holds: the page's query count is
tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.core.models import User

from .models import Ticket


@dataclass(frozen=True)
class TicketPanel:
    key: str
    template: str
    context: Callable[[User, Ticket], dict | None]  # (user, ticket) -> context, None = hidden
    order: int = 100


_panels: dict[str, TicketPanel] = {}


def register_ticket_panel(panel: TicketPanel) -> None:
    """Add (or replace, by key) a panel of the ticket page; called from an app's ``ready``."""
    _panels[panel.key] = panel


def panels_for(user, ticket: Ticket) -> list[tuple[str, dict]]:
    """(template, context) of every registered panel that has something to show to ``user``."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(user, ticket)
        if context is not None:
            shown.append((panel.template, context))
    return shown
