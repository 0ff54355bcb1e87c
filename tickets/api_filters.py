"""Query-string filters and ordering of the ticket list API (``GET /api/tickets/``).

Both are strict: a filter value that does not parse, or an ``ordering`` outside the
whitelist, is a 400 naming the parameter, never a 500 and never silently ignored.
Parameters that are not filters at all are ignored, as on any web page.
"""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.db.models import BigIntegerField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Extract, Least
from django.utils import timezone
from django_filters import rest_framework as filters
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from helpdesk.core.api import StrictPageSize

from . import permissions
from .filters import SLA_CHOICES, filters_asked, sla_q
from .models import Channel, Priority, Status, Ticket, Tier, parse_reference

TIER_CHOICES = [(t.value, t.label) for t in Tier if t != Tier.SELF_SERVICE]


class IdFilter(filters.Filter):
    """A positive integer id (``NumberFilter`` would accept ``1.5``)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


class TicketFilter(filters.FilterSet):
    """Narrows what the user may see; it never widens it (the queryset comes from ``visible_tickets``)."""

    status = filters.MultipleChoiceFilter(choices=Status.choices, help_text="Repeat to match any of several.")
    priority = filters.MultipleChoiceFilter(choices=Priority.choices, help_text="1 (P1) to 4 (P4); repeatable.")
    tier = filters.MultipleChoiceFilter(choices=TIER_CHOICES, help_text="1 to 4; repeatable.")
    channel = filters.ChoiceFilter(choices=Channel.choices)
    category = IdFilter(field_name="category_id", help_text="Category id.")
    assignee = filters.CharFilter(
        method="filter_assignee",
        validators=[RegexValidator(r"^(me|none|[1-9][0-9]{0,11})$", "Use a user id, “me” or “none”.")],
        help_text="A user id, “me” or “none” (unassigned).",
    )
    requester = IdFilter(field_name="requester_id", help_text="User id of the requester.")
    created_after = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601 date-time, inclusive."
    )
    created_before = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601 date-time, exclusive."
    )
    q = filters.CharFilter(
        method="filter_q", max_length=200, help_text="A reference (HD-000123 or 123) or words of the subject."
    )
    sla = filters.ChoiceFilter(
        choices=SLA_CHOICES,
        method="filter_sla",
        help_text="Staff only. “breached”: a clock missed its target or the due time has passed; “due_soon”: "
        "due within the next hour.",
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_assignee(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_sla(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        refuse_sla_to_non_staff(self.request)
        return queryset.filter(sla_q(value, timezone.now()))

    def filter_q(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(subject__icontains=value)
        pk = parse_reference(value)
        if pk is not None:
            condition |= Q(pk=pk)
        return queryset.filter(condition)


def refuse_sla_to_non_staff(request) -> None:
    """SLA state is internal (requesters and vendors see no SLA fields): filtering or sorting by it is staff-only."""
    if request is None or not permissions.is_staff_reader(request.user):
        raise exceptions.ValidationError({"detail": "Only staff filter or sort tickets by SLA state."})


class TicketFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, with a 400 whose ``detail`` names the parameters that did not parse."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not filters_asked(request.query_params, filterset_class):
            # Building the filter set (a deep copy of every filter and a form) would change
            # nothing: no multi-part widget reads other parameters (a test checks).
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            names = ", ".join(sorted(filterset.errors))
            raise exceptions.ValidationError(
                {"detail": f"Invalid filter value: {names}.", "errors": dict(filterset.errors)}
            )
        return filterset.qs


# Cursor pagination needs a unique (or nearly unique) first ordering key: the position in the
# cursor is that key's value. Priority has four values, so it is paired with the id in one
# bigint (priority * 10^12 + id): unique, and "P1 first, oldest first" within a priority.
PRIORITY_RANK = ExpressionWrapper(
    F("priority") * Value(10**12, output_field=BigIntegerField()) + F("pk"), output_field=BigIntegerField()
)

# "Breaching soonest": the due time in whole seconds since 1970 and the id in one bigint
# (seconds * 10^9 + id), unique for the cursor; tickets without a running clock sort last.
NO_DUE_SECONDS = 9_000_000_000  # year 2255: after every real due time, and * 10^9 + id still fits a bigint
SLA_DUE_RANK = ExpressionWrapper(
    Coalesce(
        Least(Cast(Extract("sla_due_at", "epoch"), BigIntegerField()), Value(NO_DUE_SECONDS - 1)),
        Value(NO_DUE_SECONDS),
    )
    * Value(10**9, output_field=BigIntegerField())
    + F("pk"),
    output_field=BigIntegerField(),
)

ORDERINGS: dict[str, tuple[str, ...]] = {
    "created_at": ("created_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-updated_at": ("-updated_at", "-pk"),
    "priority": ("priority_rank",),
    "-priority": ("-priority_rank",),
    "sla_due_at": ("sla_due_rank",),
}
DEFAULT_ORDERING = "-created_at"


class TicketCursorPagination(StrictPageSize, CursorPagination):
    """Cursor paging (stable under inserts, no COUNT) with ``ordering`` chosen from a whitelist."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ORDERINGS[DEFAULT_ORDERING]
    ordering_param = "ordering"

    def ordering_key(self, request) -> str:
        value = request.query_params.get(self.ordering_param, "").strip() or DEFAULT_ORDERING
        if value not in ORDERINGS:
            raise exceptions.ValidationError(
                {"detail": f"Unknown ordering “{value[:50]}”; use one of: {', '.join(ORDERINGS)}."}
            )
        return value

    def get_ordering(self, request, queryset, view):
        return ORDERINGS[self.ordering_key(request)]

    def paginate_queryset(self, queryset, request, view=None):
        key = self.ordering_key(request)
        if key.endswith("priority"):
            queryset = queryset.annotate(priority_rank=PRIORITY_RANK)
        elif key == "sla_due_at":
            refuse_sla_to_non_staff(request)
            queryset = queryset.annotate(sla_due_rank=SLA_DUE_RANK)
        return super().paginate_queryset(queryset, request, view)
