"""Tier 0 in real Chromium: a requester typing a ticket subject gets an article, and it solves the problem."""

import re

import pytest
from playwright.sync_api import expect

from knowledgebase.models import Deflection, Visibility
from tests import factories
from tests.browser.conftest import log_in
from tests.knowledgebase.conftest import publish
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_requester_finds_an_article_while_typing_and_no_ticket_is_created(page):
    requester = factories.make_requester(username="rita")
    agent, manager = factories.make_agent(1), factories.make_manager()
    article = publish(
        agent,
        manager,
        title="VPN asks for the password every hour",
        summary="Renew the VPN certificate in the company portal.",
        body="1. Open the **company portal**.\n2. Choose *Renew VPN certificate*.",
    )
    publish(agent, manager, title="VPN concentrator runbook", visibility=Visibility.INTERNAL)

    log_in(page, "rita", factories.PASSWORD)
    page.goto("/portal/new/")
    page.get_by_label("Subject").press_sequentially("VPN password keeps", delay=20)
    suggestions = page.locator("#kb-suggestions")
    expect(suggestions.get_by_role("link", name="VPN asks for the password every hour")).to_be_visible()
    expect(suggestions).not_to_contain_text("runbook")

    suggestions.get_by_role("link", name="VPN asks for the password every hour").click()
    expect(page).to_have_url(re.compile(rf"/kb/articles/{article.pk}/\?s="))
    expect(page.locator("#kb-article-body strong")).to_have_text("company portal")
    page.get_by_role("button", name="This solved my problem").click()

    expect(page.get_by_role("heading", name="Glad that solved it")).to_be_visible()
    assert not Ticket.objects.exists()
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_id) == (requester, article.pk)
    assert deflection.query == "VPN password keeps"


def test_the_suggestion_button_counts_one_deflection_in_place(page):
    factories.make_requester(username="rita")
    publish(factories.make_agent(1), factories.make_manager(), title="Printer shows offline", summary="Restart it.")

    log_in(page, "rita", factories.PASSWORD)
    page.goto("/portal/new/")
    page.get_by_label("Subject").fill("printer offline")
    button = page.locator("#kb-suggestions").get_by_role("button", name="This solved my problem")
    button.dblclick()
    expect(page.locator("#kb-deflected")).to_contain_text("No ticket was created")
    assert Deflection.objects.count() == 1
    assert not Ticket.objects.exists()
