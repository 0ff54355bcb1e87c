"""The ticket API's list fast path: no filter set is built when no parameter names a filter.

(What the API shows of a ticket is tested in ``test_api_representation.py``, creating a
ticket in ``test_creation.py``.)
"""

import pytest
from django import forms

from tests import factories
from tests.tickets.test_api_support import api
from tickets.api_filters import TicketFilter
from tickets.models import Status, Ticket


@pytest.fixture
def tickets(db, requester):
    agent = factories.make_agent(1, 2)
    return [
        factories.make_ticket(requester),
        factories.make_ticket(requester, assignee=agent, status=Status.OPEN),
        factories.make_ticket(requester, category=factories.CategoryFactory(), status=Status.PENDING_REQUESTER),
    ]


def test_every_ticket_filter_reads_the_parameter_of_its_own_name():
    """The filter backend skips the filter set when no parameter names a filter; this keeps that exact."""
    form = TicketFilter().form
    assert set(form.fields) == set(TicketFilter.base_filters)
    for field in form.fields.values():
        assert not isinstance(field.widget, forms.MultiWidget)


def test_list_without_filter_parameters_is_the_unfiltered_list(tickets, manager):
    client = api(manager)
    plain = client.get("/api/tickets/").json()
    assert client.get("/api/tickets/", {"utm_source": "mail", "page_size": 25}).json()["results"] == plain["results"]
    assert {row["id"] for row in plain["results"]} == set(Ticket.objects.values_list("pk", flat=True))
    assert client.get("/api/tickets/", {"status": "bogus", "x": "1"}).status_code == 400
