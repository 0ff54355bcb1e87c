"""The KPI dashboard in real Chromium: periods, the tickets behind a figure, charts, layout shift, accessibility."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def sla_defaults():
    from sla.defaults import ensure_defaults

    ensure_defaults()


def test_manager_changes_the_period_and_opens_the_backlog_tickets(page):
    factories.make_manager(username="maria")
    requester, agent = factories.make_requester(), factories.make_agent(1)
    waiting = factories.make_ticket(requester, subject="VPN drops every hour")
    answered = factories.make_ticket(requester, subject="Printer jams on tray 2")
    services.add_reply(ticket_id=answered.pk, by=agent, body="Which printer?")
    done = factories.make_ticket(requester, subject="Password expired")
    services.resolve_ticket(ticket_id=done.pk, by=agent, resolution_note="Reset it.")

    log_in(page, "maria", factories.PASSWORD)
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Service desk dashboard")).to_be_visible()
    expect(page.locator("#kpi-volume .kpi-value")).to_have_text("3")
    expect(page.locator("#kpi-backlog canvas")).to_be_visible()

    page.get_by_label("Period", exact=True).select_option("7d")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"period=7d"))
    expect(page.locator("#kpi-backlog .kpi-value")).to_have_text("2")

    page.locator("#kpi-backlog .kpi-value").click()
    expect(page).to_have_url(re.compile(r"/dashboard/tickets/\?figure=backlog&period=7d"))
    expect(page.get_by_role("heading", name="Backlog at the end of the period")).to_be_visible()
    rows = page.locator("#kpi-ticket-list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#kpi-ticket-list")).to_contain_text(waiting.reference)
    expect(page.locator("#kpi-ticket-list")).to_contain_text(answered.reference)
    expect(page.locator("#kpi-ticket-list")).not_to_contain_text(done.reference)


CLS = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) { if (!entry.hadRecentInput) { total += entry.value; } }
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve(total), 500);
})"""

POINT = """([key, index]) => {
  const chart = Chart.getChart(document.querySelector(`canvas[data-chart="${key}"]`));
  const point = chart.getDatasetMeta(0).data[index];
  return { radius: point.options.radius, skip: point.skip, value: chart.data.datasets[0].data[index] };
}"""


def test_the_dashboard_draws_a_lone_day_holds_still_and_is_accessible(page):
    factories.make_manager(username="maria")
    requester, agent = factories.make_requester(), factories.make_agent(1)
    # Three days ago: the only resolution of the week, so the FCR rate has one day with data
    # between days without any.
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        lone = factories.make_ticket(requester, subject="Password expired")
        services.add_reply(ticket_id=lone.pk, by=agent, body="Reset it for you.")
        services.resolve_ticket(ticket_id=lone.pk, by=agent, resolution_note="Reset.")
    factories.make_ticket(requester, subject="VPN drops every hour")

    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "maria", factories.PASSWORD)
    page.goto("/dashboard/?period=7d")
    page.wait_for_function("() => Chart.getChart(document.querySelector('canvas[data-chart=fcr_rate]'))")
    values = page.evaluate("() => JSON.parse(document.getElementById('kpi-charts').textContent).fcr_rate.values")
    index = next(i for i, value in enumerate(values) if value is not None)
    assert 0 < index < len(values) - 1 and values[index - 1] is None and values[index + 1] is None
    point = page.evaluate(POINT, ["fcr_rate", index])
    assert point == {"radius": 3, "skip": False, "value": 100}

    # Units on the axes: the y ticks of a rate end in %, the tooltip reads like the figure.
    ticks = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=fcr_rate]')).scales.y.ticks.map((t) => t.label)"
    )
    assert ticks and all(str(label).endswith(" %") for label in ticks)

    assert page.evaluate(CLS) < 0.05  # the charts and the period fields do not move the page
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    assert_accessible(page)

    # Narrow: the per-agent and per-tier tables scroll in a region reachable from the keyboard.
    page.set_viewport_size({"width": 375, "height": 800})
    region = page.get_by_role("region", name="Per agent (current assignee)")
    expect(region).to_be_visible()
    assert region.evaluate("(el) => el.scrollWidth > el.clientWidth && el.tabIndex === 0")
    assert_accessible(page)
