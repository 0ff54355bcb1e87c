"""Search from the top bar: tickets by reference, subject or requester, within what the person may see.

A full reference (``HD-000123``, ``hd-123`` or ``#123``) of a ticket the person may see jumps
straight to it; a bare number (``123``) lists that ticket first, with the subjects that contain
the number. Requesters search their own tickets (``permissions.visible_tickets`` decides).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from .. import roles
from ..filters import search_q
from ..models import REFERENCE_PREFIX, parse_reference
from ..permissions import visible_tickets
from ..queue_forms import TicketSearchForm
from .queue_rows import queue_rows

PAGE_SIZE = 25


def jump_target(text: str) -> int | None:
    """The ticket number when ``text`` is written as a reference (``HD-000123``, ``#123``), else None."""
    text = text.strip()
    if text.upper().startswith(REFERENCE_PREFIX) or text.startswith("#"):
        return parse_reference(text.removeprefix("#"))
    return None


@login_required
def ticket_search(request: HttpRequest) -> HttpResponse:
    """Matching tickets the person may see, newest change first, paged; an empty state without a query."""
    form = TicketSearchForm(request.GET)
    if not form.is_valid():
        context: dict[str, object] = {
            "q": "",
            "errors": form.errors.get("q", []),
            "page_obj": None,
            "rows": [],
            "staff": False,
        }
        return render(request, "tickets/ticket_search.html", context, status=400)
    text = form.cleaned_data["q"]
    visible = visible_tickets(request.user)
    # Requester, assignee and priority are shown to the desk's staff, not to requesters or vendors.
    staff = roles.is_agent(request.user) or roles.is_manager(request.user)
    pk = jump_target(text)
    if pk is not None and visible.filter(pk=pk).exists():
        return redirect("tickets:detail", pk=pk)
    page = None
    rows = []
    if text:
        matches = visible.alias(
            requester_name=Concat("requester__first_name", Value(" "), "requester__last_name")
        ).filter(search_q(text, requester=True))
        order: list = ["-updated_at", "-pk"]
        number = parse_reference(text)
        if number is not None:  # the ticket of that number first
            order.insert(0, Case(When(pk=number, then=Value(0)), default=Value(1), output_field=IntegerField()))
        page = Paginator(matches.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = queue_rows(page, people=staff)
    context = {"q": text, "errors": [], "page_obj": page, "rows": rows, "staff": staff}
    return render(request, "tickets/ticket_search.html", context)


urlpatterns = [
    path("tickets/search/", ticket_search, name="search"),
]
