"""The actions posted from the ticket page. Each is thin: fetch, check, one service call, redirect.

Every action: POST only, signed in, the ticket through ``get_ticket_for`` (404 if hidden), the
permission predicate (403), the form (shape only), ONE service call, then back to the ticket
with a success message. A refusal (invalid form or the service's ``ValidationError``), a change
that concurrent ones kept aborting (``TransactionConflict``) and an edit built on an older
version of the ticket (``StaleTicket``) write nothing and go back to the ticket page too
(Post/Redirect/Get, 303): the form, what was typed and its errors are kept in the session for
the next read of the page, so the page the user lands on can be reloaded (the action's own URL
answers only POST: a reload there was the browser's bare "405").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from helpdesk.core.db import TransactionConflict
from helpdesk.core.models import User

from .. import permissions, services
from ..models import OPEN_STATUSES, MessageKind, Ticket, Tier, format_reference
from .landing import landing_url
from .ticket_forms import conflict_lines, keep_refused_form, make_form

Predicate = Callable[[User, Ticket], bool]


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_error_text(form) -> str:
    parts: list[str] = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        parts.extend(f"{label}: {e}" if label else str(e) for e in errors)
    return " ".join(parts)


def ticket_action(form_name: str | None, *, allowed: Predicate):
    """Turn ``func(request, ticket, data) -> message | (message, url)`` into a ticket action view."""

    def decorate(func):
        @require_POST
        @login_required
        @wraps(func)
        def view(request, pk: int):
            ticket = permissions.get_ticket_for(request.user, pk)
            if not allowed(request.user, ticket):
                raise PermissionDenied
            form, data = None, {}
            if form_name is not None:
                incidents = ticket.incidents.filter(status__in=OPEN_STATUSES).count() if form_name == "resolve" else 0
                form = make_form(
                    form_name, ticket, request.POST, request.FILES, open_incidents=incidents, user=request.user
                )
                if not form.is_valid():
                    return _refused(request, ticket, form_name, form, _form_error_text(form))
                data = form.cleaned_data
            version = data.get("version")
            try:
                if version is None:
                    result = func(request, ticket, data)
                else:
                    # The change and the version check in one transaction on the locked row.
                    result = services.change_at_version(
                        ticket_id=ticket.pk, version=version, change=lambda: func(request, ticket, data)
                    )
            except services.StaleTicket as stale:
                return _conflict(request, ticket, form_name, form, stale)
            except ValidationError as error:
                return _refused(request, ticket, form_name, form, _error_text(error), errors=error.messages)
            except TransactionConflict as conflict:
                # Concurrent changes kept aborting it (already retried): nothing was saved; say so
                # and keep what was typed, as for a refusal.
                detail = str(conflict.detail)
                return _refused(request, ticket, form_name, form, detail, errors=[detail])
            text, url = result if isinstance(result, tuple) else (result, None)
            return _done(request, ticket, text, url)

        return view

    return decorate


def _back_to_ticket(ticket: Ticket) -> HttpResponseRedirect:
    """303 See Other: the browser GETs the ticket page, a URL that can be reloaded."""
    return HttpResponseRedirect(ticket.get_absolute_url(), status=303)


def _refused(request, ticket: Ticket, form_name: str | None, form, text: str, *, errors=()):
    """Nothing was written: say why and go back to the ticket, where the form shows again as typed.

    ``errors`` are the refusal's messages beyond the form's own field errors (which the page
    finds again by validating the kept input).
    """
    messages.error(request, text or "That did not work.")
    if form_name is not None and form is not None:
        keep_refused_form(request, ticket, form_name, form.data, errors)
        if request.FILES:
            messages.info(request, "Files are not kept when a form is refused: please choose them again.")
    return _back_to_ticket(ticket)


def _conflict(request, ticket: Ticket, form_name: str | None, form, stale: services.StaleTicket):
    """Someone else changed the ticket since the form was shown: both values, nothing overwritten.

    The form comes back as typed but carrying the current version, so sending it again (after
    reading what changed) applies it.
    """
    lines = conflict_lines(form_name, form, stale.current) if form_name and form is not None else []
    text = " ".join([*stale.messages, *(f"{line}." for line in lines), "Send the form again to apply yours."])
    messages.error(request, text)
    if form_name is not None and form is not None:
        data = form.data.copy()
        data["version"] = str(stale.current.version)
        keep_refused_form(request, ticket, form_name, data, [" ".join(stale.messages)])
    return _back_to_ticket(ticket)


def _done(request, ticket: Ticket, text: str, url: str | None):
    messages.success(request, text)
    if url:
        return redirect(url)
    if not permissions.visible_tickets(request.user).filter(pk=ticket.pk).exists():
        # E.g. escalated out of the agent's tiers: the ticket page would now be a 404.
        messages.info(request, f"{ticket.reference} has left your queues.")
        return redirect(landing_url(request.user))
    return redirect(ticket)


def _workable_target(user, pk: int) -> Ticket:
    """Another ticket named by reference in a form: it must be one the user may work on."""
    target = permissions.visible_tickets(user).filter(pk=pk).first()
    if target is None:
        raise ValidationError(f"There is no ticket {format_reference(pk)} that you can see.")
    if not permissions.can_work(user, target):
        raise ValidationError(f"You cannot work on {target.reference}.")
    return target


# --------------------------------------------------------------------------- the composer


def compose_changes(ticket: Ticket, data: dict) -> services.FieldChanges:
    """The fields the composer changes: those whose submitted value differs from the ticket's."""
    if "status" not in data:
        return services.FieldChanges()
    shown_priority = ticket.priority if ticket.priority_reason else None
    priority: services.PriorityChange | services.Keep = services.KEEP
    if (data["impact"], data["urgency"], data["priority"], data["reason"].strip()) != (
        ticket.impact,
        ticket.urgency,
        shown_priority,
        ticket.priority_reason,
    ):
        priority = services.PriorityChange(
            impact=data["impact"], urgency=data["urgency"], priority=data["priority"], reason=data["reason"]
        )
    category, assignee = data["category"], data["assignee"]
    return services.FieldChanges(
        status=data["status"] if data["status"] != ticket.status else services.KEEP,
        priority=priority,
        category=category if (category.pk if category else None) != ticket.category_id else services.KEEP,
        assignee=assignee if (assignee.pk if assignee else None) != ticket.assignee_id else services.KEEP,
    )


@ticket_action("compose", allowed=permissions.can_compose)
def compose(request, ticket, data):
    changes = compose_changes(ticket, data)
    done = services.compose_ticket(
        ticket_id=ticket.pk,
        by=request.user,
        kind=data["kind"] or MessageKind.PUBLIC,
        body=data["body"],
        uploads=data["attachments"],
        changes=changes,
        version=data["shown_version"] if changes.any() else None,
    )
    return _composed_text(done)


def _composed_text(done: services.Composed) -> str:
    """ "Your reply was sent and the status, priority changed." in words."""
    message = done.message
    said = ""
    if message is not None and message.kind == MessageKind.INTERNAL:
        said = "Internal note added"
    elif message is not None and message.kind == MessageKind.VENDOR:
        said = "Message added to the vendor conversation"
    elif message is not None:
        said = "Your reply was added"
    fields = [name for name in done.changed if name in ("assignee", "category", "priority", "status")]
    if not fields:
        return f"{said}."
    changed = ", ".join(fields)
    return f"{said} and the {changed} changed." if said else f"The {changed} changed."


@ticket_action("macro", allowed=permissions.can_work)
def apply_macro(request, ticket, data):
    done = services.apply_macro(
        ticket_id=ticket.pk, macro_id=data["macro"], by=request.user, version=data.get("shown_version")
    )
    return f"Macro applied. {_composed_text(done)}"


# --------------------------------------------------------------------------- conversation


@ticket_action("reply", allowed=permissions.can_reply)
def reply(request, ticket, data):
    services.add_reply(ticket_id=ticket.pk, by=request.user, body=data["body"], uploads=data["attachments"])
    return "Your reply was added."


@ticket_action("follow_up", allowed=permissions.can_follow_up)
def reply_to_closed(request, ticket, data):
    new = services.reply_to_closed(ticket_id=ticket.pk, by=request.user, body=data["body"])
    return f"{ticket.reference} is closed, so your message started ticket {new.reference}.", new.get_absolute_url()


@ticket_action("note", allowed=permissions.can_add_note)
def note(request, ticket, data):
    services.add_note(ticket_id=ticket.pk, by=request.user, body=data["body"], uploads=data["attachments"])
    return "Internal note added."


@ticket_action("watcher", allowed=permissions.can_add_watcher)
def add_watcher(request, ticket, data):
    return services.add_watcher_by_address(ticket_id=ticket.pk, by=request.user, who=data["who"])


# --------------------------------------------------------------------------- people and properties


@ticket_action(None, allowed=permissions.can_work)
def claim(request, ticket, data):
    services.claim_ticket(ticket_id=ticket.pk, by=request.user)
    return f"You took {ticket.reference}."


@ticket_action("assign", allowed=permissions.can_assign_to_others)
def assign(request, ticket, data):
    assignee = data["assignee"]
    services.assign_ticket(ticket_id=ticket.pk, by=request.user, assignee=assignee)
    return f"{ticket.reference} assigned to {assignee.display_name}." if assignee else f"{ticket.reference} unassigned."


@ticket_action("status", allowed=permissions.can_work)
def change_status(request, ticket, data):
    updated = services.change_status(ticket_id=ticket.pk, by=request.user, status=data["status"])
    return f"Status set to {updated.get_status_display()}."


@ticket_action("priority", allowed=permissions.can_work)
def change_priority(request, ticket, data):
    updated = services.change_priority(
        ticket_id=ticket.pk,
        by=request.user,
        impact=data["impact"],
        urgency=data["urgency"],
        priority=data["priority"],
        reason=data["reason"],
    )
    return f"Priority is {updated.get_priority_display()}."


@ticket_action("category", allowed=permissions.can_work)
def change_category(request, ticket, data):
    services.change_category(ticket_id=ticket.pk, by=request.user, category=data["category"])
    return "Category changed." if data["category"] else "Category removed."


# --------------------------------------------------------------------------- tiers and swarming


@ticket_action("escalate", allowed=permissions.can_work)
def escalate(request, ticket, data):
    updated = services.escalate_ticket(
        ticket_id=ticket.pk,
        by=request.user,
        reason=data["reason"],
        to_tier=data["to_tier"],
        vendor=data["vendor"] if data["to_tier"] == Tier.T4 else None,
        vendor_reference=data["vendor_reference"] if data["to_tier"] == Tier.T4 else "",
    )
    return f"{ticket.reference} escalated to {Tier(updated.tier).label}."


@ticket_action("deescalate", allowed=permissions.can_work)
def deescalate(request, ticket, data):
    updated = services.deescalate_ticket(
        ticket_id=ticket.pk, by=request.user, reason=data["reason"], to_tier=data["to_tier"]
    )
    return f"{ticket.reference} moved down to {Tier(updated.tier).label}."


@ticket_action("managers", allowed=permissions.can_work)
def notify_managers(request, ticket, data):
    services.notify_managers(ticket_id=ticket.pk, by=request.user, reason=data["reason"])
    return "The managers have been notified."


@ticket_action(None, allowed=permissions.can_work)
def open_swarm(request, ticket, data):
    services.open_swarm(ticket_id=ticket.pk, by=request.user)
    return f"{ticket.reference} is open to a swarm: agents of any tier can join."


@ticket_action(None, allowed=permissions.may_join_swarm)
def join_swarm(request, ticket, data):
    services.join_swarm(ticket_id=ticket.pk, by=request.user)
    return f"You joined the swarm on {ticket.reference}."


# --------------------------------------------------------------------------- lifecycle


@ticket_action("resolve", allowed=permissions.can_work)
def resolve(request, ticket, data):
    services.resolve_ticket(
        ticket_id=ticket.pk,
        by=request.user,
        resolution_note=data["resolution_note"],
        resolve_incidents=data["resolve_incidents"],
    )
    return f"{ticket.reference} resolved."


@ticket_action("reopen", allowed=permissions.may_reopen)
def reopen(request, ticket, data):
    services.reopen_ticket(ticket_id=ticket.pk, by=request.user, reason=data["reason"])
    return f"{ticket.reference} reopened."


@ticket_action(None, allowed=permissions.can_follow_up)
def confirm_resolution(request, ticket, data):
    services.confirm_resolution(ticket_id=ticket.pk, by=request.user)
    return f"Thank you: {ticket.reference} is closed."


# --------------------------------------------------------------------------- linking


@ticket_action("merge", allowed=permissions.can_work)
def merge(request, ticket, data):
    target = _workable_target(request.user, data["reference"])
    services.merge_tickets(duplicate_id=ticket.pk, into_id=target.pk, by=request.user)
    return f"{ticket.reference} was merged into {target.reference}.", target.get_absolute_url()


@ticket_action("problem", allowed=permissions.can_work)
def link_problem(request, ticket, data):
    problem_id = data["reference"]
    if problem_id is not None:
        problem_id = _workable_target(request.user, problem_id).pk
    services.link_to_problem(incident_id=ticket.pk, problem_id=problem_id, by=request.user)
    if problem_id is None:
        return f"{ticket.reference} is no longer linked to a problem."
    return f"{ticket.reference} is now an incident of problem {format_reference(problem_id)}."


@ticket_action("related", allowed=permissions.can_work)
def link_related(request, ticket, data):
    other = _workable_target(request.user, data["reference"])
    services.link_related(ticket_id=ticket.pk, other_id=other.pk, by=request.user)
    return f"{ticket.reference} and {other.reference} are now related."


def _p(route: str, view, name: str):
    return path(f"tickets/<int:pk>/{route}/", view, name=name)


urlpatterns = [
    _p("compose", compose, "compose"),
    _p("macro", apply_macro, "apply_macro"),
    _p("reply", reply, "reply"),
    _p("follow-up", reply_to_closed, "reply_to_closed"),
    _p("note", note, "note"),
    _p("watchers", add_watcher, "add_watcher"),
    _p("claim", claim, "claim"),
    _p("assign", assign, "assign"),
    _p("status", change_status, "change_status"),
    _p("priority", change_priority, "change_priority"),
    _p("category", change_category, "change_category"),
    _p("escalate", escalate, "escalate"),
    _p("deescalate", deescalate, "deescalate"),
    _p("notify-managers", notify_managers, "notify_managers"),
    _p("swarm", open_swarm, "open_swarm"),
    _p("swarm/join", join_swarm, "join_swarm"),
    _p("resolve", resolve, "resolve"),
    _p("reopen", reopen, "reopen"),
    _p("confirm", confirm_resolution, "confirm_resolution"),
    _p("merge", merge, "merge"),
    _p("link-problem", link_problem, "link_problem"),
    _p("link-related", link_related, "link_related"),
]
