"""The forms of the ticket page, by name: the page shows them unbound, the actions bind them.

One place builds each form, so a failed action can put its bound form (input kept, errors
shown) back into the page in the very spot it came from.
"""

from __future__ import annotations

from django import forms as django_forms

from .. import forms, services
from ..models import Status, Ticket

# Forms that sit in a Bootstrap modal dialog; after a failed submission the page opens it again.
MODAL_FORMS = {"escalate", "deescalate", "managers", "resolve"}


def allowed_statuses(ticket: Ticket) -> list[str]:
    """Statuses an agent may set from the status form (resolving has its own dialog)."""
    targets = services.AGENT_TRANSITIONS.get(ticket.status, set())
    return [s for s in Status.values if s in targets and not (s == Status.PENDING_VENDOR and ticket.vendor_id is None)]


def make_form(name: str, ticket: Ticket, data=None, files=None, *, open_incidents: int = 0) -> django_forms.Form:
    """The form ``name`` for ``ticket``: unbound with the ticket's current values, or bound to ``data``."""
    if name == "reply":
        return forms.ReplyForm(data, files)
    if name == "follow_up":
        return forms.FollowUpForm(data)
    if name == "note":
        return forms.NoteForm(data, files)
    if name == "assign":
        return forms.AssignForm(data, tier=ticket.tier, initial={"assignee": ticket.assignee_id})
    if name == "status":
        return forms.StatusForm(
            data, allowed=[ticket.status, *allowed_statuses(ticket)], initial={"status": ticket.status}
        )
    if name == "priority":
        initial = {
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "priority": ticket.priority if ticket.priority_reason else "",
            "reason": ticket.priority_reason,
        }
        return forms.PriorityForm(data, initial=initial)
    if name == "category":
        return forms.CategoryForm(data, initial={"category": ticket.category_id})
    if name == "escalate":
        return forms.EscalateForm(data, current_tier=ticket.tier)
    if name == "deescalate":
        return forms.DeescalateForm(data, current_tier=ticket.tier)
    if name == "managers":
        return forms.NotifyManagersForm(data)
    if name == "resolve":
        return forms.ResolveForm(data, open_incidents=open_incidents)
    if name == "reopen":
        return forms.ReopenForm(data)
    if name in ("merge", "related"):
        return forms.TicketReferenceForm(data, prefix_id=name)
    if name == "problem":
        initial = {"reference": ticket.problem.reference if ticket.problem_id else ""}
        return forms.TicketReferenceForm(data, prefix_id="problem", required=False, initial=initial)
    if name == "watcher":
        return forms.WatcherForm(data)
    raise KeyError(name)


FORM_NAMES = (
    "reply",
    "follow_up",
    "note",
    "assign",
    "status",
    "priority",
    "category",
    "escalate",
    "deescalate",
    "managers",
    "resolve",
    "reopen",
    "merge",
    "problem",
    "related",
    "watcher",
)


def page_forms(ticket: Ticket, bound: dict | None = None, *, open_incidents: int = 0) -> dict:
    """Every form of the page; ``bound`` replaces some with a failed submission."""
    bound = bound or {}
    return {
        name: bound[name] if name in bound else make_form(name, ticket, open_incidents=open_incidents)
        for name in FORM_NAMES
    }
