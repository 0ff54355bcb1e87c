"""A ticket's life in real Chromium: submitted with a file, taken, escalated, resolved, reopened."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import log_in
from tickets.models import Attachment, EventKind, Status, Ticket, TicketEvent, Tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class UserPage:
    """Another person at another browser: their own context (cookies), console errors collected."""

    def __init__(self, browser, live_server, errors: list[str]):
        self.context = browser.new_context(base_url=live_server.url)
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: errors.append(str(exc)))

    def __enter__(self):
        return self.page

    def __exit__(self, *exc):
        self.context.close()


def flash(page):
    return page.locator(".messages")


def test_requester_submits_agents_escalate_and_resolve_requester_reopens(
    page, browser, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    requester = factories.make_requester(username="rita", first_name="Rita", last_name="Requester")
    agent1 = factories.make_agent(1, username="alex", first_name="Alex", last_name="First")
    factories.make_agent(2, username="bea", first_name="Bea", last_name="Second")
    errors: list[str] = []

    # 1. The requester submits a ticket with an attachment.
    log_in(page, "rita", factories.PASSWORD)
    page.get_by_role("link", name="New ticket").click()
    expect(page.locator("h1")).to_have_text("New ticket")
    page.get_by_label("Subject").fill("Laptop screen flickers")
    page.get_by_label("Description").fill("It flickers when **on battery**.")
    page.get_by_label("I cannot work").check()
    log_file = tmp_path / "screen-log.txt"
    log_file.write_text("flicker at 10:02\n")
    page.get_by_label("Attachments").set_input_files(str(log_file))
    page.get_by_role("button", name="Submit ticket").click()

    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.channel) == (requester, "portal")
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(flash(page)).to_contain_text(f"Ticket {ticket.reference} submitted")
    expect(page.locator("h1")).to_contain_text("Laptop screen flickers")
    expect(page.locator("#ticket-description strong")).to_have_text("on battery")
    expect(page.get_by_role("link", name="screen-log.txt")).to_be_visible()
    assert Attachment.objects.get(ticket=ticket).content_type == "text/plain"
    page.goto("/portal/")
    expect(page.get_by_role("link", name=ticket.reference)).to_be_visible()

    # 2. A tier-1 agent takes it and escalates it to tier 2 with a note, through the dialog.
    with UserPage(browser, live_server, errors) as agent_page:
        log_in(agent_page, "alex", factories.PASSWORD)
        agent_page.goto(f"/tickets/{ticket.pk}/")
        expect(agent_page.locator("#detail-assignee")).to_have_text("Nobody yet")
        agent_page.get_by_role("button", name="Take", exact=True).click()
        expect(flash(agent_page)).to_contain_text(f"You took {ticket.reference}")
        expect(agent_page.locator("#detail-assignee")).to_have_text(agent1.display_name)
        expect(agent_page.locator("#detail-status")).to_have_text("Open")

        agent_page.get_by_role("button", name="Escalate…").click()
        dialog = agent_page.get_by_role("dialog", name="Escalate to a higher tier")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("Vendor", exact=True)).to_be_visible()
        dialog.get_by_label("Escalation note").fill("Updated the display driver; still flickers on battery.")
        dialog.get_by_label("Escalate to").select_option(str(Tier.T2.value))
        dialog.get_by_role("button", name="Escalate", exact=True).click()
        # The ticket left tier 1, so the agent is back at their queues with the outcome.
        expect(agent_page).to_have_url(re.compile(r"/queues/$"))
        expect(flash(agent_page)).to_contain_text(f"{ticket.reference} escalated to Tier 2 - Technicians")

    ticket.refresh_from_db()
    assert (ticket.tier, ticket.assignee) == (Tier.T2, None)

    # 3. A tier-2 agent reads the escalation note and resolves it with a resolution note.
    with UserPage(browser, live_server, errors) as tier2_page:
        log_in(tier2_page, "bea", factories.PASSWORD)
        tier2_page.goto(f"/tickets/{ticket.pk}/")
        expect(tier2_page.locator("#detail-tier")).to_have_text("Tier 2 - Technicians")
        expect(tier2_page.locator(".note-internal")).to_contain_text("Updated the display driver")
        tier2_page.get_by_role("button", name="Resolve…").click()
        dialog = tier2_page.get_by_role("dialog", name="Resolve the ticket")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Resolution note").fill("Replaced the display cable.")
        dialog.get_by_role("button", name="Resolve", exact=True).click()
        expect(flash(tier2_page)).to_contain_text(f"{ticket.reference} resolved")
        expect(tier2_page.locator("#detail-status")).to_have_text("Resolved")

    # 4. The requester sees the resolution (not the internal note) and reopens it.
    page.goto(f"/tickets/{ticket.pk}/")
    resolution = page.locator("#resolution")
    expect(resolution).to_contain_text("Resolved")
    expect(resolution).to_contain_text("Replaced the display cable.")
    expect(page.locator("body")).not_to_contain_text("Updated the display driver")
    resolution.get_by_label("Why reopen? (optional)").fill("It flickers again after a day.")
    resolution.get_by_role("button", name="Reopen").click()
    expect(flash(page)).to_contain_text(f"{ticket.reference} reopened")
    expect(page.locator("#detail-status")).to_have_text("Open")
    expect(page.locator("#resolution")).to_have_count(0)

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.REOPENED, actor=requester).exists()
    assert errors == [], f"browser console errors: {errors}"
