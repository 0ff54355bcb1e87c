"""Agent workspace lists: the tier queues, take-next, bulk actions, logging a phone call, and the vendor list.

Views stay thin: each queue is a filter inside what ``permissions.visible_tickets`` lets the
user see (their tiers, their tickets, swarms), the FilterSets in ``tickets.filters`` narrow it,
and every change goes through ``tickets.services`` one ticket at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, OrderBy, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from helpdesk.core.models import User

from .. import live, permissions, roles, services
from ..filters import QueueFilter, VendorFilter, filters_asked, open_only
from ..models import AGENT_TIERS, OPEN_STATUSES, SavedView, Ticket, Tier, Vendor, format_reference
from ..queue_forms import (
    QUEUE_COLUMNS,
    BulkActionForm,
    PhoneCallForm,
    QueueColumnsForm,
    SavedViewForm,
    chosen_columns,
)
from ..services.bulk import apply_bulk_action
from .kept_input import keep_input, rebind, take_input
from .queue_rows import queue_rows
from .saved_views import clean_query, saved_views_for

PHONE_CALL_PAGE = "queues:phone"  # where a refused phone-call form is kept for (kept_input)

PAGE_SIZE = 25

# Whitelisted ``sort`` values -> ORDER BY; the primary key last keeps paging stable.
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "priority": ("priority", "created_at", "pk"),
    "-priority": ("-priority", "created_at", "pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    # "Breaching soonest": the nearest SLA due time first, tickets without a running clock last.
    "due": (F("sla_due_at").asc(nulls_last=True), "pk"),
    "-due": (F("sla_due_at").desc(nulls_last=True), "-pk"),
}
DEFAULT_SORT = "priority"

OTHER_QUEUES = {"mine": "Assigned to me", "unassigned": "Unassigned", "swarm": "Swarm"}

# The filter form and the bulk-action fields list every active category and every person
# tickets can be assigned to; rendering those selects costs more than the rest of the page.
# queue_home.html keeps their HTML in Django's template fragment cache for this long, keyed
# on what the fragment shows (the queue, the sort and the query string; the lists are the
# same for every agent and manager). So a new, renamed or deactivated category or agent
# shows in the lists within this many seconds, whatever wrote the change (a bulk update
# too); the list of tickets itself is always live. A filter form with errors is never cached.
OPTION_LISTS_SECONDS = 60


@dataclass(frozen=True)
class QueueTab:
    key: str
    label: str
    count: int | None  # None: not counted (the sidebar outside the queue page)
    active: bool


@dataclass(frozen=True)
class Chip:
    """One active filter of the queue: what it is, and the queue without it."""

    label: str
    value: str
    remove_url: str


def queue_tiers(user) -> list[int]:
    """Tiers whose queues ``user`` opens: their own, or every tier (vendors' too) for managers."""
    if roles.is_manager(user):
        return [*(t.value for t in AGENT_TIERS), Tier.T4.value]
    return sorted(roles.agent_tiers(user))


def queue_condition(user, key: str, tiers: list[int]) -> Q:
    """The tickets of queue ``key``; always inside ``visible_tickets(user)`` for the ``tiers`` given."""
    if key == "mine":
        return Q(assignee=user)
    if key == "unassigned":
        return Q(assignee__isnull=True, tier__in=tiers)
    if key == "swarm":
        return Q(is_swarm=True)
    return Q(tier=int(key.removeprefix("tier")))


# Tab badges for the shared queues (tiers, unassigned, swarm) are one count over every open
# ticket; all agents of the same tiers share it through the cache for a few seconds. The key
# carries the desk's change counter (``tickets.live``), so any committed change is counted at
# once: the count also pages the list, and a stale one would hide a new ticket. The agent's own
# "Assigned to me" count, and the list itself, are always live.
SHARED_COUNTS_SECONDS = 10


def _shared_counts_key(tiers: list[int]) -> str:
    return f"queue-counts:{live.desk_version()}:" + ",".join(str(t) for t in sorted(tiers))


def queue_counts(user, tiers: list[int]) -> dict[str, int]:
    """Open tickets per queue: the shared ones from the cache or one aggregate query, "mine" live.

    The aggregate counts a non-null column of ``ticket_open_counts_idx`` over every open
    ticket: an index-only scan (no table visits), cheaper than narrowing the scan with an OR
    of queues.
    """
    key = _shared_counts_key(tiers)
    shared = cache.get(key)
    if shared is None:
        counts = {f"tier{t}": Count("tier", filter=Q(tier=t)) for t in tiers}
        counts.update(
            unassigned=Count("tier", filter=Q(assignee__isnull=True, tier__in=tiers)),
            swarm=Count("tier", filter=Q(is_swarm=True)),
        )
        shared = Ticket.objects.filter(status__in=OPEN_STATUSES).aggregate(**counts)
        cache.set(key, shared, SHARED_COUNTS_SECONDS)
    mine = Ticket.objects.filter(status__in=OPEN_STATUSES, assignee=user).count()
    return {**shared, "mine": mine}


def forget_queue_counts(user) -> None:
    """Drop the cached counts ``user`` sees, after they changed tickets from the queue page."""
    cache.delete(_shared_counts_key(queue_tiers(user)))


def pick_queue(user, requested: str | None, tiers: list[int]) -> str:
    """The queue to show: ``requested`` if it names one, else the lowest tier; 403 for another tier's queue."""
    default = f"tier{tiers[0]}" if tiers else "mine"
    requested = (requested or "").strip()
    if requested in OTHER_QUEUES:
        return requested
    tier = requested.removeprefix("tier")
    if requested.startswith("tier") and tier.isdigit() and int(tier) in Tier.values and int(tier) != Tier.SELF_SERVICE:
        if int(tier) not in tiers:
            raise PermissionDenied("You do not work in that tier's queue.")
        return requested
    return default


def queue_labels(tiers: list[int]) -> dict[str, str]:
    """The queues of ``tiers`` (then mine, unassigned, swarm) by key, with their labels."""
    return {f"tier{t}": Tier(t).label for t in tiers} | OTHER_QUEUES


class Workspace:
    """The sidebar of the agent layout (the queues, saved views), read when a page shows it.

    ``tickets.context_processors.navigation`` puts one on every page of agents and managers:
    the queues without counts (counting costs statements on every page; the ticket page must
    stay fast) and the saved views (one statement). The queue page passes its own, with the
    tabs and counts it already read.
    """

    def __init__(self, user: User | AnonymousUser, *, tabs: list[QueueTab] | None = None) -> None:
        self.user = user
        self._tabs = tabs

    @cached_property
    def queues(self) -> list[QueueTab]:
        """The queue page's tabs with their counts; elsewhere the queues without counts (no query)."""
        if self._tabs is not None:
            return self._tabs
        if not (roles.is_agent(self.user) or roles.is_manager(self.user)):
            return []
        return [QueueTab(k, label, None, False) for k, label in queue_labels(queue_tiers(self.user)).items()]

    @cached_property
    def saved_views(self) -> list[SavedView]:
        return list(saved_views_for(self.user).only("pk", "name", "query", "shared", "owner_id"))

    @property
    def own_views(self) -> list[SavedView]:
        return [view for view in self.saved_views if view.owner_id == self.user.pk]


def filter_chips(params: QueryDict, filterset: QueueFilter) -> list[Chip]:
    """The filters set in ``params`` as chips, each with the queue's URL without it (and on page 1).

    Read from the form the view already validated: a category or person shows by name without
    another query; an invalid value shows as typed.
    """
    if not filters_asked(params, type(filterset)):
        return []
    form = filterset.form
    cleaned = form.cleaned_data if form.is_bound and not form.errors else {}
    chips = []
    for name, field in form.fields.items():
        for value in [v for v in params.getlist(name) if v.strip()]:
            rest = params.copy()
            rest.setlist(name, [v for v in params.getlist(name) if v != value])
            rest.pop("page", None)
            query = rest.urlencode()
            chips.append(Chip(str(field.label), _chip_value(field, value, cleaned.get(name)), "?" + query))
    return chips


def _chip_value(field: forms.Field, value: str, cleaned: object) -> str:
    """What a chip shows for ``value``: the option's label, a person's or category's name, or the text in quotes."""
    if isinstance(field, forms.ModelChoiceField):
        if value == getattr(field, "null_value", None):  # django-filter's "Unassigned"
            return str(getattr(field, "null_label", value))
        return field.label_from_instance(cleaned) if cleaned is not None and not isinstance(cleaned, str) else value
    if isinstance(field, forms.ChoiceField):
        labels = {str(key): label for key, label in field.widget.choices if not isinstance(label, list | tuple)}
        return str(labels.get(value, value))
    return f"“{value}”"


def sorted_by(queryset: QuerySet[Ticket], sort: str | None) -> tuple[QuerySet[Ticket], str]:
    key = sort if sort in SORTS else DEFAULT_SORT
    return queryset.order_by(*SORTS[key]), key


def filtered_page(request, filterset, *, unfiltered_count: int | None = None) -> tuple[object, str, int]:
    """Page of the filtered, sorted list; an invalid filter gives an empty list and HTTP 400.

    ``unfiltered_count``: the number of tickets when no filter is set (the queue's tab count),
    used for paging instead of counting the list again.
    """
    if unfiltered_count is not None and not filters_asked(request.GET, filterset):
        # No filter in the query string: the queue as it is, without validating an empty form.
        queryset, status, unfiltered = open_only(filterset.queryset), 200, True
    elif filterset.is_valid():
        queryset, status = filterset.qs, 200
        unfiltered = not any(filterset.form.cleaned_data.values())
    else:
        queryset, status, unfiltered = filterset.queryset.none(), 400, False
    queryset, sort = sorted_by(queryset, request.GET.get("sort"))
    paginator = Paginator(queryset, PAGE_SIZE)
    if unfiltered_count is not None and unfiltered:
        paginator.count = unfiltered_count
    page = paginator.get_page(request.GET.get("page"))
    return page, sort, status


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
def queue_home(request):
    """Agent workspace: one queue per tier the agent works, plus mine/unassigned/swarm, filtered and paged."""
    user = request.user
    tiers = queue_tiers(user)
    key = pick_queue(user, request.GET.get("queue"), tiers)
    base = Ticket.objects.filter(queue_condition(user, key, tiers))  # rows read with values(): queue_rows
    filterset = QueueFilter(request.GET, queryset=base)
    counts = queue_counts(user, tiers)
    # Unfiltered, the list is the tab's tickets: its count (shared for a few seconds) pages it.
    page, sort, status = filtered_page(request, filterset, unfiltered_count=counts[key])
    tabs = [QueueTab(k, label, counts[k], k == key) for k, label in queue_labels(tiers).items()]
    columns = chosen_columns(user)
    context = {
        "tabs": tabs,
        "workspace": Workspace(user, tabs=tabs),
        "queue": next(tab for tab in tabs if tab.active),
        "filter": filterset,
        "filter_errors": status == 400,
        "chips": filter_chips(request.GET, filterset),
        "page_obj": page,
        "rows": queue_rows(page),
        "sort": sort,
        "columns": columns,
        "column_choices": [(k, label, k in columns) for k, label in QUEUE_COLUMNS.items()],
        "column_count": len(columns) + 3,  # with the checkbox, the reference and the subject
        "current_query": clean_query(request.GET.urlencode()),
        "view_form": SavedViewForm(),
        "can_share_views": permissions.may_share_views(user),
        "can_take_next": bool(roles.agent_tiers(user)),
        # Rendered only when its {% cache %} fragment missed (see OPTION_LISTS_SECONDS).
        "bulk_form": BulkActionForm(),
        "option_lists_seconds": OPTION_LISTS_SECONDS,
        "desk_version": live.desk_version(),  # what the page shows; live.js asks what changed since
    }
    return render(request, "tickets/queue_home.html", context, status=status)


def _back(request) -> str:
    """Where to return after a POST from the queue page: its ``next`` (same site only) or the queue."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("tickets:queues")


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
@require_POST
def take_next(request):
    """Claim the highest-priority, oldest unassigned ticket of the agent's tiers (race-free in the service)."""
    try:
        ticket = services.take_next(by=request.user)
    except PermissionDenied:
        messages.error(request, "Only agents of a tier take tickets from the queues.")
        return redirect(_back(request))
    if ticket is None:
        messages.info(request, "No unassigned tickets in your queues")
        return redirect(_back(request))
    forget_queue_counts(request.user)
    messages.success(request, f"You took {ticket.reference}: {ticket.subject}")
    return redirect(ticket)


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
@require_POST
def bulk(request):
    """Bulk assign / unassign / change status of the tickets ticked on the queue page."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        errors = [str(message) for field_errors in form.errors.values() for message in field_errors]
        messages.error(request, "Nothing changed: " + " ".join(errors))
        return redirect(_back(request))
    data = form.cleaned_data
    result = apply_bulk_action(
        by=request.user, ids=data["ids"], action=data["action"], assignee=data["assignee"], status=data["status"]
    )
    updated, refused, ignored = result.updated, result.refused, result.ignored
    if updated:
        forget_queue_counts(request.user)
    summary = f"{len(updated)} updated"
    if refused:
        details = "; ".join(f"{format_reference(pk)} ({reason})" for pk, reason in refused)
        summary += f", {len(refused)} refused: {details}"
    if ignored:
        summary += f". {len(ignored)} not found: " + ", ".join(format_reference(pk) for pk in ignored)
    if not refused and not ignored:
        messages.success(request, summary)
    elif updated:
        messages.warning(request, summary)
    else:
        messages.error(request, summary)
    return redirect(_back(request))


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
@require_POST
def queue_columns(request: HttpRequest) -> HttpResponse:
    """Keep the queue columns the person chose (User.queue_columns); "reset" returns to the default set."""
    user = request.user
    assert isinstance(user, User)  # role_required lets only signed-in people in
    form = QueueColumnsForm(request.POST)
    if form.is_valid():
        user.queue_columns = [] if form.cleaned_data["reset"] else form.cleaned_data["columns"]
        user.save(update_fields=["queue_columns"])
        messages.success(request, "Columns saved.")
    else:
        errors = [str(message) for field_errors in form.errors.values() for message in field_errors]
        messages.error(request, "Columns not changed: " + " ".join(errors))
    return redirect(_back(request))


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
def phone_call(request):
    """Log a phone call for a requester: channel phone, assigned to the agent, resolved at once if fixed.

    A refusal writes nothing and comes back to this page by a redirect (303), the form as typed.
    """
    if request.method == "POST":
        form = PhoneCallForm(request.POST)
        errors: list[str] = []
        if form.is_valid():
            try:
                ticket = services.log_phone_call(agent=request.user, **form.cleaned_data)
            except ValidationError as exc:
                errors = exc.messages
            else:
                resolved = " and resolved it" if not ticket.is_open else ""
                messages.success(request, f"You logged the call as {ticket.reference}{resolved}.")
                return redirect(ticket)
        keep_input(request, PHONE_CALL_PAGE, "phone_call", request.POST, errors)
        return HttpResponseRedirect(request.path, status=303)
    kept = take_input(request, PHONE_CALL_PAGE)
    form = rebind(PhoneCallForm(kept[1]), kept[2]) if kept else PhoneCallForm()
    return render(request, "tickets/phone_call.html", {"form": form})


@roles.role_required(roles.Role.VENDOR)
def vendor_home(request):
    """Vendor contacts: the tickets escalated to their vendor (tier 4), never another vendor's."""
    vendor = get_object_or_404(Vendor, pk=roles.role_info(request.user).vendor_id)
    # Exactly the vendor clause of permissions.visible_tickets: tier 4 and this vendor.
    base = Ticket.objects.filter(tier=Tier.T4, vendor=vendor)
    filterset = VendorFilter(request.GET, queryset=base)
    page, sort, status = filtered_page(request, filterset)
    context = {
        "vendor": vendor,
        "filter": filterset,
        "page_obj": page,
        "rows": queue_rows(page, people=False),
        "sort": sort,
    }
    return render(request, "tickets/vendor_home.html", context, status=status)


urlpatterns = [
    path("queues/take-next/", take_next, name="take_next"),
    path("queues/bulk/", bulk, name="bulk"),
    path("queues/phone/", phone_call, name="phone_call"),
    path("queues/columns/", queue_columns, name="queue_columns"),
]

__all__ = ["Workspace", "queue_home", "urlpatterns", "vendor_home"]
