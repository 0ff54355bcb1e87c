"""Read-only KPI API: every figure and table of the dashboard, with the same filters.

Managers read everything; agents read their own figures (``/api/reports/me/``); requesters and
vendor contacts get 403 (the rule is ``reports.permissions``, shared with the pages). Bad filters
are a 400 with the field errors (``ValidationError`` from ``reports.forms``, turned into JSON by
the project's exception handler), never a 500.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.core.api import EMPTY_MEANS_ABSENT, error_responses

from . import kpis, present
from .forms import parse_filters
from .permissions import CanSeeAllFigures, CanSeeOwnFigures, figures_agent_id


def _filter(name: str, kind, **kwargs) -> OpenApiParameter:
    # A Django form reads the filters: an empty value is the same as leaving the filter out.
    return OpenApiParameter(name, kind, extensions=EMPTY_MEANS_ABSENT, **kwargs)


FILTERS = [
    _filter("period", str, enum=[k for k, _ in kpis.PERIOD_CHOICES], description="Default 30d."),
    _filter("start", OpenApiTypes.DATE, description="First day of a custom period."),
    _filter("end", OpenApiTypes.DATE, description="Last day of a custom period."),
    _filter("tier", int),
    _filter("category", int),
    _filter("agent", int, description="Current assignee (managers only)."),
    _filter("channel", str),
    _filter("priority", int),
]
ERRORS = error_responses(invalid="Invalid filters; `errors` says which.", forbidden="Not allowed for your role.")
RESPONSES = {200: OpenApiTypes.OBJECT, **ERRORS}


def _meta(scope: kpis.Scope, period: kpis.Period) -> dict:
    return {
        "period": {
            "preset": period.preset,
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "previous_first": period.previous().first.isoformat(),
            "previous_last": period.previous().last.isoformat(),
        },
        "scope": scope.as_params(),
    }


class FiguresView(APIView):
    """Every dashboard figure (managers)."""

    permission_classes = [IsAuthenticated, CanSeeAllFigures]

    @extend_schema(
        operation_id="reports_figures_list",
        summary="All KPI figures",
        parameters=FILTERS,
        responses=RESPONSES,
        tags=["reports"],
    )
    def get(self, request):
        scope, period = parse_filters(request.query_params)
        board = kpis.dashboard(scope, period, tables=False)
        figures = {key: present.figure_dict(figure) for key, figure in board.figures.items()}
        return Response({**_meta(scope, period), "figures": figures})


class FigureView(APIView):
    """One figure (managers)."""

    permission_classes = [IsAuthenticated, CanSeeAllFigures]

    @extend_schema(summary="One KPI figure", parameters=FILTERS, responses=RESPONSES, tags=["reports"])
    def get(self, request, key: str):
        if key not in kpis.FIGURES:
            raise NotFound(f"No figure “{key}”; try one of: {', '.join(kpis.FIGURES)}.")
        scope, period = parse_filters(request.query_params)
        snap = kpis.snapshot(scope, period)
        return Response({**_meta(scope, period), "figure": present.figure_dict(kpis.FIGURES[key](snap))})


class TableView(APIView):
    """One table of the dashboard, as the CSV has it (managers)."""

    permission_classes = [IsAuthenticated, CanSeeAllFigures]

    @extend_schema(
        summary="One KPI table (agents, tiers, channels, escalation, trend, figures)",
        parameters=FILTERS,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        tags=["reports"],
    )
    def get(self, request, name: str):
        scope, period = parse_filters(request.query_params)
        board = kpis.dashboard(scope, period, tables=name in ("agents", "tiers"))
        tables = present.csv_tables(board.figures, board.agents, board.tiers)
        if name not in tables:
            raise NotFound(f"No table “{name}”; try one of: {', '.join(tables)}.")
        header, rows = tables[name]
        lines = [dict(zip(header, row, strict=True)) for row in rows]
        return Response({**_meta(scope, period), "table": name, "rows": lines})


class MyFiguresView(APIView):
    """The caller's own figures: the tickets assigned to them (agents and managers)."""

    permission_classes = [IsAuthenticated, CanSeeOwnFigures]

    @extend_schema(
        summary="My KPI figures",
        parameters=[p for p in FILTERS if p.name != "agent"],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        tags=["reports"],
    )
    def get(self, request):
        agent_id = figures_agent_id(request.user, mine=True)
        scope, period = parse_filters(request.query_params, personal_agent_id=agent_id)
        board = kpis.dashboard(scope, period, tables=False)
        figures = {key: present.figure_dict(figure) for key, figure in board.figures.items()}
        return Response({**_meta(scope, period), "figures": figures})
