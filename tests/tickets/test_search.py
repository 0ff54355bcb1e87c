"""The top bar's search (``/tickets/search/``): reference, subject, requester, within what the person may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tickets.models import Tier

SEARCH = "/tickets/search/"


def refs(response) -> list[str]:
    return [row.reference for row in response.context["rows"]]


@pytest.fixture
def desk(db):
    rita = factories.make_requester(first_name="Rita", last_name="Requester", email="rita@example.com")
    other = factories.make_requester(first_name="Otto", last_name="Other")
    vendor = factories.VendorFactory()
    return {
        "rita": rita,
        "other": other,
        "vendor": vendor,
        "printer": factories.make_ticket(rita, subject="Printer jams on floor 3"),
        "vpn": factories.make_ticket(other, subject="VPN drops every hour"),
        "tier3": factories.make_ticket(other, subject="Printer firmware bug", tier=Tier.T3),
        "vendor_ticket": factories.make_ticket(other, subject="Printer board replacement", tier=Tier.T4, vendor=vendor),
    }


def test_a_full_reference_jumps_to_the_ticket(client, desk):
    client.force_login(factories.make_agent(1))
    ticket = desk["vpn"]
    for text in (ticket.reference, ticket.reference.lower(), f"  HD-{ticket.pk}  ", f"#{ticket.pk}"):
        response = client.get(SEARCH, {"q": text})
        assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}/", text


def test_a_bare_number_lists_that_ticket_first(client, desk):
    client.force_login(factories.make_agent(1))
    number = str(desk["vpn"].pk)
    response = client.get(SEARCH, {"q": number})
    assert response.status_code == 200
    assert refs(response)[0] == desk["vpn"].reference


def test_a_reference_the_person_may_not_see_does_not_jump_or_leak(client, desk):
    client.force_login(factories.make_agent(1))
    hidden = desk["tier3"]
    response = client.get(SEARCH, {"q": hidden.reference})
    assert response.status_code == 200
    assert refs(response) == []
    assert "Printer firmware bug" not in response.content.decode()


def test_subject_and_requester_matches_within_what_each_role_sees(client, desk):
    agent = factories.make_agent(1)
    client.force_login(agent)
    assert set(refs(client.get(SEARCH, {"q": "printer"}))) == {desk["printer"].reference}
    assert refs(client.get(SEARCH, {"q": "rita@example"})) == [desk["printer"].reference]
    assert refs(client.get(SEARCH, {"q": "Rita Requester"})) == [desk["printer"].reference]
    client.force_login(factories.make_manager())
    assert len(refs(client.get(SEARCH, {"q": "printer"}))) == 3
    client.force_login(factories.make_vendor_contact(desk["vendor"]))
    assert refs(client.get(SEARCH, {"q": "printer"})) == [desk["vendor_ticket"].reference]


def test_requesters_search_their_own_tickets_only(client, desk):
    client.force_login(desk["rita"])
    response = client.get(SEARCH, {"q": "printer"})
    assert refs(response) == [desk["printer"].reference]
    page = response.content.decode()
    assert "Otto" not in page and "VPN" not in page
    assert client.get(SEARCH, {"q": desk["vpn"].reference}).status_code == 200  # no jump to another's ticket
    assert client.get(SEARCH, {"q": desk["printer"].reference})["Location"] == f"/tickets/{desk['printer'].pk}/"


def test_requesters_and_vendors_do_not_see_requester_details(client, desk):
    client.force_login(factories.make_vendor_contact(desk["vendor"]))
    page = client.get(SEARCH, {"q": "printer"}).content.decode()
    assert "Printer board replacement" in page and "Otto" not in page


def test_empty_query_and_no_match_have_an_empty_state(client, desk):
    client.force_login(factories.make_agent(1))
    page = client.get(SEARCH).content.decode()
    assert "Type a reference" in page
    page = client.get(SEARCH, {"q": "nothing like this"}).content.decode()
    assert "No ticket you can see matches “nothing like this”." in page


def test_search_needs_a_login(client, db):
    response = client.get(SEARCH, {"q": "printer"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("q", ["%", "_", "' OR 1=1 --", "x" * 5000, "HD-99999999999999", "#", "\x00", "HD-\x00"])
def test_odd_text_never_breaks_the_page(client, desk, q):
    client.force_login(factories.make_agent(1))
    assert client.get(SEARCH, {"q": q}).status_code in {200, 400}


def test_paging(client, desk):
    for n in range(30):
        factories.make_ticket(desk["rita"], subject=f"Scanner {n}")
    client.force_login(factories.make_agent(1))
    first = client.get(SEARCH, {"q": "scanner"})
    assert len(refs(first)) == 25 and "30 tickets match" in first.content.decode()
    assert "?q=scanner&amp;page=2" in first.content.decode()
    assert len(refs(client.get(SEARCH, {"q": "scanner", "page": 2}))) == 5


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_query_count_does_not_grow_with_matches(client, desk, who, django_assert_num_queries):
    user = factories.make_agent(1) if who == "agent" else desk["rita"]
    client.force_login(user)
    client.get(SEARCH, {"q": "scanner"})
    factories.make_ticket(desk["rita"], subject="Scanner 0", assignee=factories.make_agent(1))
    with CaptureQueriesContext(connection) as few:
        assert len(refs(client.get(SEARCH, {"q": "scanner"}))) == 1
    for n in range(30):
        factories.make_ticket(desk["rita"], subject=f"Scanner {n}", assignee=factories.make_agent(1))
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(refs(client.get(SEARCH, {"q": "scanner"}))) == 25
