"""Live queue and the bell in real Chromium: a change by someone else shows up without a reload,
while a busy agent gets a banner instead; the bell counts what needs the agent and the inbox opens it."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db):
    return {
        "rita": factories.make_requester(username="rita"),
        "alex": factories.make_agent(1, username="alex", first_name="Alex", last_name="First"),
        "bea": factories.make_agent(1, username="bea", first_name="Bea", last_name="Second"),
    }


def test_a_new_ticket_appears_in_an_open_queue_without_a_reload(page, desk):
    factories.make_ticket(desk["rita"], subject="Already there")
    log_in(page, "alex", factories.PASSWORD)
    page.goto("/queues/")
    rows = page.locator("#queue-rows")
    expect(rows).to_contain_text("Already there")
    page.evaluate("window.__drawn = true")  # gone if the page reloaded instead of redrawing its rows
    factories.make_ticket(desk["rita"], subject="Arrived while watching")
    expect(rows).to_contain_text("Arrived while watching", timeout=12_000)
    assert page.evaluate("window.__drawn === true")
    # Busy (a ticket ticked for a bulk action): the rows stay, a banner says what happened.
    page.locator("#queue-rows input[name=ids]").first.check()
    factories.make_ticket(desk["rita"], subject="Arrived while busy")
    expect(page.locator("#live-banner")).to_contain_text("Tickets changed", timeout=12_000)
    expect(rows).not_to_contain_text("Arrived while busy")


def test_the_bell_counts_and_the_inbox_opens_the_ticket(page, desk):
    ticket = factories.make_ticket(desk["rita"], subject="VPN drops every hour")
    services.assign_ticket(ticket_id=ticket.pk, by=desk["bea"], assignee=desk["alex"])
    services.add_note(ticket_id=ticket.pk, by=desk["bea"], body="@alex the logs are attached")
    log_in(page, "alex", factories.PASSWORD)
    page.goto("/queues/")
    bell = page.locator("#bell")
    expect(bell).to_contain_text("2")
    bell.click()
    expect(page.locator("h1")).to_have_text("Notifications")
    assert_accessible(page)
    page.get_by_role("button", name=f"{ticket.reference} assigned to you by Bea Second").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    page.goto("/queues/")
    expect(page.locator("#bell")).to_contain_text("1")


def test_two_agents_on_one_ticket_see_each_other_and_a_change_while_typing_is_announced(browser, live_server, desk):
    ticket = factories.make_ticket(desk["rita"], subject="Projector in room 4 is dark")
    pages = {}
    for name in ("alex", "bea"):
        context = browser.new_context(base_url=live_server.url)
        pages[name] = context.new_page()
        log_in(pages[name], name, factories.PASSWORD)
        pages[name].goto(f"/tickets/{ticket.pk}/")
    alex, bea = pages["alex"], pages["bea"]
    expect(alex.locator("[data-live-presence]")).to_have_text("Bea Second is viewing", timeout=12_000)
    bea.locator("textarea").first.fill("Checking the lamp hours")
    expect(alex.locator("[data-live-presence]")).to_have_text("Bea Second is replying", timeout=12_000)
    # Alex is typing too when the requester replies: a banner, not a reload that would lose the text.
    alex.locator("textarea").first.fill("Half-written answer")
    services.add_reply(ticket_id=ticket.pk, by=desk["rita"], body="It is still dark.")
    expect(alex.locator("#live-banner")).to_contain_text("Someone changed this ticket", timeout=12_000)
    expect(alex.locator("textarea").first).to_have_value("Half-written answer")
    for page in pages.values():
        page.context.close()
