"""The forms of the ticket page, by name: the page shows them unbound, the actions bind them.

One place builds each form, so a failed action can put its bound form (input kept, errors
shown) back into the page in the very spot it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms as django_forms
from django.http import QueryDict

from helpdesk.core.models import User

from .. import forms, permissions, services
from ..models import MessageKind, Status, Ticket
from .kept_input import keep_input, rebind, take_input

# Forms that sit in a Bootstrap modal dialog; after a failed submission the page opens it again.
MODAL_FORMS = {"escalate", "deescalate", "managers", "resolve"}


def allowed_statuses(ticket: Ticket) -> list[str]:
    """Statuses an agent may set from the status form (resolving has its own dialog)."""
    targets = services.AGENT_TRANSITIONS.get(ticket.status, set())
    return [s for s in Status.values if s in targets and not (s == Status.PENDING_VENDOR and ticket.vendor_id is None)]


def compose_kinds(user: User | None, ticket: Ticket) -> list[tuple[str, str]]:
    """The message kinds ``user`` may write in the composer, the default first.

    Staff: a public reply, an internal note, and at tier 4 a message to the vendor. The
    vendor's people: the vendor conversation first (their replies land there), then a public
    reply. The requester and watchers: a public reply.
    """
    if user is None:
        return []
    kinds: list[tuple[str, str]] = []
    reply = ticket.status != Status.CLOSED and permissions.can_reply(user, ticket)
    vendor = ticket.status != Status.CLOSED and permissions.can_write_to_vendor(user, ticket)
    if permissions.is_vendor_of(user, ticket) and not permissions.can_work(user, ticket):
        if vendor:
            kinds.append((MessageKind.VENDOR, "To the desk"))
        if reply:
            kinds.append((MessageKind.PUBLIC, "Public reply"))
        return kinds
    if reply:
        kinds.append((MessageKind.PUBLIC, "Public reply"))
    if permissions.can_add_note(user, ticket):
        kinds.append((MessageKind.INTERNAL, "Internal note"))
    if vendor:
        kinds.append((MessageKind.VENDOR, "To the vendor"))
    return kinds


def make_form(
    name: str, ticket: Ticket, data=None, files=None, *, open_incidents: int = 0, user: User | None = None
) -> django_forms.Form:
    """The form ``name`` for ``ticket``: unbound with the ticket's current values, or bound to ``data``.

    A form that changes the ticket's fields is shown with the ticket's version (hidden), so
    its submission is refused if someone else changed the ticket in between.
    """
    form = _build_form(name, ticket, data, files, open_incidents=open_incidents, user=user)
    if isinstance(form, forms.VersionedForm):
        form.initial.setdefault("version", ticket.version)
    return form


def _build_form(name: str, ticket: Ticket, data, files, *, open_incidents: int, user: User | None) -> django_forms.Form:
    if name == "compose":
        return forms.ComposeForm(
            data,
            files,
            kinds=compose_kinds(user, ticket),
            work=user is not None and ticket.is_open and permissions.can_work(user, ticket),
            statuses=[ticket.status, *allowed_statuses(ticket)],
            tier=ticket.tier,
            initial={
                "status": ticket.status,
                "impact": ticket.impact,
                "urgency": ticket.urgency,
                "priority": ticket.priority if ticket.priority_reason else "",
                "reason": ticket.priority_reason,
                "category": ticket.category_id,
                "assignee": ticket.assignee_id,
            },
        )
    if name == "macro":
        return forms.ApplyMacroForm(data)
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
        initial = {"reference": ticket.problem.reference if ticket.problem is not None else ""}
        return forms.TicketReferenceForm(data, prefix_id="problem", required=False, initial=initial)
    if name == "watcher":
        return forms.WatcherForm(data)
    raise KeyError(name)


FORM_NAMES = (
    "compose",
    "macro",
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


def page_forms(ticket: Ticket, bound: dict | None = None, *, open_incidents: int = 0, user: User | None = None) -> dict:
    """Every form of the page; ``bound`` replaces some with a failed submission."""
    bound = bound or {}
    return {
        name: bound[name] if name in bound else make_form(name, ticket, open_incidents=open_incidents, user=user)
        for name in FORM_NAMES
    }


# --------------------------------------------------------------------------- conflicts


def _shown(field: django_forms.Field, value) -> str:
    """``value`` of ``field`` as the form shows it: a person's name, a choice's label, or "none"."""
    if hasattr(value, "display_name"):
        return value.display_name
    key = "" if value is None else str(value)
    for choice, label in getattr(field, "choices", None) or ():
        if str(choice) == key:
            return str(label)
    return key or "none"


# What each field form changes on the ticket: (form field, label, the ticket's current value).
# The escalation forms name the tier they move to, so their conflict is told as the tier.
_CURRENT: dict[str, tuple[tuple[str, str | None, Callable[[Ticket], object]], ...]] = {
    "assign": (("assignee", None, lambda t: t.assignee),),
    "status": (("status", None, lambda t: t.status),),
    "priority": (
        ("impact", None, lambda t: t.impact),
        ("urgency", None, lambda t: t.urgency),
        ("priority", None, lambda t: t.priority if t.priority_reason else None),
        ("reason", None, lambda t: t.priority_reason),
    ),
    "category": (("category", None, lambda t: t.category),),
    "compose": (
        ("status", None, lambda t: t.status),
        ("priority", None, lambda t: t.priority if t.priority_reason else None),
        ("category", None, lambda t: t.category),
        ("assignee", None, lambda t: t.assignee),
    ),
    "escalate": (("to_tier", "Tier", lambda t: t.tier),),
    "deescalate": (("to_tier", "Tier", lambda t: t.tier),),
}


def conflict_lines(name: str, form: django_forms.Form, current: Ticket) -> list[str]:
    """ "<label> — yours: <value>; current: <value>" for what form ``name`` would change on ``current``.

    ``form`` is the valid submission built on an older version of the ticket. The fields whose
    values differ are named (all of them when none does: the change was elsewhere on the ticket).
    """
    if name == "resolve":
        rows = [("Status", Status.RESOLVED.label, current.get_status_display())]
    else:
        rows = [
            (
                str(label or form.fields[field].label),
                _shown(form.fields[field], form.cleaned_data.get(field)),
                _shown(form.fields[field], value(current)),
            )
            for field, label, value in _CURRENT.get(name, ())
            if field in form.fields
        ]
    differing = [row for row in rows if row[1] != row[2]] or rows
    return [f"{label} — yours: {yours}; current: {now}" for label, yours, now in differing]


# --------------------------------------------------------------------------- a refused submission, kept for one read


def keep_refused_form(request, ticket: Ticket, name: str, data, errors: Iterable[str] = ()) -> None:
    """Keep what was typed into form ``name`` of ``ticket`` (not the files) and the refusal's messages."""
    keep_input(request, ticket.get_absolute_url(), name, data, errors)


def take_refused_form(request, ticket: Ticket, *, open_incidents: int = 0) -> dict[str, django_forms.Form]:
    """The refused form kept for ``ticket``, bound again with its errors; empty if none. Read once."""
    kept = take_input(request, ticket.get_absolute_url())
    if kept is None or kept[0] not in FORM_NAMES:
        return {}
    name, data, errors = kept
    if name in INTO_COMPOSER:
        name, data = "compose", _into_composer(name, ticket, data)
    form = make_form(name, ticket, data, open_incidents=open_incidents, user=request.user)
    return {name: rebind(form, errors)}


# The single-purpose actions whose fields the composer now holds (their URLs still answer, for
# scripts and old pages): what was typed into one of them comes back in the composer.
INTO_COMPOSER = {
    "reply": MessageKind.PUBLIC,
    "note": MessageKind.INTERNAL,
    "status": "",
    "priority": "",
    "category": "",
    "assign": "",
}


def _into_composer(name: str, ticket: Ticket, data: QueryDict) -> QueryDict:
    """The composer's input for what was typed into form ``name``: the ticket's current values, then the typed ones."""
    merged = QueryDict(mutable=True)
    current = {
        "status": ticket.status,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "priority": str(ticket.priority) if ticket.priority_reason else "",
        "reason": ticket.priority_reason,
        "category": "" if ticket.category_id is None else str(ticket.category_id),
        "assignee": "" if ticket.assignee_id is None else str(ticket.assignee_id),
        "version": str(ticket.version),
        "kind": INTO_COMPOSER[name] or MessageKind.PUBLIC,
    }
    for key, value in current.items():
        merged[key] = value
    for key in data:
        merged.setlist(key, data.getlist(key))
    return merged
