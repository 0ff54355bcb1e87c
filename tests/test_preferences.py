"""The person's preferences page: e-mail, the time zone every page shows times in, the in-app inbox."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.core.zones import zone_names
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/accounts/email/"


def test_the_page_offers_the_zones_with_the_desks_as_default(client, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    client.force_login(factories.make_requester())
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in page and ">Preferences</h1>" in page
    assert '<option value="" selected>The desk&#x27;s time zone (Europe/Berlin)</option>' in page
    assert '<option value="Asia/Tokyo">Asia/Tokyo</option>' in page
    assert '<option value="America/New_York">America/New York</option>' in page
    assert list(zone_names()) == sorted(zone_names()) and "UTC" in zone_names()
    assert "In the app" not in page  # requesters get no in-app notifications


def test_staff_read_what_the_inbox_holds(client):
    client.force_login(factories.make_agent(1))
    page = client.get(URL).content.decode()
    assert "In the app" in page and 'href="/inbox/"' in page


def test_the_zone_is_saved_with_the_mail_choice(client):
    user = factories.make_requester()
    client.force_login(user)
    response = client.post(URL, {"time_zone": "Asia/Tokyo", "receive_optional_email": "on"})
    assert response.status_code == 302 and response["Location"] == URL
    user.refresh_from_db()
    assert (user.time_zone, user.receive_optional_email) == ("Asia/Tokyo", True)
    page = client.get(URL).content.decode()
    assert '<option value="Asia/Tokyo" selected>' in page and "Your preferences are saved." in page
    # Back to the desk's zone.
    client.post(URL, {"time_zone": ""})
    user.refresh_from_db()
    assert (user.time_zone, user.receive_optional_email) == ("", False)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Etc/GMT+5", "../../etc/passwd", "x" * 100])
def test_an_unknown_or_unoffered_zone_is_refused_with_a_form_error(client, zone):
    user = factories.make_requester()
    client.force_login(user)
    response = client.post(URL, {"time_zone": zone, "receive_optional_email": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Your preferences were not saved" in page
    assert "Select a valid choice." in page
    user.refresh_from_db()
    assert (user.time_zone, user.receive_optional_email) == ("", True)  # nothing half-saved


def test_a_stored_zone_the_list_leaves_out_stays_selectable(client):
    user = factories.make_requester()
    user.time_zone = "Etc/GMT+5"
    user.save(update_fields=["time_zone"])
    client.force_login(user)
    assert '<option value="Etc/GMT+5" selected>' in client.get(URL).content.decode()
    assert client.post(URL, {"time_zone": "Etc/GMT+5"}).status_code == 302


def test_pages_then_show_times_in_the_persons_zone(client, settings):
    settings.TIME_ZONE = "UTC"
    user = factories.make_requester()
    ticket = factories.make_ticket(user)
    client.force_login(user)
    page = client.get("/portal/").content.decode()
    assert f'<time datetime="{ticket.updated_at.isoformat()}" title="' in page and " UTC</time>" not in page
    assert 'UTC">' in page  # the exact time on hover is in the desk's zone

    client.post(URL, {"time_zone": "Asia/Tokyo"})
    page = client.get("/portal/").content.decode()
    assert 'JST">' in page and 'UTC">' not in page
    assert "JST</time>" in client.get(URL).content.decode()  # "Now: ..." on the preferences page


def test_the_page_runs_a_fixed_number_of_statements(client, django_assert_num_queries):
    agent = factories.make_agent(1)
    client.force_login(agent)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(3):
        factories.make_ticket(subject=f"Ticket {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(URL)
