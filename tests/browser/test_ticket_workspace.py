"""The ticket page's composer in real Chromium: reply and set Pending in one submit, an error keeps the
text (and the page can be reloaded), a macro, the preview, and axe-core for an agent and a requester."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tickets.models import Macro, Status, TicketMessage, Tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db):
    agent = factories.make_agent(1, username="alex", first_name="Alex", last_name="First")
    requester = factories.make_requester(username="rita", first_name="Rita", last_name="Requester")
    ticket = factories.make_ticket(requester, subject="Screen flickers on battery")
    return {"agent": agent, "requester": requester, "ticket": ticket}


def test_reply_and_set_pending_in_one_submit(page, desk):
    ticket = desk["ticket"]
    log_in(page, "alex", factories.PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    composer = page.locator("#compose-form")
    composer.get_by_label("Message").fill("Please try the **spare** cable.")
    composer.get_by_label("Status").select_option(Status.PENDING_REQUESTER)
    expect(page.locator("#compose-submit")).to_have_text("Reply and set Waiting for requester")

    composer.get_by_role("button", name="Preview").click()
    expect(page.locator("#compose-preview strong")).to_have_text("spare")

    page.locator("#compose-submit").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Your reply was added and the status changed.")
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_REQUESTER
    assert TicketMessage.objects.filter(ticket=ticket, body="Please try the **spare** cable.").exists()


def test_an_error_keeps_the_text_and_the_page_reloads(page, desk):
    ticket = desk["ticket"]
    log_in(page, "alex", factories.PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    composer = page.locator("#compose-form")
    page.locator("label[for=compose_kind_internal]").click()  # an internal note
    composer.get_by_label("Message").fill("Dock firmware 1.2 is the suspect.")
    composer.get_by_label("Status").select_option(Status.PENDING_REQUESTER)
    composer.get_by_label("Priority", exact=True).select_option("1")  # an override without its reason: refused
    page.locator("#compose-submit").click()

    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("A reason for overriding the priority is required")
    expect(page.locator("#compose_body")).to_have_value("Dock firmware 1.2 is the suspect.")
    expect(page.locator("#compose_kind_internal")).to_be_checked()
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # the status change went with the refused part

    response = page.reload()
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_contain_text("Screen flickers on battery")


def test_a_macro_inserts_its_text_and_fields_then_sends(page, desk):
    ticket = desk["ticket"]
    body = "Hello {requester}, please send a log."
    Macro.objects.create(tier=Tier.T1, name="Ask for a log", body=body, status=Status.PENDING_REQUESTER)
    log_in(page, "alex", factories.PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    page.get_by_label("Macro").select_option(label="Ask for a log")
    page.get_by_role("button", name="Insert to edit").click()
    expect(page.locator("#compose_body")).to_have_value("Hello Rita Requester, please send a log.")
    expect(page.locator("#compose_status")).to_have_value(Status.PENDING_REQUESTER)
    page.locator("#compose-submit").click()
    expect(page.locator(".messages")).to_contain_text("Your reply was added and the status changed.")

    # Or in one click, through the same service.
    page.get_by_label("Macro").select_option(label="Ask for a log")
    page.get_by_role("button", name="Apply now").click()
    expect(page.locator(".messages")).to_contain_text("Macro applied")
    assert TicketMessage.objects.filter(ticket=ticket).count() == 2


def test_the_ticket_page_is_accessible_to_an_agent_and_a_requester(page, desk):
    ticket = desk["ticket"]
    Macro.objects.create(tier=Tier.T1, name="Ask for a log", body="Please send a log.")
    log_in(page, "alex", factories.PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    assert_accessible(page)
    page.locator("label[for=compose_kind_internal]").click()
    expect(page.locator("#compose_kind_internal")).to_be_checked()
    page.wait_for_timeout(400)  # past Bootstrap's button colour transition, which axe would catch halfway
    assert_accessible(page)
    page.goto("/macros/")
    assert_accessible(page)

    page.context.clear_cookies()
    log_in(page, "rita", factories.PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#compose-form")).to_be_visible()
    assert page.locator("#compose_kind_internal").count() == 0
    assert_accessible(page)
