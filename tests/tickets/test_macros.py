"""Macros: who sees and manages which, applying one (text and changes, all or nothing), the page and the API."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tests.tickets.test_api_support import api
from tests.tickets.ticket_page_helpers import page_text, snapshot, url
from tickets import services
from tickets.models import CannedReply, Macro, MessageKind, Priority, Status, TicketMessage, Tier


@pytest.fixture
def agent(db):
    return factories.make_agent(1)


@pytest.fixture
def ticket(requester):
    return factories.make_ticket(requester, subject="Screen flickers")


def fields(**overrides):
    base = {
        "name": "Ask for a log",
        "tier": None,
        "personal": True,
        "kind": MessageKind.PUBLIC,
        "body": "Hello {requester}, please send the log for {reference}. {agent}",
        "status": "",
        "priority": None,
        "category": None,
        "assign_to_me": False,
    }
    return {**base, **overrides}


# --------------------------------------------------------------------------- applying


def test_applying_a_macro_writes_its_text_and_changes_in_one_go(agent, ticket, requester):
    macro = Macro.objects.create(
        tier=Tier.T1,
        name="Waiting for a log",
        body="Hello {requester}, please send the log for {reference} ({subject}). {agent}",
        status=Status.PENDING_REQUESTER,
        priority=Priority.P2,
        assign_to_me=True,
    )
    services.apply_macro(ticket_id=ticket.pk, macro_id=macro.pk, by=agent)
    ticket.refresh_from_db()
    message = TicketMessage.objects.get(ticket=ticket)
    assert message.body == (
        f"Hello {requester.display_name}, please send the log for {ticket.reference} (Screen flickers). "
        f"{agent.display_name}"
    )
    assert ticket.status == Status.PENDING_REQUESTER and ticket.assignee_id == agent.pk
    assert ticket.priority == Priority.P2 and ticket.priority_reason == "Macro “Waiting for a log”"


def test_a_macro_whose_change_is_refused_writes_nothing(agent, ticket):
    macro = Macro.objects.create(tier=Tier.T1, name="To vendor", body="Waiting", status=Status.PENDING_VENDOR)
    before = snapshot(ticket)
    with pytest.raises(ValidationError):
        services.apply_macro(ticket_id=ticket.pk, macro_id=macro.pk, by=agent)
    assert snapshot(ticket) == before


@pytest.mark.parametrize(
    ("owner", "tier", "offered"),
    [("mine", None, True), ("theirs", None, False), (None, Tier.T1, True), (None, Tier.T2, False), (None, None, True)],
)
def test_which_macros_are_offered_on_a_ticket(agent, ticket, owner, tier, offered):
    people = {"mine": agent, "theirs": factories.make_agent(1), None: None}
    macro = Macro.objects.create(owner=people[owner], tier=tier, name="M", body="x")
    assert (macro in services.macros_for(agent, ticket)) == offered
    if not offered:
        before = snapshot(ticket)
        with pytest.raises(ValidationError):
            services.apply_macro(ticket_id=ticket.pk, macro_id=macro.pk, by=agent)
        assert snapshot(ticket) == before


def test_requesters_and_vendors_get_no_macros(requester, ticket):
    Macro.objects.create(tier=None, name="Everyone", body="x")
    assert services.macros_for(requester, ticket) == []
    assert services.macros_for(factories.make_vendor_contact(), ticket) == []


# --------------------------------------------------------------------------- managing


def test_agents_keep_personal_macros_only(agent):
    macro = services.save_macro(by=agent, fields=fields())
    assert macro.owner_id == agent.pk and macro.tier is None
    with pytest.raises(ValidationError, match="Only managers keep the tier macros"):
        services.save_macro(by=agent, fields=fields(personal=False, tier=Tier.T1))
    assert Macro.objects.count() == 1


@pytest.mark.parametrize("who", ["owner", "other_agent", "manager", "requester"])
def test_who_may_change_a_personal_macro(agent, manager, requester, who):
    macro = services.save_macro(by=agent, fields=fields())
    people = {"owner": agent, "other_agent": factories.make_agent(1), "manager": manager, "requester": requester}
    allowed = who == "owner"
    if allowed:
        services.save_macro(by=people[who], fields=fields(name="Renamed"), macro_id=macro.pk)
        services.delete_macro(by=people[who], macro_id=macro.pk)
        assert not Macro.objects.exists()
        return
    with pytest.raises((ValidationError, PermissionDenied)):
        services.save_macro(by=people[who], fields=fields(name="Renamed"), macro_id=macro.pk)
    with pytest.raises(ValidationError):
        services.delete_macro(by=people[who], macro_id=macro.pk)
    macro.refresh_from_db()
    assert macro.name == "Ask for a log"


def test_managers_keep_tier_macros(manager, agent):
    macro = services.save_macro(by=manager, fields=fields(personal=False, tier=Tier.T2))
    assert macro.owner_id is None and macro.tier == Tier.T2
    with pytest.raises(ValidationError):
        services.delete_macro(by=agent, macro_id=macro.pk)
    services.delete_macro(by=manager, macro_id=macro.pk)


def test_a_macro_must_do_something(agent):
    with pytest.raises(ValidationError, match="needs a text or a field change"):
        services.save_macro(by=agent, fields=fields(body="  "))


def test_the_canned_replies_become_tier_macros(db):
    CannedReply.objects.create(tier=Tier.T1, title="Greeting", body="Hi {requester_name}, {agent_name} on {reference}")
    Macro.objects.create(tier=Tier.T2, name="Existing", body="kept")
    CannedReply.objects.create(tier=Tier.T2, title="Existing", body="not copied over it")
    migration = importlib.import_module("tickets.migrations.0014_canned_replies_to_macros")
    migration.canned_replies_to_macros(django_apps, None)
    migration.canned_replies_to_macros(django_apps, None)  # a second run adds nothing
    greeting = Macro.objects.get(name="Greeting")
    assert greeting.tier == Tier.T1 and greeting.owner is None and greeting.kind == MessageKind.PUBLIC
    assert greeting.body == "Hi {requester}, {agent} on {reference}"
    assert Macro.objects.get(name="Existing").body == "kept"
    assert Macro.objects.count() == 2


# --------------------------------------------------------------------------- pages


def test_the_macro_page_lists_creates_and_keeps_refused_input(client, agent):
    client.force_login(agent)
    page = client.get("/macros/")
    assert page.status_code == 200 and 'id="macros-empty"' in page.content.decode()
    assert 'name="tier"' not in page.content.decode()  # agents keep personal macros only
    response = client.post("/macros/", {"name": "Ask", "kind": "public", "body": "Please send a log."})
    assert response.status_code == 303
    assert Macro.objects.get(name="Ask").owner_id == agent.pk
    response = client.post("/macros/", {"name": "", "kind": "public", "body": "Typed text stays"})
    assert response.status_code == 303 and response["Location"] == "/macros/"
    shown = client.get("/macros/").content.decode()
    assert "Typed text stays" in shown and "This field is required" in shown
    assert "Typed text stays" not in client.get("/macros/").content.decode()  # the reload shows it as it is


@pytest.mark.parametrize("who", ["requester", "vendor"])
def test_the_macro_page_is_for_agents_and_managers(client, requester, who):
    client.force_login(requester if who == "requester" else factories.make_vendor_contact())
    assert client.get("/macros/").status_code == 403
    assert client.post("/macros/", {"name": "x", "kind": "public", "body": "x"}).status_code == 403
    assert not Macro.objects.exists()


def test_another_agents_macro_cannot_be_edited_or_deleted_from_the_page(client, agent):
    theirs = services.save_macro(by=factories.make_agent(1), fields=fields())
    client.force_login(agent)
    assert client.get(f"/macros/{theirs.pk}/").status_code == 404
    client.post(f"/macros/{theirs.pk}/delete/")
    assert Macro.objects.filter(pk=theirs.pk).exists()


def test_the_ticket_page_applies_a_macro(client, agent, ticket):
    macro = Macro.objects.create(tier=Tier.T1, name="Pending", body="Waiting for you.", status=Status.PENDING_REQUESTER)
    client.force_login(agent)
    page = client.get(url(ticket)).content.decode()
    assert f'<option value="{macro.pk}"' in page
    response = client.post(url(ticket, "macro"), {"macro": macro.pk, "version": ticket.version})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_REQUESTER
    assert "Macro applied" in page_text(client.get(url(ticket)))


# --------------------------------------------------------------------------- API


def test_api_macros_crud_and_permissions(agent, manager, requester):
    response = api(agent).post("/api/macros/", fields(), format="json")
    assert response.status_code == 201, response.json()
    mine = response.json()
    assert mine["personal"] is True and mine["mine"] is True
    assert api(agent).post("/api/macros/", fields(personal=False, tier=1), format="json").status_code == 400
    assert api(manager).post("/api/macros/", fields(personal=False, tier=1), format="json").status_code == 201
    assert len(api(agent).get("/api/macros/").json()) == 2  # their own and tier 1's
    assert api(requester).get("/api/macros/").status_code == 403
    other = factories.make_agent(1)
    assert api(other).put(f"/api/macros/{mine['id']}/", fields(name="x"), format="json").status_code == 404
    assert api(other).delete(f"/api/macros/{mine['id']}/").status_code == 404
    assert api(agent).put(f"/api/macros/{mine['id']}/", fields(name="Renamed"), format="json").json()["name"] == (
        "Renamed"
    )
    assert api(agent).delete(f"/api/macros/{mine['id']}/").status_code == 204


def test_api_applies_a_macro(agent, ticket, requester):
    macro = Macro.objects.create(tier=Tier.T1, name="Pending", body="Hi {requester}", status=Status.PENDING_REQUESTER)
    response = api(agent).post(f"/api/tickets/{ticket.pk}/apply-macro/", {"macro": macro.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["message"]["body"] == f"Hi {requester.display_name}"
    assert response.json()["ticket"]["status"] == Status.PENDING_REQUESTER
    before = snapshot(ticket)
    assert api(requester).post(f"/api/tickets/{ticket.pk}/apply-macro/", {"macro": macro.pk}).status_code == 403
    assert snapshot(ticket) == before
