"""Dashboard page, agent figures, ticket lists, CSV and API: roles, filters, and the same numbers everywhere."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from reports import kpis, present
from tests import factories
from tests.reports.histories import NOW, at, build_desk, step
from tickets import services

pytestmark = pytest.mark.django_db

CUSTOM = {"period": "custom", "start": "2026-03-02", "end": "2026-03-04"}


@pytest.fixture
def desk(db):
    return build_desk()


def get(client, user, url, data=None):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(url, data or {})


@pytest.mark.parametrize("role", ["requester", "vendor", "agent"])
def test_dashboard_is_for_managers(client, role):
    user = {"requester": factories.make_requester, "vendor": factories.make_vendor_contact}.get(
        role, lambda: factories.make_agent(1)
    )()
    assert get(client, user, reverse("reports:dashboard")).status_code == 403


def test_dashboard_shows_every_figure_with_links(client, desk):
    response = get(client, desk.manager, reverse("reports:dashboard"), CUSTOM)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-backlog"' in html and "33.3 %" in html  # FCR 1 of 3
    assert "figure=backlog&amp;period=custom" in html
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html
    assert 'id="kpi-table-agents"' in html and "Unassigned" in html


def test_bad_filters_are_a_400_not_a_500(client, desk):
    for data in ({"period": "custom", "start": "2026-03-04", "end": "2026-03-01"}, {"tier": "9"}, {"period": "x"}):
        assert get(client, desk.manager, reverse("reports:dashboard"), data).status_code == 400
        api = APIClient()
        api.force_authenticate(desk.manager)
        with time_machine.travel(NOW, tick=False):
            response = api.get("/api/reports/figures/", data)
        assert response.status_code == 400 and "errors" in response.json()


def test_ticket_list_matches_the_figure_and_visibility(client, desk):
    response = get(client, desk.manager, reverse("reports:tickets"), {**CUSTOM, "figure": "backlog"})
    assert response.status_code == 200
    assert [t.pk for t in response.context["page"]] == [desk.t4.pk, desk.t3.pk]
    # A tier-1 agent sees only their own figures' tickets (assigned to them), and only visible ones.
    response = get(client, desk.a1, reverse("reports:tickets"), {**CUSTOM, "figure": "resolved"})
    assert {t.pk for t in response.context["page"]} == {desk.t1.pk, desk.t2.pk}
    assert get(client, desk.manager, reverse("reports:tickets"), {**CUSTOM, "figure": "nope"}).status_code == 400


def test_page_api_and_csv_agree(client, desk):
    api = APIClient()
    api.force_authenticate(desk.manager)
    with time_machine.travel(NOW, tick=False):
        figures = api.get("/api/reports/figures/", CUSTOM).json()["figures"]
        agents = api.get("/api/reports/tables/agents/", CUSTOM).json()["rows"]
        one = api.get("/api/reports/figures/csat/", CUSTOM).json()["figure"]
    assert figures["fcr_rate"]["value"] == 0.333333 and figures["backlog"]["value"] == 2
    assert figures["first_response_time"]["parts"]["mean"] == 6000.0
    assert one == figures["csat"] and one["parts"]["response_rate"] == 0.666667
    rows = list(csv.reader(io.StringIO(get(client, desk.manager, "/dashboard/csv/figures/", CUSTOM).content.decode())))
    by_key = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert by_key[("fcr_rate", "value")] == "0.333333" and by_key[("first_response_time", "mean")] == "6000.0"
    agent_rows = list(
        csv.DictReader(io.StringIO(get(client, desk.manager, "/dashboard/csv/agents/", CUSTOM).content.decode()))
    )
    assert [r["created"] for r in agent_rows] == [str(a["created"]) for a in agents]


def test_api_roles(desk):
    api = APIClient()
    for user, expected in ((desk.requester, 403), (factories.make_vendor_contact(), 403), (desk.a1, 403)):
        api.force_authenticate(user)
        with time_machine.travel(NOW, tick=False):
            assert api.get("/api/reports/figures/", CUSTOM).status_code == expected
    api.force_authenticate(desk.a1)
    with time_machine.travel(NOW, tick=False):
        mine = api.get("/api/reports/me/", CUSTOM).json()
    assert mine["scope"] == {"agent": str(desk.a1.pk)} and mine["figures"]["volume"]["value"] == 2
    api.force_authenticate(desk.requester)
    with time_machine.travel(NOW, tick=False):
        assert api.get("/api/reports/me/", CUSTOM).status_code == 403


def test_agents_get_their_own_figures_page(client, desk):
    response = get(client, desk.a1, reverse("reports:mine"), CUSTOM)
    assert response.status_code == 200
    assert response.context["board"].figures["volume"].value == 2
    assert "My figures" in response.content.decode()
    assert get(client, desk.requester, reverse("reports:mine"), CUSTOM).status_code == 403


# --------------------------------------------------------------------------- charts, tables, words


def test_trend_charts_plot_in_the_unit_named_on_their_axis(client, desk):
    response = get(client, desk.manager, reverse("reports:dashboard"), CUSTOM)
    charts, board = response.context["charts"], response.context["board"]
    frt = board.figures["first_response_time"]
    series = charts["first_response_time"]
    # The first responses of this desk take minutes to hours: plotted in minutes or hours, named so.
    assert series["unit"] in ("min", "h") and series["unit_name"] in ("minutes", "hours")
    per_unit = {"min": 60, "h": 3600}[series["unit"]]
    for (_, seconds), plotted, text in zip(frt.trend, series["values"], series["texts"], strict=True):
        if seconds is None:
            assert plotted is None and text == present.NONE
        else:
            assert plotted == round(float(seconds) / per_unit, 2)
            assert text == present.human(seconds, "seconds")  # the tooltip reads like the figure
    assert charts["fcr_rate"]["unit"] == "%" and charts["volume"]["unit"] == "" and charts["volume"]["whole"]
    assert series["labels"][0] == "2 Mar"
    html = response.content.decode()
    assert f'aria-label="First response time per day, in {series["unit_name"]}"' in html


@pytest.mark.parametrize(
    ("largest", "unit", "plotted"),
    [(90 * 60, "min", 90.0), (5 * 3600, "h", 5.0), (4 * 86400, "d", 4.0)],
)
def test_a_duration_series_takes_the_unit_that_suits_it(largest, unit, plotted):
    figure = kpis.Figure(
        key="resolution_time",
        label="Resolution time",
        unit="seconds",
        value=largest,
        previous=None,
        trend=[(date(2026, 3, 2), None), (date(2026, 3, 3), largest), (date(2026, 3, 4), None)],
    )
    series = present.chart_data({"resolution_time": figure})["resolution_time"]
    assert series["unit"] == unit and series["values"] == [None, plotted, None]
    assert series["texts"] == [present.NONE, present.human(largest, "seconds"), present.NONE]


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        ({"deflections": 1, "portal_tickets": 1}, "1 deflection, 1 portal ticket (desk-wide)."),
        ({"deflections": 2, "portal_tickets": 0}, "2 deflections, 0 portal tickets (desk-wide)."),
    ],
)
def test_figure_details_count_in_the_right_plural(parts, text):
    figure = kpis.Figure(key="deflection_rate", label="Deflection rate", unit="rate", value=None, previous=None)
    figure.parts = parts
    assert present.detail(figure) == text
    escalation = kpis.Figure(key="escalation_rate", label="Escalation", unit="rate", value=None, previous=None)
    escalation.parts = {"escalated": 0, "created": 1}
    assert present.detail(escalation) == "0 of 1 ticket created in the period."


def test_the_wide_tables_scroll_in_a_focusable_named_region(client, desk):
    html = get(client, desk.manager, reverse("reports:dashboard"), CUSTOM).content.decode()
    for name in ("agents", "tiers"):
        assert f'tabindex="0" role="region" aria-labelledby="table-{name}"' in html
    # The custom dates are hidden by the page itself for a preset period (no shift when scripts run).
    assert (
        'class="card card-body mb-4 kpi-filters kpi-preset"'
        in get(client, desk.manager, reverse("reports:dashboard"), {"period": "7d"}).content.decode()
    )
    assert "kpi-preset" not in html  # a custom period shows its dates


def test_dates_on_the_figure_pages_are_in_the_one_style(client, desk):
    html = get(client, desk.manager, reverse("reports:dashboard"), CUSTOM).content.decode()
    assert '<time datetime="2026-03-02">2 Mar 2026</time> to <time datetime="2026-03-04">4 Mar 2026</time>' in html
    page = get(client, desk.manager, reverse("reports:tickets"), {**CUSTOM, "figure": "backlog"}).content.decode()
    assert f'<time datetime="{desk.t4.created_at.isoformat()}" title="' in page
    assert "2 tickets you can see" in page


def test_dashboard_query_count_is_fixed(client, desk, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get(client, desk.manager, reverse("reports:dashboard"), CUSTOM)  # warms the per-process caches
    with CaptureQueriesContext(connection) as few:
        get(client, desk.manager, reverse("reports:dashboard"), CUSTOM)
    for n in range(3):  # more agents and tickets in the period: more table rows, the same statements
        ticket = step(at(1, 13, n), factories.make_ticket, requester=desk.requester, subject=f"Another {n}")
        step(at(1, 14, n), services.escalate_ticket, ticket_id=ticket.pk, by=desk.a1, reason="Needs tier 2")
        step(at(1, 15, n), services.claim_ticket, ticket_id=ticket.pk, by=factories.make_agent(2, username=f"t2{n}"))
    with django_assert_num_queries(len(few.captured_queries)):
        get(client, desk.manager, reverse("reports:dashboard"), CUSTOM)
