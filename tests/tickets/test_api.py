"""Ticket API: list (filters, ordering, cursor paging, query counts), create, update, token, schema."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.tickets.test_api_support import api, snapshot, upload
from tickets import services
from tickets.models import Channel, EventKind, Ticket, TicketEvent, Tier


def _all_pages(client, url, params=None) -> list[dict]:
    rows, response = [], client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        response = client.get(body["next"])


# --------------------------------------------------------------------------- list: filters and ordering


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"status": "bogus"}, "status"),
        ({"priority": "9"}, "priority"),
        ({"tier": "0"}, "tier"),
        ({"channel": "fax"}, "channel"),
        ({"category": "abc"}, "category"),
        ({"requester": "1.5"}, "requester"),
        ({"assignee": "somebody"}, "assignee"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_invalid_filter_value_is_a_400_naming_it(requester, params, named):
    response = api(requester).get("/api/tickets/", params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] == f"Invalid filter value: {named}."
    assert named in body["errors"]


@pytest.mark.parametrize("ordering", ["subject", "requester__password", "-id", "created_at,priority", "?"])
def test_unknown_ordering_is_a_400_not_a_500(requester, ordering):
    response = api(requester).get("/api/tickets/", {"ordering": ordering})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"Unknown ordering “{ordering}”")


def test_unknown_query_parameters_are_ignored(requester):
    ticket = factories.make_ticket(requester)
    response = api(requester).get("/api/tickets/", {"colour": "blue"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ticket.pk]


def test_filters_narrow_the_list(db):
    agent = factories.make_agent(1, 2)
    other_agent = factories.make_agent(1)
    requester = factories.make_requester()
    category = factories.CategoryFactory()
    printer = factories.make_ticket(requester, subject="Printer jams", category=category, channel=Channel.EMAIL)
    vpn = factories.make_ticket(requester, subject="VPN drops", impact="high", urgency="high")
    mine = factories.make_ticket(subject="Mine", assignee=agent, status="open")
    theirs = factories.make_ticket(subject="Theirs", assignee=other_agent, status="open", tier=Tier.T2)
    old = factories.make_ticket(subject="Old", created_at=timezone.now() - timedelta(days=30))
    client = api(agent)

    def ids(**params):
        response = client.get("/api/tickets/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(status="open") == {mine.pk, theirs.pk}
    assert ids(status=["new", "open"]) == {printer.pk, vpn.pk, mine.pk, theirs.pk, old.pk}
    assert ids(priority=1) == {vpn.pk}
    assert ids(tier=2) == {theirs.pk}
    assert ids(category=category.pk) == {printer.pk}
    assert ids(channel="email") == {printer.pk}
    assert ids(assignee="me") == {mine.pk}
    assert ids(assignee=other_agent.pk) == {theirs.pk}
    assert ids(assignee="none") == {printer.pk, vpn.pk, old.pk}
    assert ids(requester=requester.pk) == {printer.pk, vpn.pk}
    assert ids(created_before=(timezone.now() - timedelta(days=1)).isoformat()) == {old.pk}
    assert old.pk not in ids(created_after=(timezone.now() - timedelta(days=1)).isoformat())
    assert ids(q="vpn") == {vpn.pk}
    assert ids(q=printer.reference.lower()) == {printer.pk}
    assert ids(q=str(mine.pk)) == {mine.pk}


def test_filters_never_widen_what_a_requester_sees(requester, other_requester):
    hidden = factories.make_ticket(other_requester, subject="Secret project")
    client = api(requester)
    for params in ({"requester": other_requester.pk}, {"q": hidden.reference}, {"q": "Secret"}):
        assert client.get("/api/tickets/", params).json()["results"] == []


# --------------------------------------------------------------------------- cursor paging


def test_cursor_paging_returns_every_visible_ticket_exactly_once(requester, other_requester):
    mine = [factories.make_ticket(requester, subject=f"Ticket {n}").pk for n in range(30)]
    factories.make_ticket(other_requester)
    client = api(requester)

    first = client.get("/api/tickets/").json()
    assert len(first["results"]) == 25
    assert first["previous"] is None
    rows = _all_pages(client, "/api/tickets/")
    assert [row["id"] for row in rows] == sorted(mine, reverse=True)  # newest first

    small = _all_pages(client, "/api/tickets/", {"page_size": 7, "ordering": "created_at"})
    assert [row["id"] for row in small] == sorted(mine)


def test_page_size_is_capped_at_100(requester):
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(subject=f"T{n}", description="d", requester=requester, created_at=now - timedelta(seconds=n))
        for n in range(105)
    )
    response = api(requester).get("/api/tickets/", {"page_size": 500})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


@pytest.mark.parametrize("ordering", ["priority", "-priority", "updated_at", "-updated_at"])
def test_every_ordering_pages_through_every_ticket_once(requester, ordering):
    levels = ["high", "medium", "low"]
    tickets = [factories.make_ticket(requester, impact=levels[n % 3], urgency=levels[(n // 3) % 3]) for n in range(12)]
    rows = _all_pages(api(requester), "/api/tickets/", {"ordering": ordering, "page_size": 5})
    assert sorted(row["id"] for row in rows) == sorted(t.pk for t in tickets)
    key = ordering.lstrip("-")
    values = [(row[key], row["id"]) for row in rows]
    assert values == sorted(values, reverse=ordering.startswith("-"))


# --------------------------------------------------------------------------- query counts


def _count_list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/tickets/")
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def _seed_tickets(n: int, agents, vendor) -> None:
    category = factories.CategoryFactory()
    for i in range(n):
        fields = {"assignee": agents[i % len(agents)], "status": "open"}
        if i % 3 == 0:
            fields.update(tier=Tier.T4, vendor=vendor, assignee=None)
        factories.make_ticket(category=category, **fields)


def test_list_uses_a_fixed_number_of_queries(db):
    agents = [factories.make_agent(1) for _ in range(3)]
    vendor = factories.VendorFactory()
    client = api()
    client.force_login(factories.make_manager())  # a fresh user per request, as in production
    _seed_tickets(3, agents, vendor)
    few, shown = _count_list_queries(client)
    assert shown == 3
    _seed_tickets(27, agents, vendor)
    many, shown = _count_list_queries(client)
    assert shown == 25
    # The user, their roles, the page of tickets (the session comes from the cache); nothing per row.
    assert many == few == 3


def test_detail_and_children_use_a_fixed_number_of_queries(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(assignee=agent, category=factories.CategoryFactory())
    client = api()
    client.force_login(agent)

    def add_conversation(n):
        for i in range(n):
            message = services.add_note(ticket_id=ticket.pk, by=agent, body=f"note {i}")
            services.store_attachments(ticket=ticket, by=agent, uploads=[upload()], message=message)
            services.add_reply(ticket_id=ticket.pk, by=ticket.requester, body=f"reply {i}")

    def counts():
        result = {}
        for suffix in ("", "messages/", "events/", "attachments/"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/api/tickets/{ticket.pk}/{suffix}").status_code == 200
            result[suffix] = len(queries)
        return result

    add_conversation(1)
    before = counts()
    add_conversation(5)
    assert counts() == before
    assert before[""] == 3  # user, roles, ticket (the session comes from the cache)


# --------------------------------------------------------------------------- create


def test_create_opens_a_ticket_for_the_caller_through_the_api_channel(requester):
    response = api(requester).post(
        "/api/tickets/",
        {"subject": "Laptop will not boot", "description": "Black screen.", "impact": "high", "urgency": "low"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert response["Location"] == body["url"]
    assert (ticket.requester, ticket.channel, ticket.priority, ticket.status) == (requester, "api", 3, "new")
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.actor, event.data["channel"]) == (EventKind.CREATED, requester, "api")
    assert body["reference"] == ticket.reference


@pytest.mark.parametrize(
    "extra",
    [
        {"requester": "other"},
        {"status": "resolved"},
        {"tier": 3},
        {"assignee": "self"},
        {"priority": 1},
        {"channel": "phone"},
        {"resolved_at": "2020-01-01T00:00:00Z"},
    ],
)
def test_requester_cannot_set_staff_fields_on_create(requester, other_requester, extra):
    extra = {k: {"other": other_requester.pk, "self": requester.pk}.get(v, v) for k, v in extra.items()}
    data = {"subject": "Help", "description": "Please", **extra}
    response = api(requester).post("/api/tickets/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == f"These fields are read-only: {next(iter(extra))}"
    assert not Ticket.objects.exists()


def test_agent_opens_a_ticket_on_behalf_of_a_requester(agent, requester):
    response = api(agent).post(
        "/api/tickets/", {"subject": "Called in", "description": "VPN", "requester": requester.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.channel) == (requester, "api")
    assert TicketEvent.objects.get(ticket=ticket).actor == agent


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"description": "no subject"}, "subject"),
        ({"subject": "x", "description": "y", "impact": "huge"}, "impact"),
        ({"subject": "x", "description": "y", "category": 999999}, "category"),
    ],
)
def test_create_with_bad_values_is_a_400(requester, data, field):
    response = api(requester).post("/api/tickets/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Ticket.objects.exists()


def test_invalid_json_body_is_a_400(requester):
    ticket = factories.make_ticket(requester)
    client = api(requester)
    response = client.post("/api/tickets/", '{"subject": "x",', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    response = client.post(f"/api/tickets/{ticket.pk}/messages/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Expected a JSON object."
    assert Ticket.objects.count() == 1
    assert not ticket.messages.exists()


# --------------------------------------------------------------------------- update (mass assignment)

STAFF_FIELDS = {
    "status": "resolved",
    "tier": 3,
    "assignee": 1,
    "requester": 1,
    "priority": 1,
    "priority_reason": "because",
    "first_response_at": "2020-01-01T00:00:00Z",
    "resolved_at": "2020-01-01T00:00:00Z",
    "closed_at": "2020-01-01T00:00:00Z",
    "resolution_note": "done",
    "vendor": 1,
    "is_swarm": True,
    "merged_into": 1,
    "subject": "new subject",
}


@pytest.mark.parametrize("field", sorted(STAFF_FIELDS))
def test_requester_patching_a_staff_field_gets_a_400_naming_it(requester, field):
    ticket = factories.make_ticket(requester)
    before = snapshot(ticket)
    response = api(requester).patch(f"/api/tickets/{ticket.pk}/", {field: STAFF_FIELDS[field]}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == f"These fields are read-only: {field}"
    assert snapshot(ticket) == before


def test_requester_patching_many_fields_gets_them_all_named(requester):
    ticket = factories.make_ticket(requester)
    before = snapshot(ticket)
    response = api(requester).patch(f"/api/tickets/{ticket.pk}/", STAFF_FIELDS | {"sla_due": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["read_only"] == sorted(STAFF_FIELDS)
    assert body["unknown"] == ["sla_due"]
    assert body["detail"] == f"These fields are read-only: {', '.join(sorted(STAFF_FIELDS))}. Unknown fields: sla_due"
    assert snapshot(ticket) == before


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ({"subject": "Renamed"}, "These fields are read-only: subject"),
        ({"description": "Rewritten"}, "These fields are read-only: description"),
        ({"status": "open", "tier": 2}, "These fields are read-only: status, tier"),
        ({"assignee": 1}, "These fields are read-only: assignee"),
        ({"colour": "red"}, "Unknown fields: colour"),
    ],
)
def test_staff_patch_refuses_fields_that_change_through_actions(agent, data, detail):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    response = api(agent).patch(f"/api/tickets/{ticket.pk}/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert snapshot(ticket) == before


def test_staff_patch_changes_category_and_priority_through_the_services(agent):
    ticket = factories.make_ticket()
    category = factories.CategoryFactory()
    response = api(agent).patch(
        f"/api/tickets/{ticket.pk}/",
        {"category": category.pk, "priority": 1, "priority_reason": "Whole floor is down"},
        format="json",
    )
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert (ticket.category, ticket.priority, ticket.priority_reason) == (category, 1, "Whole floor is down")
    assert response.json()["priority_reason"] == "Whole floor is down"
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {EventKind.CATEGORY_CHANGED, EventKind.PRIORITY_CHANGED} <= kinds


def test_staff_patch_keeps_the_override_reason_or_returns_to_the_matrix(agent):
    ticket = factories.make_ticket(impact="low", urgency="low")
    client = api(agent)
    url = f"/api/tickets/{ticket.pk}/"
    client.patch(url, {"priority": 2, "priority_reason": "Board meeting"}, format="json")
    response = client.patch(url, {"priority_reason": "Board meeting at 9"}, format="json")
    assert response.status_code == 400
    assert "priority_reason" in response.json()["errors"]
    response = client.patch(url, {"priority": 1}, format="json")  # keeps the reason given before
    assert (response.json()["priority"], response.json()["priority_reason"]) == (1, "Board meeting")
    response = client.patch(url, {"impact": "high"}, format="json")  # re-rating follows the matrix again
    assert (response.json()["priority"], response.json()["priority_reason"]) == (3, "")


def test_staff_patch_is_all_or_nothing(agent):
    ticket = factories.make_ticket()
    before = snapshot(ticket)
    category = factories.CategoryFactory()
    # The category change is valid, the override lacks its reason: neither is written.
    response = api(agent).patch(f"/api/tickets/{ticket.pk}/", {"category": category.pk, "priority": 1}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["detail"]
    assert snapshot(ticket) == before


def test_put_and_delete_are_not_allowed(agent):
    ticket = factories.make_ticket()
    client = api(agent)
    assert client.put(f"/api/tickets/{ticket.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"/api/tickets/{ticket.pk}/").status_code == 405
    assert Ticket.objects.filter(pk=ticket.pk).exists()


# --------------------------------------------------------------------------- token, schema


def test_token_authentication(requester):
    ticket = factories.make_ticket(requester)
    client = api()
    response = client.post(
        "/api/auth/token/", {"username": requester.username, "password": factories.PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/tickets/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ticket.pk]

    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/tickets/")
    assert response.status_code in (401, 403)
    assert response.json()["detail"] == "Invalid token."


def test_token_is_refused_for_a_wrong_password(requester):
    response = api().post("/api/auth/token/", {"username": requester.username, "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_schema_documents_the_ticket_api(client, requester):
    client.force_login(requester)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for path in ("/api/tickets/", "/api/tickets/{id}/escalate/", "/api/tickets/take-next/", "/api/auth/token/"):
        assert path in schema
