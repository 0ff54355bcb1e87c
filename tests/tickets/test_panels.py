"""Panels other apps register on the ticket page: shown in order, hidden when they return None."""

import pytest
from django.urls import reverse

from tests import factories
from tickets import panels


@pytest.fixture
def registered_panels(monkeypatch):
    # Work on a copy so the panels of the real apps come back after the test.
    monkeypatch.setattr(panels, "_panels", dict(panels._panels))
    return panels


def test_registered_panels_render_in_order_and_none_hides_one(db, client, registered_panels):
    ticket = factories.make_ticket()
    agent = factories.make_agent(1)
    seen = []

    def second(user, ticket):
        seen.append((user.pk, ticket.pk))
        return {"title": "Second panel", "body": "<b>not bold</b>"}

    registered_panels.register_ticket_panel(panels.TicketPanel("z-second", "tests/panel.html", second, order=2))
    registered_panels.register_ticket_panel(
        panels.TicketPanel("a-first", "tests/panel.html", lambda u, t: {"title": "First panel", "body": ""}, order=1)
    )
    registered_panels.register_ticket_panel(panels.TicketPanel("hidden", "tests/panel.html", lambda u, t: None))
    client.force_login(agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert html.index("First panel") < html.index("Second panel")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert html.count('class="test-panel"') == 2
    assert seen == [(agent.pk, ticket.pk)]
