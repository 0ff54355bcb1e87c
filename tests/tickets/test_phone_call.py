"""Logging a phone call: an agent opens a ticket for a caller, optionally resolving it at once."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from helpdesk.core.models import OutboxMessage
from tests import factories
from tickets import services
from tickets.models import Channel, EventKind, Priority, Status, Ticket, TicketEvent

URL = "/queues/phone/"


def _refused_page(client, response):
    """A refused call redirects (303) back to the form, shown once with its errors; a reload is empty."""
    assert response.status_code == 303
    assert response["Location"] == URL
    page = client.get(URL)
    assert page.status_code == 200 and page.context["form"].is_bound
    again = client.get(URL)
    assert again.status_code == 200 and not again.context["form"].is_bound
    return page


def call(caller, **overrides) -> dict:
    data = {
        "requester": caller.username,
        "subject": "Outlook keeps asking for the password",
        "description": "Since this morning, after the password change.",
        "category": "",
        "impact": "high",
        "urgency": "high",
        "resolution_note": "",
    }
    return {**data, **overrides}


def test_agent_logs_a_call_for_a_requester(client, db):
    agent = factories.make_agent(1)
    caller = factories.make_requester()
    category = factories.CategoryFactory(name="E-mail")
    client.force_login(agent)
    response = client.post(URL, call(caller, category=category.pk))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert (ticket.requester, ticket.channel, ticket.assignee, ticket.status) == (
        caller,
        Channel.PHONE,
        agent,
        Status.OPEN,
    )
    assert (ticket.priority, ticket.category, ticket.subject) == (
        Priority.P1,
        category,
        "Outlook keeps asking for the password",
    )
    assert ticket.resolution_note == ""
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {EventKind.CREATED, EventKind.ASSIGNED} <= kinds
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"You logged the call as {ticket.reference}."]


def test_caller_found_by_email_ignoring_case(client, db):
    caller = factories.make_requester(email="Pat.Caller@corp.example")
    client.force_login(factories.make_agent(2))
    response = client.post(URL, call(caller, requester="pat.caller@CORP.example"))
    assert response.status_code == 302
    assert Ticket.objects.get().requester == caller


def test_resolved_during_the_call_is_first_contact_resolution(client, db):
    agent = factories.make_agent(1)
    caller = factories.make_requester()
    client.force_login(agent)
    response = client.post(URL, call(caller, resolution_note="Cleared the cached credentials; it works."))
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert ticket.status == Status.RESOLVED
    assert ticket.resolved_at is not None
    assert ticket.resolution_note == "Cleared the cached credentials; it works."
    assert (ticket.channel, ticket.assignee) == (Channel.PHONE, agent)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.RESOLVED).count() == 1
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"You logged the call as {ticket.reference} and resolved it."
    ]


def test_manager_may_log_calls_too(client, db):
    manager = factories.make_manager()
    client.force_login(manager)
    assert client.get(URL).status_code == 200
    assert client.post(URL, call(factories.make_requester())).status_code == 302
    assert Ticket.objects.get().assignee == manager


@pytest.mark.parametrize("maker", [factories.make_requester, factories.make_vendor_contact])
def test_requesters_and_vendors_cannot_log_calls(client, db, maker):
    user = maker()
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, call(user)).status_code == 403
    assert not Ticket.objects.exists()


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.post(URL, call(factories.make_requester()))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/queues/phone/")
    assert not Ticket.objects.exists()


def test_form_is_labelled_and_linked_from_the_queue(client, db):
    client.force_login(factories.make_agent(1))
    page = client.get(URL).content.decode()
    for label in (
        "Caller (username or e-mail)",
        "Subject",
        "Category",
        "Impact",
        "Urgency",
        "Resolved during the call",
    ):
        assert label in page
    assert 'for="id_resolution_note"' in page
    assert 'href="/queues/phone/"' in client.get("/queues/").content.decode()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"requester": "nobody-by-that-name"}, "No active user has that username or e-mail address."),
        ({"requester": ""}, "This field is required."),
        ({"subject": "   "}, "This field is required."),
        ({"subject": "x" * 201}, "at most 200 characters"),
        ({"description": ""}, "This field is required."),
        ({"impact": "enormous"}, "Select a valid choice."),
        ({"category": "999999"}, "Select a valid choice."),
    ],
)
def test_form_errors_are_shown_and_nothing_is_written(client, db, overrides, error):
    caller = factories.make_requester()
    client.force_login(factories.make_agent(1))
    response = client.post(URL, call(caller, **overrides))
    assert error in _refused_page(client, response).content.decode()
    assert not Ticket.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_inactive_caller_and_inactive_category_are_refused(client, db):
    caller = factories.make_requester(is_active=False)
    retired = factories.CategoryFactory(is_active=False)
    client.force_login(factories.make_agent(1))
    response = client.post(URL, call(caller, category=retired.pk))
    form = _refused_page(client, response).context["form"]
    assert set(form.errors) == {"requester", "category"}
    assert not Ticket.objects.exists()


def test_refusal_from_the_service_is_shown_in_the_page(client, db, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError("The caller's account is locked.")

    monkeypatch.setattr(services, "log_phone_call", refuse)
    client.force_login(factories.make_agent(1))
    response = client.post(URL, call(factories.make_requester()))
    page = _refused_page(client, response).content.decode()
    assert "The caller&#x27;s account is locked." in page
    assert "Outlook keeps asking for the password" in page  # what was typed is kept
    assert not Ticket.objects.exists()
