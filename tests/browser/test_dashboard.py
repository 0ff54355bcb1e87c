"""The KPI dashboard in real Chromium: a manager changes the period and follows the backlog to its tickets."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
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
