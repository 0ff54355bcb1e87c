"""Dashboard page, agent figures, ticket lists, CSV and API: roles, filters, and the same numbers everywhere."""

import csv
import io

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from tests import factories
from tests.reports.histories import NOW, build_desk

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
