import re

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tickets.services import DEMO_PASSWORD, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDINGS = [
    ("requester", "/portal/", "My tickets"),
    ("agent1", "/queues/", "Queues"),
    ("agent2", "/queues/", "Queues"),
    ("agent3", "/queues/", "Queues"),
    ("vendor", "/vendor/", "Tickets escalated to Contoso Hardware"),
    ("manager", "/dashboard/", "Service desk dashboard"),
    ("admin", "/admin/", "Site administration"),
]


@pytest.mark.parametrize(("username", "path", "heading"), LANDINGS)
def test_demo_account_lands_on_its_role_page(page, live_server, username, path, heading):
    seed_demo()
    log_in(page, username, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(live_server.url + path) + "$"))
    expect(page.locator("h1").first).to_have_text(heading)


def test_agent_sees_only_their_tier_and_role_navigation(page):
    seed_demo()
    log_in(page, "agent2", DEMO_PASSWORD)
    expect(page.get_by_role("list", name="Your tier queues")).to_contain_text("Tier 2 - Technicians")
    expect(page.get_by_role("list", name="Your tier queues")).not_to_contain_text("Tier 1")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Queues")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_count(0)


def test_wrong_password_shows_an_error_and_stays_logged_out(page):
    seed_demo()
    log_in(page, "requester", "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("alert").first).to_contain_text("Please enter a correct username and password")
    page.goto("/portal/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/portal/$"))


def test_log_out_from_the_navigation(page):
    seed_demo()
    log_in(page, "manager", DEMO_PASSWORD)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("h1").first).to_contain_text("logged out")
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_the_sign_in_page_has_no_serious_accessibility_violation(page):
    page.goto("/accounts/login/")
    assert_accessible(page)
