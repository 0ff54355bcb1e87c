"""A failed ticket action leaves the browser on a page it can reload (Post/Redirect/Get).

The actions answer POST only, so an error page rendered at their URL turned a reload (or Enter
in the address bar) into the browser's bare "HTTP ERROR 405". Every action refused for its
input or by a rule now redirects to the ticket page; that GET shows the error and what was
typed (kept in the session for one read); reading the page again shows it as it is.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.tickets.ticket_page_helpers import page_text, snapshot, url
from tickets import services
from tickets.models import Tier


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ATTACHMENT_MAX_BYTES = 100


def _too_big():
    return SimpleUploadedFile("dump.bin", b"x" * 101)


# (who posts, action, data, the error shown, the text typed that must come back or None)
CASES = [
    ("agent", "reply", {"body": "Please try the spare cable"}, "the limit is", "Please try the spare cable"),
    ("requester", "reply", {"body": "Here is the dump"}, "the limit is", "Here is the dump"),
    ("agent", "note", {"body": "Suspect the dock firmware"}, "the limit is", "Suspect the dock firmware"),
    ("requester", "follow-up", {"body": "It broke again"}, "This ticket is not closed", None),
    ("agent", "watchers", {"who": "w" * 260}, "at most 254 characters", "w" * 260),
    ("manager", "assign", {"assignee": "999999"}, "Select a valid choice", None),
    ("agent", "status", {"status": "resolved"}, "Resolving needs a resolution note", None),
    (
        "agent",
        "priority",
        {"impact": "high", "urgency": "low", "priority": "1", "reason": "r" * 501},
        "at most 500 characters",
        "r" * 501,
    ),
    ("agent", "category", {"category": "999999"}, "Select a valid choice", None),
    (
        "agent",
        "escalate",
        {"reason": "Tried the spare dock", "to_tier": "4", "vendor_reference": "CASE-4242"},
        "needs the vendor",
        "CASE-4242",
    ),
    ("agent", "deescalate", {"reason": "Back to the desk", "to_tier": "3"}, "moves a ticket down", "Back to the desk"),
    ("agent", "notify-managers", {"reason": ""}, "This field is required", None),
    ("agent", "resolve", {"resolution_note": ""}, "This field is required", None),
    ("agent", "reopen", {"reason": "Still flickers"}, "Only a resolved ticket can be reopened", None),
    ("agent", "merge", {"reference": "garbage-ref"}, "Enter a ticket reference", "garbage-ref"),
    ("agent", "link-problem", {"reference": "HD-999999"}, "no ticket HD-999999 that you can see", "HD-999999"),
    ("agent", "link-related", {"reference": "HD-999998"}, "no ticket HD-999998 that you can see", "HD-999998"),
    ("other_agent", "claim", {}, "Someone else has already taken this ticket", None),
    ("other_agent", "swarm/join", {}, "not open to a swarm", None),
    ("requester", "confirm", {}, "Only a resolved ticket can be confirmed", None),
]


@pytest.mark.parametrize(("who", "action", "data", "error", "typed"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_failed_action_redirects_to_a_page_that_shows_it_once_and_can_be_reloaded(
    client, requester, manager, who, action, data, error, typed
):
    agent = factories.make_agent(1)
    people = {"agent": agent, "other_agent": factories.make_agent(1), "manager": manager, "requester": requester}
    ticket = factories.make_ticket(requester, subject="Screen flickers")
    if action == "claim":
        services.claim_ticket(ticket_id=ticket.pk, by=agent)
    if action == "deescalate":
        services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="Needs tier 2", to_tier=Tier.T2)
        people["agent"] = factories.make_agent(2)
    if action in ("reply", "note"):
        data = {**data, "attachments": [_too_big()]}
    client.force_login(people[who])
    before = snapshot(ticket)

    response = client.post(url(ticket, action), data)

    assert response.status_code == 303, page_text(response)[-500:]
    assert response["Location"] == url(ticket)
    assert snapshot(ticket) == before
    shown = client.get(response["Location"])
    assert shown.status_code == 200
    assert error in page_text(shown)
    if typed is not None:
        assert typed in shown.content.decode()
    if action in ("reply", "note"):
        assert "choose them again" in page_text(shown)  # files cannot be kept; the page says so
    again = client.get(response["Location"])  # the reload
    assert again.status_code == 200
    assert error not in page_text(again)
    if typed is not None:
        assert typed not in again.content.decode()
    assert snapshot(ticket) == before


def test_the_kept_form_belongs_to_its_ticket_and_is_read_once(client, requester):
    agent = factories.make_agent(1)
    first = factories.make_ticket(requester, subject="First")
    second = factories.make_ticket(requester, subject="Second")
    client.force_login(agent)
    response = client.post(url(first, "merge"), {"reference": "kept-for-first"})
    assert response.status_code == 303
    # Another ticket's page does not show it, and reading it consumes it.
    assert "kept-for-first" not in client.get(url(second)).content.decode()
    assert "kept-for-first" not in client.get(url(first)).content.decode()


def test_a_succeeding_action_still_redirects_with_302(client, requester):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(requester)
    client.force_login(agent)
    response = client.post(url(ticket, "claim"))
    assert response.status_code == 302
    assert response["Location"] == url(ticket)


def test_the_action_urls_answer_get_with_405_so_nothing_may_link_there(client, requester):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(requester)
    client.force_login(agent)
    assert client.get(url(ticket, "escalate")).status_code == 405
