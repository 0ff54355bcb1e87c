"""The agent layout in real Chromium: no sideways scroll at 1366x768, the top bar's search, saved views,
columns kept, the bulk bar, keyboard shortcuts, and axe-core on the queue and search pages."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tickets.models import Priority, Tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Outlook keeps asking for my password after the update even though the password is correct and saved"


@pytest.fixture
def desk(db):
    rita = factories.make_requester(username="rita", first_name="Rita", last_name="Requester-With-A-Long-Name")
    tickets = [
        factories.make_ticket(rita, subject=f"{LONG} ({n})", priority=Priority.P1 if n < 3 else Priority.P3)
        for n in range(12)
    ]
    factories.make_ticket(rita, subject="Printer on floor 3 jams", tier=Tier.T2)
    people = {
        "agent": factories.make_agent(1, username="alex", first_name="Alex", last_name="First"),
        "manager": factories.make_manager(username="maya", first_name="Maya", last_name="Manager"),
    }
    return {"tickets": tickets, **people}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_the_queue_fits_1366_and_is_accessible(page, desk, who):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, desk[who].username, factories.PASSWORD)
    page.goto("/queues/?queue=tier1")
    expect(page.locator("h1").first).to_have_text("Queues")
    assert no_sideways_scroll(page)
    # One line per ticket: the long subject is cut, the full text is its title.
    subject = page.locator("tbody tr").first.locator(".queue-cut").first
    assert subject.get_attribute("title").startswith(LONG)
    row_height = page.locator("tbody tr").first.bounding_box()["height"]
    assert row_height < 45
    assert_accessible(page)
    # Every column chosen: the table may scroll in its own box, never the page.
    page.locator("summary", has_text="Columns").click()
    for box in page.locator('input[name="columns"]').all():
        box.check()
    page.get_by_role("button", name="Save columns").click()
    expect(page.locator("thead")).to_contain_text("Channel")
    assert no_sideways_scroll(page)


def test_the_bulk_bar_shows_only_while_tickets_are_selected(page, desk):
    log_in(page, "alex", factories.PASSWORD)
    bar = page.locator("[data-bulk-bar]")
    expect(bar).to_be_hidden()
    page.get_by_label(f"Select {desk['tickets'][0].reference}").check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 ticket selected")
    page.get_by_label("Select all tickets on this page").check()
    expect(bar).to_contain_text("12 tickets selected")
    page.get_by_label("Select all tickets on this page").uncheck()
    expect(bar).to_be_hidden()


def test_the_search_jumps_to_a_reference_and_lists_matches(page, desk):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "alex", factories.PASSWORD)
    ticket = desk["tickets"][4]
    search = page.get_by_role("searchbox", name="Search tickets")
    search.fill(ticket.reference)
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    page.get_by_role("searchbox", name="Search tickets").fill("outlook")
    page.get_by_role("searchbox", name="Search tickets").press("Enter")
    expect(page.locator("caption")).to_contain_text("12 tickets match")
    expect(page.get_by_role("link", name="HD-", exact=False).first).to_be_visible()
    assert no_sideways_scroll(page)
    assert_accessible(page)
    page.get_by_role("searchbox", name="Search tickets").fill("no such words anywhere")
    page.get_by_role("searchbox", name="Search tickets").press("Enter")
    expect(page.get_by_text("No ticket you can see matches")).to_be_visible()


def test_a_manager_saves_a_shared_view_an_agent_uses_it(page, browser, live_server, desk):
    log_in(page, "maya", factories.PASSWORD)
    page.goto("/queues/?queue=tier1&priority=1")
    expect(page.locator(".queue-chip")).to_have_count(1)
    page.locator("summary", has_text="Save view").click()
    page.get_by_label("Name of the view").fill("Critical on the desk")
    page.get_by_label("Share with every agent").check()
    page.get_by_role("button", name="Save this view").click()
    expect(page.locator(".messages")).to_contain_text("Saved the view")
    views = page.get_by_role("list", name="Saved views")
    expect(views.get_by_role("link", name="Critical on the desk")).to_be_visible()

    context = browser.new_context(base_url=live_server.url)
    agent_page = context.new_page()
    errors: list[str] = []
    agent_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        log_in(agent_page, "alex", factories.PASSWORD)
        expect(agent_page.locator("tbody tr")).to_have_count(12)
        agent_page.get_by_role("list", name="Saved views").get_by_role("link", name="Critical on the desk").click()
        expect(agent_page).to_have_url(re.compile(r"priority=1"))
        expect(agent_page.locator("tbody tr")).to_have_count(3)
        # Removing the chip removes the filter.
        agent_page.locator(".queue-chip").first.click()
        expect(agent_page.locator("tbody tr")).to_have_count(12)
    finally:
        context.close()
    assert errors == []


def test_column_choice_is_kept_after_a_reload(page, desk):
    log_in(page, "alex", factories.PASSWORD)
    head = page.locator("thead")
    expect(head).to_contain_text("Requester")
    expect(head).not_to_contain_text("Channel")
    page.locator("summary", has_text="Columns").click()
    page.get_by_role("checkbox", name="Channel").check()
    page.get_by_role("checkbox", name="Requester").uncheck()
    page.get_by_role("button", name="Save columns").click()
    page.reload()
    expect(head).to_contain_text("Channel")
    expect(head).not_to_contain_text("Requester")


def test_keyboard_shortcuts(page, desk):
    log_in(page, "alex", factories.PASSWORD)
    links = page.locator("tbody tr td:nth-child(2) a")
    page.keyboard.press("j")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("j")
    second = links.nth(1).get_attribute("href")
    # "/" focuses the search; typing there never fires a shortcut.
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search tickets")
    expect(search).to_be_focused()
    page.keyboard.type("jk")
    expect(search).to_have_value("jk")
    expect(page).to_have_url(re.compile(r"/queues/$"))
    # "?" lists the shortcuts.
    page.locator("h1").first.click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # "o" opens the current row (the second).
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(re.escape(second) + "$"))


def test_t_takes_the_next_ticket(page, desk):
    log_in(page, "alex", factories.PASSWORD)
    page.keyboard.press("t")
    expect(page.locator(".messages")).to_contain_text("You took")
    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))


def test_the_menu_is_off_canvas_at_375(page, desk):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "alex", factories.PASSWORD)
    assert no_sideways_scroll(page)
    queues = page.get_by_role("list", name="Your tier queues")
    expect(queues).to_be_hidden()
    page.get_by_role("button", name="Open the menu").click()
    expect(queues).to_be_visible()
    queues.get_by_role("link", name=re.compile("Assigned to me")).click()
    expect(page).to_have_url(re.compile(r"queue=mine"))
