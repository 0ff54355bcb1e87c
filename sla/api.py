"""REST API of the SLA app: a ticket's clocks (``/api/tickets/<id>/sla/``) and, for managers,
the calendars and policies (``/api/sla/calendars/``, ``/api/sla/policies/``).

Thin interfaces: permissions from ``sla.permissions``, rules and writes in ``sla.configure``
(the same as the manager pages), whose ``ValidationError`` the project's exception handler
turns into a 400 JSON body (``detail`` plus ``errors`` by field).
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.core.api import ValidatedInput, error_responses
from tickets.models import Vendor
from tickets.permissions import get_ticket_for

from . import clock as bt
from . import configure
from .models import BusinessCalendar, Clock, ClockEvent, Metric, Policy, Target, WorkingInterval
from .panels import _state, clock_label
from .permissions import IsSlaManager, can_see_clocks
from .serializers import (
    CalendarInputSerializer,
    CalendarSerializer,
    MoveInput,
    PolicyInputSerializer,
    PolicySerializer,
    TicketClocksSerializer,
)

ERRORS = error_responses(
    invalid="Refused: invalid input or an SLA rule; `detail` and `errors` say why.",
    forbidden="Only managers administer SLA calendars and policies.",
    missing="No such calendar or policy.",
)

# --------------------------------------------------------------------------- a ticket's clocks


class TicketClocksView(APIView):
    """The SLA, OLA and UC clocks of one ticket and its recorded warnings and breaches."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="SLA clocks of a ticket (staff)",
        description="Every clock with its state now (`state`: running, warning, paused, met, breached, "
        "stopped) and the warnings and breaches recorded for the ticket. Staff who can see the ticket only; "
        "a requester or vendor contact gets 403, a ticket you cannot see is a 404.",
        responses={
            200: TicketClocksSerializer,
            403: OpenApiResponse(description="Requesters and vendor contacts do not see SLA clocks."),
            404: OpenApiResponse(description="No such ticket (or you may not see it)."),
        },
        tags=["sla"],
    )
    def get(self, request, pk: int):
        ticket = get_ticket_for(request.user, pk)
        if not can_see_clocks(request.user, ticket):
            raise PermissionDenied("Only staff see a ticket's SLA clocks.")
        now = timezone.now()
        clocks = list(Clock.objects.filter(ticket_id=ticket.pk).order_by("started_at", "pk"))
        events = list(ClockEvent.objects.filter(ticket_id=ticket.pk).order_by("at", "pk"))
        vendor_ids = {c.scope for c in clocks if c.metric == Metric.UC} | {
            e.scope for e in events if e.metric == Metric.UC
        }
        vendors = dict(Vendor.objects.filter(pk__in=vendor_ids).values_list("pk", "name")) if vendor_ids else {}
        clock_rows = []
        for clock in clocks:
            word, detail = _state(clock, now)
            clock_rows.append(
                {
                    **{name: getattr(clock, name) for name in CLOCK_FIELDS},
                    "label": clock_label(clock.metric, clock.scope, vendors),
                    "detail": detail,
                    "state": word,
                    "stored_state": clock.state,
                }
            )
        event_rows = [
            {
                **{name: getattr(event, name) for name in EVENT_FIELDS},
                "label": clock_label(event.metric, event.scope, vendors),
            }
            for event in events
        ]
        data = {"ticket": ticket.pk, "clocks": clock_rows, "events": event_rows}
        return Response(TicketClocksSerializer(data).data)


# The stored fields the API shows of a clock and of a recorded event; the view adds the rest
# (the label, and a clock's state now).
CLOCK_FIELDS = (
    "id",
    "metric",
    "scope",
    "cycle",
    "pause_reason",
    "policy_id",
    "target_seconds",
    "accrued_seconds",
    "accrued_at",
    "started_at",
    "due_at",
    "warn_at",
    "ended_at",
    "warned",
    "breached",
)
EVENT_FIELDS = ("id", "kind", "metric", "scope", "cycle", "at", "recorded_at", "tier", "data")

# --------------------------------------------------------------------------- calendars and policies


class _ManagedViewSet(ValidatedInput, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsSlaManager]
    pagination_class = None
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"


def used_by_names() -> dict[int, list[str]]:
    """Calendar id -> names of the policies using it (as their calendar or a target's), in two queries."""
    used: dict[int, set[str]] = defaultdict(set)
    for calendar_id, name in Policy.objects.values_list("calendar_id", "name"):
        used[calendar_id].add(name)
    for calendar_id, name in Target.objects.filter(calendar__isnull=False).values_list("calendar_id", "policy__name"):
        used[calendar_id].add(name)
    return {pk: sorted(names) for pk, names in used.items()}


@extend_schema_view(
    list=extend_schema(summary="Business calendars", responses={200: CalendarSerializer(many=True), 403: ERRORS[403]}),
    retrieve=extend_schema(
        summary="One calendar", responses={200: CalendarSerializer, 403: ERRORS[403], 404: ERRORS[404]}
    ),
    create=extend_schema(
        summary="Create a calendar", request=CalendarInputSerializer, responses={201: CalendarSerializer, **ERRORS}
    ),
    update=extend_schema(
        summary="Replace a calendar", request=CalendarInputSerializer, responses={200: CalendarSerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change part of a calendar",
        request=CalendarInputSerializer,
        responses={200: CalendarSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a calendar no policy uses",
        responses={204: OpenApiResponse(description="Deleted."), **ERRORS},
    ),
)
class CalendarViewSet(_ManagedViewSet):
    """Business calendars (managers): overlapping intervals, unknown zones, no working time and deleting
    a calendar in use are refused with a 400, and nothing is written."""

    serializer_class = CalendarSerializer

    def get_queryset(self) -> QuerySet[BusinessCalendar]:
        return BusinessCalendar.objects.prefetch_related(
            Prefetch("intervals", queryset=WorkingInterval.objects.order_by("weekday", "start")), "holidays"
        ).order_by("name")

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "used_by": used_by_names()}

    def _answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        calendar = self.get_queryset().get(pk=pk)
        return Response(self.get_serializer(calendar).data, status=code)

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        calendar = configure.save_calendar(calendar_id=None, data=self._calendar_input(None))
        return self._answer(calendar.pk, status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        calendar = self.get_object()
        configure.save_calendar(calendar_id=calendar.pk, data=self._calendar_input(None))
        return self._answer(calendar.pk)

    def partial_update(self, request, pk=None):
        calendar = self.get_object()
        configure.save_calendar(calendar_id=calendar.pk, data=self._calendar_input(calendar))
        return self._answer(calendar.pk)

    def destroy(self, request, pk=None):
        configure.delete_calendar(calendar_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _calendar_input(self, current: BusinessCalendar | None) -> configure.CalendarInput:
        data = self.validated_input(CalendarInputSerializer, partial=current is not None)
        base = configure.CalendarInput.of(current) if current else configure.CalendarInput(name="", timezone="")
        changes = {}
        for name in ("name", "timezone", "always_open"):
            if name in data:
                changes[name] = data[name]
        if "intervals" in data:
            changes["intervals"] = tuple(
                bt.WorkingInterval(i["weekday"], i["start"], i["end"]) for i in data["intervals"]
            )
        if "holidays" in data:
            changes["holidays"] = tuple(
                configure.HolidayInput(h["day"], h.get("name", ""), h.get("yearly", False)) for h in data["holidays"]
            )
        return configure.CalendarInput(**{**base.__dict__, **changes})


@extend_schema_view(
    list=extend_schema(
        summary="SLA policies in matching order",
        description="First match wins; the default policy (exactly one) applies when no other matches.",
        responses={200: PolicySerializer(many=True), 403: ERRORS[403]},
    ),
    retrieve=extend_schema(summary="One policy", responses={200: PolicySerializer, 403: ERRORS[403], 404: ERRORS[404]}),
    create=extend_schema(
        summary="Create a policy (placed last)",
        request=PolicyInputSerializer,
        responses={201: PolicySerializer, **ERRORS},
    ),
    update=extend_schema(
        summary="Replace a policy", request=PolicyInputSerializer, responses={200: PolicySerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change part of a policy", request=PolicyInputSerializer, responses={200: PolicySerializer, **ERRORS}
    ),
    destroy=extend_schema(
        summary="Delete a policy (not the default)",
        responses={204: OpenApiResponse(description="Deleted."), **ERRORS},
    ),
)
class PolicyViewSet(_ManagedViewSet):
    """SLA policies with their targets (managers). There is always exactly one default policy."""

    serializer_class = PolicySerializer

    def get_queryset(self) -> QuerySet[Policy]:
        return Policy.objects.prefetch_related(
            Prefetch("targets", queryset=Target.objects.order_by("metric", "tier", "priority"))
        ).order_by("is_default", "position", "pk")

    def _answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, status=code)

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        policy = configure.save_policy(policy_id=None, data=self._policy_input(None))
        return self._answer(policy.pk, status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        policy = self.get_object()
        configure.save_policy(policy_id=policy.pk, data=self._policy_input(policy))
        return self._answer(policy.pk)

    def partial_update(self, request, pk=None):
        policy = self.get_object()
        configure.save_policy(policy_id=policy.pk, data=self._policy_input(policy, partial=True))
        return self._answer(policy.pk)

    def destroy(self, request, pk=None):
        configure.delete_policy(policy_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Move a policy up or down the matching order",
        request=MoveInput,
        responses={200: PolicySerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        policy = self.get_object()
        data = self.validated_input(MoveInput)
        if policy.is_default:
            raise ValidationError("The default policy applies last, whatever its place; it does not move.")
        if not configure.move_policy(policy_id=policy.pk, up=data["direction"] == "up"):
            raise ValidationError(f"“{policy.name}” cannot move further {data['direction']}.")
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def _policy_input(self, policy: Policy | None, *, partial: bool = False) -> configure.PolicyInput:
        """The request as the service's input; a PATCH merged into the stored ``policy``."""
        data = self.validated_input(PolicyInputSerializer, partial=partial)
        changes = {}
        for name in ("name", "channel", "warning_percent", "notify_assignee", "notify_managers", "escalate_on_breach"):
            if name in data:
                changes[name] = data[name]
        if "is_default" in data:
            changes["is_default"] = data["is_default"]
        elif policy is not None:  # a PUT that leaves the flag out keeps it
            changes["is_default"] = policy.is_default
        for name in ("calendar", "category", "requester_group", "vendor"):
            if name in data:
                changes[f"{name}_id"] = data[name].pk if data[name] is not None else None
        if "pause_statuses" in data:
            changes["pause_statuses"] = tuple(data["pause_statuses"])
        if "targets" in data:
            changes["targets"] = {
                (t["metric"], t["priority"], t["tier"]): configure.TargetInput(
                    t["minutes"], t["calendar"].pk if t.get("calendar") else None
                )
                for t in data["targets"]
            }
        if partial and policy is not None:
            return configure.PolicyInput(**{**configure.PolicyInput.of(policy).__dict__, **changes})
        return configure.PolicyInput(**changes)
