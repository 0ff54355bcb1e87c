"""The ticket page (every role sees it, each with what they may see and do) and attachment downloads.

The actions posted from the page live in ``ticket_actions``. The page runs a fixed number of
SQL queries whatever the number of messages, events and attachments: everything it lists is
prefetched in the queryset below.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST, require_safe

from helpdesk.core.models import User

from .. import permissions, roles, services
from ..downloads import attachment_response
from ..forms import PreviewForm
from ..models import (
    OPEN_STATUSES,
    Attachment,
    EventKind,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from ..panels import panels_for
from . import macros, ticket_actions
from .ticket_forms import MODAL_FORMS, allowed_statuses, compose_kinds, page_forms, take_refused_form
from .ticket_history import describe, ticket_ids_in


class DetailLists(TypedDict):
    """What ``detail_queryset`` prefetches onto each ticket (``Prefetch(..., to_attr=...)``)."""

    visible_messages: list[TicketMessage]
    visible_events: list[TicketEvent]
    visible_attachments: list[Attachment]
    incident_list: list[Ticket]
    related_list: list[Ticket]
    merged_list: list[Ticket]


if TYPE_CHECKING:
    # django-stubs-ext is a development dependency: the alias exists for the type checker only
    # (annotations are not evaluated at run time).
    from django_stubs_ext import WithAnnotations

    # A ticket read through ``detail_queryset``: the page's helpers read its prefetched lists.
    DetailTicket = WithAnnotations[Ticket, DetailLists]


def detail_queryset(user: User) -> QuerySet[DetailTicket]:
    """Tickets with everything the page shows, filtered to what ``user`` may read of them."""
    staff = permissions.is_staff_reader(user)
    messages_qs = TicketMessage.objects.select_related("author").order_by("created_at", "id")
    events_qs = TicketEvent.objects.select_related("actor").order_by("at", "id")
    attachments_qs = Attachment.objects.order_by("created_at", "id")
    if not staff:
        # Internal notes are not even fetched; the vendor conversation is cut to its readers
        # (``permissions.visible_message_kinds``) once the ticket is known.
        messages_qs = messages_qs.exclude(kind=MessageKind.INTERNAL)
        events_qs = events_qs.filter(internal=False)
        attachments_qs = attachments_qs.exclude(message__kind=MessageKind.INTERNAL)
    linked = Ticket.objects.only("pk", "subject", "status", "problem_id", "merged_into_id").order_by("pk")
    return Ticket.objects.select_related(
        "requester", "assignee", "category__parent", "vendor", "merged_into", "problem"
    ).prefetch_related(
        Prefetch("messages", queryset=messages_qs, to_attr="visible_messages"),
        Prefetch("events", queryset=events_qs, to_attr="visible_events"),
        Prefetch("attachments", queryset=attachments_qs, to_attr="visible_attachments"),
        Prefetch("incidents", queryset=linked, to_attr="incident_list"),
        Prefetch("related", queryset=linked, to_attr="related_list"),
        Prefetch("merged", queryset=linked, to_attr="merged_list"),
        "watchers",
        "collaborators",
    )


def action_flags(user: User, ticket: Ticket) -> dict[str, bool]:
    """What ``user`` may do on ``ticket`` right now: the buttons and forms the page shows.

    Authority comes from ``tickets.permissions``; the state conditions only hide what the
    services would refuse anyway.
    """
    work = permissions.can_work(user, ticket)
    is_open = ticket.is_open
    requester = ticket.requester_id == user.pk
    collaborator_ids = {u.pk for u in ticket.collaborators.all()}
    return {
        "see_internal": permissions.can_see_internal(user, ticket),
        "see_vendor_reference": permissions.can_see_vendor_reference(user, ticket),
        # Who follows the ticket: shown to whoever may read its watcher events (not to vendors).
        "see_watchers": permissions.may_see_event(user, ticket, EventKind.WATCHER_ADDED),
        "work": work,
        "reply": ticket.status != Status.CLOSED and permissions.can_reply(user, ticket),
        "follow_up": ticket.status == Status.CLOSED and requester,
        "note": permissions.can_add_note(user, ticket),
        "claim": work and is_open and ticket.assignee_id is None,
        "assign": is_open and permissions.can_assign_to_others(user, ticket),
        "status": work and is_open and bool(allowed_statuses(ticket)),
        "priority": work and is_open,
        "category": work and is_open,
        "escalate": permissions.can_escalate(user, ticket),
        "deescalate": permissions.can_deescalate(user, ticket),
        "managers": work and is_open,
        "open_swarm": work and is_open and not ticket.is_swarm,
        "join_swarm": permissions.can_join_swarm(user, ticket) and user.pk not in collaborator_ids,
        "resolve": work and is_open,
        "reopen": permissions.can_reopen(user, ticket),
        "confirm": permissions.can_confirm_resolution(user, ticket),
        "merge": work and is_open,
        "link": work and ticket.merged_into_id is None,
        "watch": work or requester,
        "compose": bool(compose_kinds(user, ticket)),
        "vendor_message": ticket.status != Status.CLOSED and permissions.can_write_to_vendor(user, ticket),
        "manage_macros": permissions.can_use_macros(user),
    }


def open_incident_count(ticket: DetailTicket) -> int:
    return sum(1 for incident in ticket.incident_list if incident.status in OPEN_STATUSES)


def _visible_others(user: User, ticket: DetailTicket) -> set[int]:
    """Ids of the linked tickets (and those named in the history) that ``user`` may open: one query."""
    candidates = {
        t.pk
        for t in (ticket.problem, ticket.merged_into, *ticket.incident_list, *ticket.related_list, *ticket.merged_list)
        if t is not None
    } | ticket_ids_in(ticket.visible_events)
    if not candidates:
        return set()
    return set(permissions.visible_tickets(user).filter(pk__in=candidates).values_list("pk", flat=True))


def _links(ticket: DetailTicket, visible: set[int]) -> dict[str, object]:
    """Linked tickets the user may see; the others are left out, not even named."""
    return {
        "problem": ticket.problem if ticket.problem_id in visible else None,
        "merged_into": ticket.merged_into if ticket.merged_into_id in visible else None,
        "incidents": [t for t in ticket.incident_list if t.pk in visible],
        "related": [t for t in ticket.related_list if t.pk in visible],
        "merged": [t for t in ticket.merged_list if t.pk in visible],
    }


def render_detail(request, pk: int, *, bound: dict | None = None, status: int = 200):
    """The ticket page for ``request.user`` (404 if hidden).

    ``bound`` puts failed forms back with their input; by default the form a refused action
    kept in the session for this ticket (``take_refused_form``, read once: a reload shows the
    page as it is).
    """
    user = request.user
    ticket: DetailTicket = permissions.get_ticket_for(user, pk, queryset=detail_queryset(user))
    if bound is None:
        bound = take_refused_form(request, ticket, open_incidents=open_incident_count(ticket))
    can = action_flags(user, ticket)
    kinds = set(permissions.visible_message_kinds(user, ticket))
    messages = [message for message in ticket.visible_messages if message.kind in kinds]
    shown = {message.pk for message in messages}
    files_by_message: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in ticket.visible_attachments:
        if attachment.message_id is None or attachment.message_id in shown:
            files_by_message[attachment.message_id].append(attachment)
    conversation = [
        (message, files_by_message.get(message.pk, [])) for message in messages if message.kind != MessageKind.VENDOR
    ]
    vendor_conversation = [
        (message, files_by_message.get(message.pk, [])) for message in messages if message.kind == MessageKind.VENDOR
    ]
    visible_others = _visible_others(user, ticket)
    reopen_until = None
    if ticket.status == Status.RESOLVED and ticket.resolved_at:
        reopen_until = ticket.resolved_at + timedelta(days=settings.TICKET_REOPEN_WINDOW_DAYS)
    context = {
        "ticket": ticket,
        "can": can,
        "forms": page_forms(ticket, bound, open_incidents=open_incident_count(ticket), user=user),
        "open_modal": next((name for name in (bound or {}) if name in MODAL_FORMS), ""),
        "conversation": conversation,
        "vendor_conversation": vendor_conversation,
        "show_vendor_conversation": MessageKind.VENDOR in kinds and ticket.vendor_id is not None,
        "ticket_files": files_by_message.get(None, []),
        # Internal events are not even fetched for requesters and vendors (detail_queryset); what
        # they may read of the others is cut by the one filter of event data.
        "history": describe(
            permissions.without_hidden_files(
                user, ticket, permissions.visible_events(user, ticket, ticket.visible_events)
            ),
            visible_others,
        ),
        "links": _links(ticket, visible_others),
        "watchers": list(ticket.watchers.all()),
        "collaborators": list(ticket.collaborators.all()),
        "macros": [
            (macro, services.fill_placeholders(macro.body, ticket=ticket, by=user))
            for macro in (services.macros_for(user, ticket) if can["work"] and ticket.is_open else [])
        ],
        "open_incidents": open_incident_count(ticket),
        "reopen_until": reopen_until,
        "is_requester": ticket.requester_id == user.pk,
        "is_vendor": roles.is_vendor_contact(user),
        "panels": panels_for(user, ticket),
    }
    return render(request, "tickets/ticket_detail.html", context, status=status)


@require_safe
@login_required
def ticket_detail(request, pk: int):
    return render_detail(request, pk)


@require_POST
@login_required
def compose_preview(request, pk: int):
    """The composer's text rendered by the desk's Markdown renderer (the one the page uses), as an HTML fragment."""
    ticket = permissions.get_ticket_for(request.user, pk)
    if not permissions.can_compose(request.user, ticket):
        raise PermissionDenied
    form = PreviewForm(request.POST)
    body = form.cleaned_data["body"] if form.is_valid() else ""
    return render(request, "tickets/_ticket_preview.html", {"body": body})


@require_safe
@login_required
def attachment_download(request, pk: int, attachment_id: int):
    """Send an attachment as a download, never inline; looked up through its (visible) ticket."""
    ticket = permissions.get_ticket_for(request.user, pk)
    try:
        attachment = ticket.attachments.select_related("message").get(pk=attachment_id)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment.") from None
    message = attachment.message
    if message is not None and message.kind not in permissions.visible_message_kinds(request.user, ticket):
        raise Http404("No such attachment.")
    return attachment_response(attachment)


urlpatterns = [
    path("tickets/<int:pk>/", ticket_detail, name="detail"),
    path("tickets/<int:pk>/attachments/<int:attachment_id>/", attachment_download, name="attachment"),
    path("tickets/<int:pk>/preview/", compose_preview, name="compose_preview"),
    *ticket_actions.urlpatterns,
    *macros.urlpatterns,
]

__all__ = ["attachment_download", "render_detail", "ticket_detail", "urlpatterns"]
