"""Dashboard, the agent's own figures, the tickets behind a figure, CSV export, and the survey pages.

Thin: parse the filters (``forms``), check the role, call ``kpis``/``surveys``, render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tickets import permissions

from . import kpis, present, surveys
from .forms import FilterForm, SurveyForm, parse_list_key
from .models import Survey
from .permissions import can_see_all_figures, can_see_own_figures, figures_agent_id, page_allowed

FIGURE_LISTS = {
    "first_response_time": "frt",
    "resolution_time": "resolution",
    "fcr_rate": "resolved",
    "sla_response": "sla_response",
    "sla_resolution": "sla_resolution",
    "csat": "answered",
    "backlog": "backlog",
    "reopen_rate": "reopened",
    "escalation_rate": "escalated",
    "deflection_rate": "portal",
    "volume": "created",
}


def _render_dashboard(request, *, agent_id: int | None):
    # ``agent_id`` from reports.permissions: None for every agent's figures, else one agent's own.
    personal = agent_id is not None
    form = FilterForm(request.GET or None, personal=personal)
    if request.GET and not form.is_valid():
        form_ok = False
    else:
        form = FilterForm(request.GET or {"period": "30d"}, personal=personal)
        form_ok = form.is_valid()
    context = {"form": form, "personal": personal}
    if form_ok:
        scope, period = form.scope(agent_id=agent_id), form.get_period()
        board = kpis.dashboard(scope, period, tables=not personal)
        query = {"period": period.preset, **scope.as_params()}
        if period.preset == "custom":
            query |= {"start": period.first.isoformat(), "end": period.last.isoformat()}
        if personal:
            query.pop("agent", None)
            query["mine"] = "1"
        charts = present.chart_data(board.figures)
        cards = [
            {
                "figure": figure,
                "value": present.human(figure.value, figure.unit),
                "change": present.human_change(figure),
                "detail": present.detail(figure),
                "list": FIGURE_LISTS[key],
                "axis": charts[key]["unit_name"],
            }
            for key, figure in board.figures.items()
        ]
        context |= {
            "period": period,
            "board": board,
            "cards": cards,
            "query_string": urlencode(query),
            "charts": charts,
            "columns": kpis.TABLE_COLUMNS,
            "escalation_rows": [
                (tier, {**row, "rate_text": present.human(row["rate"], "rate")})
                for tier, row in board.figures["escalation_rate"].parts["per_tier"].items()
            ],
            "tables": [
                (title, table, name)
                for title, table, name in (
                    ("Per agent (current assignee)", _table(board.agents), "agents"),
                    ("Per tier (current tier)", _table(board.tiers), "tiers"),
                )
                if table is not None
            ],
            "channels": board.figures["volume"].parts["by_channel"],
            "backlog": board.figures["backlog"].parts,
            "age_buckets": kpis.AGE_BUCKETS,
        }
    status = 200 if form_ok else 400
    return render(request, "reports/dashboard.html", context, status=status)


def _table(rows):
    if rows is None:
        return None
    return [
        {"row": row, "cells": [present.human(getattr(row, name), unit) for name, _, unit in kpis.TABLE_COLUMNS]}
        for row in rows
    ]


@page_allowed(can_see_all_figures)
def dashboard(request):
    """Manager KPI dashboard: period picker, scope filters, every figure with change, trend and list."""
    return _render_dashboard(request, agent_id=None)


@page_allowed(can_see_own_figures)
def my_figures(request):
    """An agent's own figures (tickets assigned to them), the same figures as the dashboard."""
    return _render_dashboard(request, agent_id=figures_agent_id(request.user, mine=True))


@page_allowed(can_see_own_figures)
def ticket_list(request):
    """The tickets behind a figure: the same filters, filtered to what the user may see."""
    agent_id = figures_agent_id(request.user, mine=request.GET.get("mine") == "1")
    personal = agent_id is not None
    form = FilterForm(request.GET or {"period": "30d"}, personal=personal)
    try:
        key = parse_list_key(request.GET)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    if not form.is_valid():
        return render(request, "reports/ticket_list.html", {"form": form, "errors": True}, status=400)
    scope, period = form.scope(agent_id=agent_id), form.get_period()
    sql, params = kpis.tickets_behind_sql(key, scope, period)
    tickets = (
        permissions.visible_tickets(request.user)
        .filter(pk__in=RawSQL(sql, params))  # noqa: S611 -- kpis builds it from constants, values bound
        .select_related("assignee", "category")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(tickets, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/ticket_list.html",
        {
            "form": form,
            "page": page,
            "label": kpis.ticket_list_label(key),
            "period": period,
            "query": query.urlencode(),
            "personal": personal,
        },
    )


@page_allowed(can_see_own_figures)
def dashboard_csv(request, table: str):
    """CSV of one table of the dashboard (or of the agent's own figures), with the page's numbers."""
    agent_id = figures_agent_id(request.user, mine=request.GET.get("mine") == "1")
    personal = agent_id is not None
    form = FilterForm(request.GET or {"period": "30d"}, personal=personal)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(message) for message in errors)}" for name, errors in form.errors.items()
        )
        return HttpResponseBadRequest(f"Invalid filters: {problems}")
    scope, period = form.scope(agent_id=agent_id), form.get_period()
    board = kpis.dashboard(scope, period, tables=not personal)
    tables = present.csv_tables(board.figures, board.agents, board.tiers)
    if table not in tables:
        raise Http404("No such table.")
    header, rows = tables[table]
    response = HttpResponse(present.csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kpi-{table}-{period.first}-{period.last}.csv"'
    return response


# --------------------------------------------------------------------------- surveys


def survey_by_link(request, token: str):
    """The mailed survey link: no login; the signature names the survey and expires."""
    try:
        survey = surveys.survey_for_token(token)
    except ValidationError as exc:
        return render(request, "reports/survey.html", {"problem": " ".join(exc.messages)}, status=400)
    open_ = surveys.is_open_for_answers(survey)
    form = SurveyForm(request.POST or None, initial={"score": survey.score, "comment": survey.comment})
    if request.method == "POST":
        if not open_:
            return render(request, "reports/survey.html", {"survey": survey, "open": False}, status=400)
        if form.is_valid():
            try:
                surveys.answer_survey(survey_id=survey.pk, via_link=True, **form.cleaned_data)
            except ValidationError as exc:  # e.g. too many answers in a short time: shown, input kept
                form.add_error(None, exc)
            else:
                return render(request, "reports/survey.html", {"survey": survey, "thanks": True, "open": True})
    return render(request, "reports/survey.html", {"survey": survey, "form": form, "open": open_})


@require_POST
@login_required
def survey_answer(request, pk: int):
    """The requester answers from the ticket page panel."""
    survey = Survey.objects.select_related("ticket").filter(pk=pk).first()
    if survey is None:
        raise Http404
    ticket = permissions.get_ticket_for(request.user, survey.ticket_id)
    form = SurveyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a score from 1 to 5.")
        return redirect(ticket)
    try:
        surveys.answer_survey(survey_id=survey.pk, by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Thank you for your feedback.")
    return redirect(ticket)
