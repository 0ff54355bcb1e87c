"""Requester portal: the list of my tickets and the new-ticket form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path

from .. import services
from ..forms import NewTicketForm
from ..models import OPEN_STATUSES, Channel, Status, parse_reference
from ..permissions import requested_or_watched, visible_tickets
from .kept_input import keep_input, rebind, take_input

PAGE_SIZE = 25
NEW_TICKET_PAGE = "portal:new"  # where a refused new-ticket form is kept for (kept_input)

# status filter -> statuses it shows (None: every status)
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "all": ("All", None),
    "open": ("Open", tuple(OPEN_STATUSES)),
    "resolved": ("Resolved", (Status.RESOLVED,)),
    "closed": ("Closed", (Status.CLOSED,)),
}


def my_tickets_queryset(user):
    """Tickets ``user`` requested or watches (and may see), most recently updated first."""
    return (
        visible_tickets(user)
        .filter(requested_or_watched(user))
        .only("pk", "subject", "status", "priority", "updated_at", "requester_id")
        .order_by("-updated_at", "-pk")
    )


@login_required
def my_tickets(request):
    """The tickets the user submitted or follows, with search, a status filter and paging."""
    tickets = my_tickets_queryset(request.user)
    query = request.GET.get("q", "").strip()[:200]
    if query:
        condition = Q(subject__icontains=query)
        reference = parse_reference(query)
        if reference is not None:
            condition |= Q(pk=reference)
        tickets = tickets.filter(condition)
    status = request.GET.get("status", "all")
    if status not in STATUS_FILTERS:
        status = "all"
    statuses = STATUS_FILTERS[status][1]
    if statuses is not None:
        tickets = tickets.filter(status__in=statuses)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/portal_home.html",
        {
            "page_obj": page,
            "tickets": page.object_list,
            "query": query,
            "status": status,
            "status_filters": [(key, label) for key, (label, _) in STATUS_FILTERS.items()],
            "filtered": bool(query) or status != "all",
        },
    )


@login_required
def new_ticket(request):
    """Submit a ticket. A refusal (e.g. a file over the size limit) writes nothing and comes back
    to this page by a redirect (303), the form as typed (files must be chosen again)."""
    if request.method == "POST":
        form = NewTicketForm(request.POST, request.FILES)
        errors: list[str] = []
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.create_ticket(
                    requester=request.user,
                    by=request.user,
                    subject=data["subject"],
                    description=data["description"],
                    category=data["category"],
                    impact=data["impact"],
                    urgency=data["urgency"],
                    channel=Channel.PORTAL,
                    uploads=data["attachments"],
                )
            except ValidationError as error:
                errors = error.messages
            else:
                messages.success(request, f"Ticket {ticket.reference} submitted. We will get back to you.")
                return redirect(ticket)
        keep_input(request, NEW_TICKET_PAGE, "new", request.POST, errors)
        if request.FILES:
            messages.info(request, "Files are not kept when a form is refused: please choose them again.")
        return HttpResponseRedirect(request.path, status=303)
    kept = take_input(request, NEW_TICKET_PAGE)
    form = rebind(NewTicketForm(kept[1]), kept[2]) if kept else NewTicketForm()
    return render(request, "tickets/portal_new.html", {"form": form})


urlpatterns = [
    path("portal/new/", new_ticket, name="new"),
]

__all__ = ["my_tickets", "new_ticket", "urlpatterns"]
