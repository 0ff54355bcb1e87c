"""Manager and personal pages in real Chromium: SLA policies with durations, the knowledge base, preferences."""

import re

import pytest
from playwright.sync_api import expect

from sla.models import Policy, Target
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def sla_defaults():
    from sla.defaults import ensure_defaults

    ensure_defaults()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")


def test_a_manager_types_sla_targets_as_durations(page):
    factories.make_manager(username="maria")
    policy = Policy.objects.get(is_default=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "maria", factories.PASSWORD)

    page.goto("/sla/")
    expect(page.get_by_role("heading", name="Service levels")).to_be_visible()
    assert no_sideways_scroll(page)
    assert_accessible(page)

    page.get_by_role("link", name=policy.name).first.click()
    target = page.get_by_label("Resolution, P2: target in business time")
    expect(target).to_have_value("8 h")
    assert no_sideways_scroll(page)
    assert_accessible(page)

    # (A refused duration answers 400, which the console reports: tests/sla/test_forms_durations.py.)
    target.fill("1 d 4 h")
    page.get_by_role("button", name="Save policy").click()
    expect(page).to_have_url(re.compile(r"/sla/$"))
    assert Target.objects.get(policy=policy, metric="resolution", priority=2, tier=0).seconds == 28 * 3600

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/sla/policies/{policy.pk}/")
    expect(target).to_have_value("1 d 4 h")
    assert no_sideways_scroll(page)
    page.goto("/sla/")
    assert no_sideways_scroll(page)


def test_the_knowledge_base_home_is_accessible(page):
    factories.make_agent(1, username="alex")
    log_in(page, "alex", factories.PASSWORD)
    page.goto("/kb/")
    expect(page.get_by_role("heading", name="Knowledge base", exact=True)).to_be_visible()
    assert_accessible(page)


def test_a_person_chooses_a_time_zone_and_sees_times_in_it(page, settings):
    settings.TIME_ZONE = "UTC"
    requester = factories.make_requester(username="rita")
    factories.make_ticket(requester, subject="Printer jams on tray 2")
    log_in(page, "rita", factories.PASSWORD)

    page.goto("/portal/")
    expect(page.locator("table time").first).to_have_attribute("title", re.compile(r" UTC$"))

    page.goto("/accounts/email/")
    expect(page.get_by_role("heading", name="Preferences")).to_be_visible()
    assert_accessible(page)
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("")
    zone.select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    expect(page.locator("#prefs-now time")).to_have_text(re.compile(r" JST$"))
    assert_accessible(page)

    page.goto("/portal/")
    expect(page.locator("table time").first).to_have_attribute("title", re.compile(r" JST$"))
