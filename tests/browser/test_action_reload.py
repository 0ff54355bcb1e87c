"""A refused action in real Chromium: the browser lands on the ticket page, and a reload shows it.

The escalation below is refused by the service (tier 4 needs a vendor). The error page used
to live at the action's POST-only URL, so reloading it (or Enter in the address bar) showed
Chromium's blank "HTTP ERROR 405".
"""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import log_in
from tickets.models import Tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_escalation_can_be_reloaded_and_keeps_the_note(page):
    factories.make_agent(1, username="alex", first_name="Alex", last_name="First")
    factories.VendorFactory(name="Acme Displays")
    ticket = factories.make_ticket(subject="Screen flickers on battery")
    log_in(page, "alex", factories.PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")

    page.get_by_role("button", name="Escalate…").click()
    dialog = page.get_by_role("dialog", name="Escalate to a higher tier")
    dialog.get_by_label("Escalation note").fill("Swapped the cable; still flickers.")
    dialog.get_by_label("Escalate to").select_option(str(Tier.T4.value))  # but no vendor chosen
    dialog.get_by_role("button", name="Escalate", exact=True).click()

    # Redirected to the ticket page: the error is shown and the dialog is open with the note.
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("needs the vendor")
    dialog = page.get_by_role("dialog", name="Escalate to a higher tier")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Escalation note")).to_have_value("Swapped the cable; still flickers.")

    # The reload is the ticket page again (200), not the browser's 405.
    response = page.reload()
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_contain_text("Screen flickers on battery")
    expect(page.locator(".messages")).to_have_count(0)

    # As is Enter in the address bar.
    response = page.goto(page.url)
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_contain_text("Screen flickers on battery")
    ticket.refresh_from_db()
    assert ticket.tier == Tier.T1
