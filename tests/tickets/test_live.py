"""Live pages: the desk's change counter, a ticket's last change and who else is on it."""

import pytest
from django.core.cache import cache
from django.test import Client

from tests import factories
from tickets import services
from tickets.live import _presence_key

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_desk_counter_moves_after_a_committed_change_and_answers_304_while_it_does_not(
    django_capture_on_commit_callbacks,
):
    agent = factories.make_agent(1)
    client = _signed_in(agent)
    first = client.get("/live/desk/")
    assert first.status_code == 200
    etag, before = first["ETag"], first.json()["desk"]
    assert client.get("/live/desk/", headers={"If-None-Match": etag}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket()
    after = client.get("/live/desk/", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.json()["desk"] > before


def test_the_desk_counter_is_for_staff_only(client):
    assert _signed_in(factories.make_requester()).get("/live/desk/").status_code == 403
    vendor = factories.make_vendor_contact()
    assert _signed_in(vendor).get("/live/desk/").status_code == 403
    assert client.get("/live/desk/")["Location"].startswith("/accounts/login/")


def test_a_ticket_says_when_it_last_changed_to_whoever_may_see_it_and_404_to_others():
    requester = factories.make_requester()
    ticket = factories.make_ticket(requester=requester)
    client = _signed_in(requester)
    seen = client.get(f"/live/tickets/{ticket.pk}/")
    assert seen.status_code == 200
    assert seen.json() == {"version": ticket.version, "changed": ticket.updated_at.isoformat()}  # no presence
    assert _signed_in(factories.make_requester()).get(f"/live/tickets/{ticket.pk}/").status_code == 404
    assert _signed_in(factories.make_agent(2)).get(f"/live/tickets/{ticket.pk}/").status_code == 404
    etag = seen["ETag"]
    assert client.get(f"/live/tickets/{ticket.pk}/", headers={"If-None-Match": etag}).status_code == 304
    agent = factories.make_agent(1)
    services.add_reply(ticket_id=ticket.pk, by=agent, body="On it.")  # a reply moves "changed", not the version
    moved = client.get(f"/live/tickets/{ticket.pk}/", headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.json()["changed"] != seen.json()["changed"]


def test_staff_on_the_same_ticket_see_each_other_viewing_and_replying():
    ticket = factories.make_ticket()
    cache.delete(_presence_key(ticket.pk))
    alex = factories.make_agent(1, first_name="Alex", last_name="Agent")
    bea = factories.make_agent(1, first_name="Bea", last_name="Agent")
    url = f"/live/tickets/{ticket.pk}/"
    assert _signed_in(alex).get(url).json()["others"] == []
    assert _signed_in(bea).get(url + "?state=replying").json()["others"] == [{"name": "Alex Agent", "state": "viewing"}]
    assert _signed_in(alex).get(url + "?state=bogus").json()["others"] == [{"name": "Bea Agent", "state": "replying"}]
    # The requester is never shown who of the staff is there, and is not recorded.
    requester_view = _signed_in(ticket.requester).get(url).json()
    assert "others" not in requester_view
    assert _signed_in(bea).get(url).json()["others"] == [{"name": "Alex Agent", "state": "viewing"}]
