"""SLA API: a ticket's clocks for staff, and the managers' calendars and policies endpoints.

Refusals are JSON with a ``detail`` (and ``errors`` by field for invalid input) and leave the
database as it was; every accepted change bumps the SLA settings version.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla.models import BusinessCalendar, ClockEvent, Policy, Target, WorkingInterval
from sla.services import settings_version, sweep
from tests import factories
from tests.sla.test_views import snapshot
from tests.tickets.test_api_support import api
from tickets import services
from tickets.models import Tier

ROLE_MAKERS = {
    "requester": factories.make_requester,
    "agent": lambda: factories.make_agent(1),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}


def office() -> BusinessCalendar:
    return BusinessCalendar.objects.get(name="Office hours")


def default_policy() -> Policy:
    return Policy.objects.get(is_default=True)


def calendar_body(**overrides) -> dict:
    body = {
        "name": "Support Berlin",
        "timezone": "Europe/Berlin",
        "always_open": False,
        "intervals": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        "holidays": [{"day": "2026-12-25", "name": "Christmas", "yearly": True}],
    }
    return body | overrides


def policy_body(**overrides) -> dict:
    body = {
        "name": "Hardware",
        "calendar": office().pk,
        "channel": "email",
        "warning_percent": 80,
        "targets": [
            {"metric": "first_response", "priority": 1, "minutes": 15},
            {"metric": "ola", "priority": 2, "tier": 2, "minutes": 120, "calendar": None},
        ],
    }
    return body | overrides


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"]
    return body


# --------------------------------------------------------------------------- a ticket's clocks


def test_staff_read_a_tickets_clocks_and_recorded_breaches(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(impact="high", urgency="high")  # P1: 15 min first response on 24x7
    later = timezone.now() + timedelta(days=30)
    recorded = sweep(now=later)
    assert recorded["breached"] >= 1
    with time_machine.travel(later):
        response = api(agent).get(f"/api/tickets/{ticket.pk}/sla/")
    assert response.status_code == 200
    body = response.json()
    assert body["ticket"] == ticket.pk
    clocks = {(c["metric"], c["scope"]): c for c in body["clocks"]}
    assert {("first_response", 0), ("resolution", 0), ("ola", 1)} <= set(clocks)
    first = clocks[("first_response", 0)]
    assert first["label"] == "First response"
    assert clocks[("ola", 1)]["label"] == "Tier 1 (OLA)"
    assert first["state"] == "breached" and first["stored_state"] == "running"
    assert first["target_seconds"] == 15 * 60
    assert first["breached"] is True and first["warned"] is True
    for name in ("cycle", "accrued_seconds", "due_at", "warn_at", "ended_at", "detail"):
        assert name in first
    kinds = {(e["metric"], e["kind"]) for e in body["events"]}
    assert ("first_response", "breached") in kinds and ("first_response", "warning") in kinds
    assert len(body["events"]) == ClockEvent.objects.filter(ticket=ticket).count()
    event = next(e for e in body["events"] if e["kind"] == "breached" and e["metric"] == "first_response")
    assert event["label"] == "First response" and event["tier"] == Tier.T1 and event["cycle"] == 1


def test_met_clock_reads_met(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    services.add_reply(ticket_id=ticket.pk, by=agent, body="On it.")
    clocks = api(agent).get(f"/api/tickets/{ticket.pk}/sla/").json()["clocks"]
    first = next(c for c in clocks if c["metric"] == "first_response")
    assert first["state"] == "met" and first["ended_at"] is not None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("own_requester", 403),  # sees the ticket, but not its SLA internals
        ("vendor_of_ticket", 403),
        ("other_requester", 404),
        ("other_vendor", 404),
        ("agent_t1", 404),  # tier 1 does not see a tier-4 ticket it never held
        ("agent_t3", 404),
        ("manager", 200),
    ],
)
def test_who_reads_a_tickets_clocks(db, who, status):
    vendor = factories.VendorFactory()
    requester = factories.make_requester()
    ticket = factories.make_ticket(requester, tier=Tier.T4, vendor=vendor)
    people = {
        "anonymous": None,
        "own_requester": requester,
        "vendor_of_ticket": factories.make_vendor_contact(vendor),
        "other_requester": factories.make_requester(),
        "other_vendor": factories.make_vendor_contact(),
        "agent_t1": factories.make_agent(1),
        "agent_t3": factories.make_agent(3),
        "manager": factories.make_manager(),
    }
    response = api(people[who]).get(f"/api/tickets/{ticket.pk}/sla/")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    if status != 200:
        assert "detail" in response.json() and "clocks" not in response.json()


def test_vendor_clock_is_labelled_with_the_vendor(db):
    manager = factories.make_manager()
    vendor = factories.VendorFactory(name="Acme Printers")
    ticket = factories.make_ticket()
    services.escalate_ticket(ticket_id=ticket.pk, by=manager, reason="Fuser broken", to_tier=Tier.T4, vendor=vendor)
    clocks = api(manager).get(f"/api/tickets/{ticket.pk}/sla/").json()["clocks"]
    uc = next(c for c in clocks if c["metric"] == "uc")
    assert uc["label"] == "Vendor Acme Printers (UC)" and uc["scope"] == vendor.pk


def test_agent_of_the_tier_reads_the_clocks_and_unknown_ticket_is_404(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    assert api(agent).get(f"/api/tickets/{ticket.pk}/sla/").status_code == 200
    assert_json_error(api(agent).get("/api/tickets/99999999/sla/"), 404)


def test_clocks_endpoint_query_count_does_not_grow(db, django_assert_num_queries):
    manager = factories.make_manager()
    ticket = factories.make_ticket(impact="high", urgency="high")
    client = api(manager)
    client.get(f"/api/tickets/{ticket.pk}/sla/")  # the user's roles are cached after the first request
    with CaptureQueriesContext(connection) as few:
        client.get(f"/api/tickets/{ticket.pk}/sla/")
    agent = factories.make_agent(1, 2)
    for note in ("one", "two"):
        services.escalate_ticket(ticket_id=ticket.pk, by=factories.make_agent(1, 2), reason=note)
        services.deescalate_ticket(ticket_id=ticket.pk, by=agent, reason=note)
    sweep(now=timezone.now() + timedelta(days=30))
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(f"/api/tickets/{ticket.pk}/sla/").json()["clocks"]) > 4


# --------------------------------------------------------------------------- who manages calendars and policies


def _requests() -> list[tuple[str, str, dict | None]]:
    calendar, policy = office(), default_policy()
    spare = BusinessCalendar.objects.create(name="Spare", timezone="UTC", always_open=True)
    other = Policy.objects.create(name="Other", calendar=calendar, position=10)
    Target.objects.create(policy=other, metric="resolution", priority=1, seconds=3600)
    return [
        ("get", "/api/sla/calendars/", None),
        ("get", f"/api/sla/calendars/{calendar.pk}/", None),
        ("post", "/api/sla/calendars/", calendar_body()),
        ("put", f"/api/sla/calendars/{calendar.pk}/", calendar_body(name="Office hours")),
        ("patch", f"/api/sla/calendars/{calendar.pk}/", {"timezone": "Europe/Paris"}),
        ("delete", f"/api/sla/calendars/{spare.pk}/", None),
        ("get", "/api/sla/policies/", None),
        ("get", f"/api/sla/policies/{policy.pk}/", None),
        ("post", "/api/sla/policies/", policy_body()),
        ("put", f"/api/sla/policies/{other.pk}/", policy_body(name="Other")),
        ("patch", f"/api/sla/policies/{policy.pk}/", {"warning_percent": 60}),
        ("post", f"/api/sla/policies/{other.pk}/move/", {"direction": "down"}),
        ("delete", f"/api/sla/policies/{other.pk}/", None),
    ]


def _call(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize("role", ["anonymous", "requester", "agent", "vendor"])
def test_only_managers_use_the_calendar_and_policy_endpoints(db, role):
    client = api(None if role == "anonymous" else ROLE_MAKERS[role]())
    requests = _requests()
    before = snapshot()
    for method, url, body in requests:
        response = _call(client, method, url, body)
        assert_json_error(response, 401 if role == "anonymous" else 403)
    assert snapshot() == before


def test_managers_use_every_endpoint_and_each_change_bumps_the_version(db):
    client = api(factories.make_manager())
    requests = _requests()
    # The seeded default has a target on the "24x7" calendar: move "Other" below a second policy first.
    Policy.objects.create(name="Last", calendar=office(), position=20)
    for method, url, body in requests:
        version = settings_version()
        response = _call(client, method, url, body)
        assert response.status_code in (200, 201, 204), (method, url, response.content)
        assert (settings_version() != version) == (method != "get"), (method, url)


# --------------------------------------------------------------------------- calendars


@pytest.fixture
def manager_api(db):
    return api(factories.make_manager())


def test_create_and_read_a_calendar(manager_api):
    response = manager_api.post("/api/sla/calendars/", calendar_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Support Berlin" and body["timezone"] == "Europe/Berlin"
    assert body["intervals"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}
    assert body["holidays"] == [{"day": "2026-12-25", "name": "Christmas", "yearly": True}]
    assert body["used_by"] == []
    listed = {c["name"]: c for c in manager_api.get("/api/sla/calendars/").json()}
    assert listed["Office hours"]["used_by"] == ["Standard"]
    assert listed["24x7"]["used_by"] == ["Standard"]  # through the P1 targets
    assert "Support Berlin" in listed


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            calendar_body(
                intervals=[
                    {"weekday": 0, "start": "22:00", "end": "06:00"},
                    {"weekday": 1, "start": "05:30", "end": "09:00"},
                ]
            ),
            "intervals",
            "Working interval Monday 22:00-06:00 overlaps Tuesday 05:30-09:00.",
        ),
        (calendar_body(timezone="Mars/Olympus_Mons"), "timezone", "Unknown time zone 'Mars/Olympus_Mons'."),
        (calendar_body(intervals=[]), "intervals", "The calendar has no working time"),
        (calendar_body(name="Office hours"), "name", "A calendar named “Office hours” already exists."),
        (
            calendar_body(intervals=[{"weekday": 7, "start": "09:00", "end": "10:00"}]),
            "intervals",
            "not a valid choice",
        ),
        (
            calendar_body(intervals=[{"weekday": 1, "start": "9am", "end": "10:00"}]),
            "intervals",
            "Time has wrong format",
        ),
    ],
    ids=["overnight-overlap", "bad-zone", "no-time", "name-taken", "weekday", "time"],
)
def test_invalid_calendar_is_a_400_naming_the_field(manager_api, body, field, message):
    before = snapshot()
    response = manager_api.post("/api/sla/calendars/", body, format="json")
    errors = assert_json_error(response, 400)["errors"]
    assert message in str(errors[field])
    assert snapshot() == before


def test_patch_changes_only_what_is_sent(manager_api):
    calendar = office()
    response = manager_api.patch(f"/api/sla/calendars/{calendar.pk}/", {"timezone": "Asia/Kolkata"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["timezone"] == "Asia/Kolkata"
    assert len(response.json()["intervals"]) == 5
    assert WorkingInterval.objects.filter(calendar=calendar).count() == 5


def test_invalid_patch_leaves_the_calendar_unchanged(manager_api):
    calendar = office()
    before = snapshot()
    overlapping = [{"weekday": 2, "start": "08:00", "end": "12:00"}, {"weekday": 2, "start": "11:00", "end": "13:00"}]
    response = manager_api.patch(f"/api/sla/calendars/{calendar.pk}/", {"intervals": overlapping}, format="json")
    assert "overlaps" in str(assert_json_error(response, 400)["errors"]["intervals"])
    assert snapshot() == before


def test_unknown_and_read_only_keys_are_named(manager_api):
    before = snapshot()
    response = manager_api.post("/api/sla/calendars/", calendar_body(used_by=["x"], colour="red"), format="json")
    body = assert_json_error(response, 400)
    assert body["read_only"] == ["used_by"] and body["unknown"] == ["colour"]
    assert snapshot() == before


def test_a_calendar_in_use_cannot_be_deleted(manager_api):
    before = snapshot()
    for calendar in (office(), BusinessCalendar.objects.get(name="24x7")):
        body = assert_json_error(manager_api.delete(f"/api/sla/calendars/{calendar.pk}/"), 400)
        assert "is in use by the policy “Standard” and cannot be deleted" in body["detail"]
    assert snapshot() == before


def test_unknown_calendar_is_a_json_404(manager_api):
    assert_json_error(manager_api.get("/api/sla/calendars/9999999/"), 404)
    assert_json_error(manager_api.delete("/api/sla/calendars/9999999/"), 404)


# --------------------------------------------------------------------------- policies


def test_create_a_policy_and_read_it(manager_api):
    always = BusinessCalendar.objects.get(name="24x7")
    body = policy_body()
    body["targets"][0]["calendar"] = always.pk
    response = manager_api.post("/api/sla/policies/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "Hardware" and data["is_default"] is False and data["channel"] == "email"
    assert data["pause_statuses"] == ["pending_requester", "pending_vendor"]
    targets = {(t["metric"], t["priority"], t["tier"]): t for t in data["targets"]}
    assert targets[("first_response", 1, 0)] | {} == {
        "metric": "first_response",
        "priority": 1,
        "tier": 0,
        "minutes": 15,
        "seconds": 900,
        "calendar": always.pk,
    }
    assert targets[("ola", 2, 2)]["seconds"] == 7200
    names = [p["name"] for p in manager_api.get("/api/sla/policies/").json()]
    assert names == ["Hardware", "Standard"]  # matching order, the default last


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ([{"metric": "resolution", "priority": 1, "minutes": 0}], "greater than or equal to 1"),
        ([{"metric": "resolution", "priority": 1, "minutes": -30}], "greater than or equal to 1"),
        ([], "Give the policy at least one target."),
        ([{"metric": "ola", "priority": 1, "minutes": 60}], "OLA targets need tier 1, 2 or 3"),
        ([{"metric": "resolution", "priority": 1, "tier": 2, "minutes": 60}], "OLA targets need tier 1, 2 or 3"),
        (
            [
                {"metric": "resolution", "priority": 1, "minutes": 60},
                {"metric": "resolution", "priority": 1, "minutes": 9},
            ],
            "Each target may appear once",
        ),
        ([{"metric": "resolution", "priority": 5, "minutes": 60}], "not a valid choice"),
    ],
)
def test_invalid_targets_are_a_400(manager_api, targets, message):
    before = snapshot()
    response = manager_api.post("/api/sla/policies/", policy_body(targets=targets), format="json")
    errors = assert_json_error(response, 400)["errors"]
    assert message in str(errors["targets"])
    assert snapshot() == before


def test_the_default_cannot_be_undefaulted_or_deleted(manager_api):
    policy = default_policy()
    before = snapshot()
    response = manager_api.patch(f"/api/sla/policies/{policy.pk}/", {"is_default": False}, format="json")
    assert "There must always be a default policy" in str(assert_json_error(response, 400)["errors"]["is_default"])
    body = assert_json_error(manager_api.delete(f"/api/sla/policies/{policy.pk}/"), 400)
    assert "is the default policy and cannot be deleted" in body["detail"]
    assert snapshot() == before


def test_put_without_the_flag_keeps_the_default(manager_api):
    policy = default_policy()
    response = manager_api.put(f"/api/sla/policies/{policy.pk}/", policy_body(name="Standard"), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["is_default"] is True
    assert Policy.objects.filter(is_default=True).count() == 1


def test_a_new_default_takes_the_flag(manager_api):
    old = default_policy()
    response = manager_api.post("/api/sla/policies/", policy_body(is_default=True), format="json")
    assert response.status_code == 201, response.content
    assert list(Policy.objects.filter(is_default=True).values_list("name", flat=True)) == ["Hardware"]
    old.refresh_from_db()
    assert not old.is_default
    assert manager_api.delete(f"/api/sla/policies/{old.pk}/").status_code == 204


def test_move_policies(manager_api):
    a = Policy.objects.create(name="A", calendar=office(), position=10)
    Policy.objects.create(name="B", calendar=office(), position=20)
    response = manager_api.post(f"/api/sla/policies/{a.pk}/move/", {"direction": "down"}, format="json")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["B", "A", "Standard"]
    before = snapshot()
    body = assert_json_error(
        manager_api.post(f"/api/sla/policies/{a.pk}/move/", {"direction": "down"}, format="json"), 400
    )
    assert "cannot move further down" in body["detail"]
    default = default_policy()
    assert_json_error(
        manager_api.post(f"/api/sla/policies/{default.pk}/move/", {"direction": "up"}, format="json"), 400
    )
    assert_json_error(manager_api.post(f"/api/sla/policies/{a.pk}/move/", {"direction": "left"}, format="json"), 400)
    assert snapshot() == before


def test_patch_a_policy_keeps_what_is_not_sent(manager_api):
    policy = default_policy()
    count = policy.targets.count()
    response = manager_api.patch(f"/api/sla/policies/{policy.pk}/", {"warning_percent": 50}, format="json")
    assert response.status_code == 200, response.content
    policy.refresh_from_db()
    assert policy.warning_percent == 50 and policy.is_default and policy.targets.count() == count
    body = assert_json_error(
        manager_api.patch(f"/api/sla/policies/{policy.pk}/", {"warning_percent": 100}, format="json"), 400
    )
    assert "warning_percent" in body["errors"]


# --------------------------------------------------------------------------- query counts and schema


def test_list_endpoints_query_counts_do_not_grow(manager_api, django_assert_num_queries):
    counts = {}
    manager_api.get("/api/sla/calendars/")  # the user's roles are cached after the first request
    for url in ("/api/sla/calendars/", "/api/sla/policies/"):
        with CaptureQueriesContext(connection) as queries:
            assert manager_api.get(url).status_code == 200
        counts[url] = len(queries.captured_queries)
    for n in range(5):
        calendar = BusinessCalendar.objects.create(name=f"Calendar {n}", timezone="UTC", always_open=True)
        policy = Policy.objects.create(name=f"Policy {n}", calendar=calendar, position=n)
        Target.objects.create(policy=policy, metric="resolution", priority=1, seconds=3600, calendar=calendar)
    for url, count in counts.items():
        with django_assert_num_queries(count):
            manager_api.get(url)


def test_openapi_schema_documents_the_sla_endpoints(db):
    from io import StringIO

    from django.core.management import call_command

    err = StringIO()
    call_command("spectacular", "--validate", "--file", "/dev/null", stderr=err)
    assert "sla" not in err.getvalue().lower()
    assert "collision" not in err.getvalue()
    paths = api(factories.make_agent(1)).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in (
        "/api/tickets/{id}/sla/",
        "/api/sla/calendars/",
        "/api/sla/calendars/{id}/",
        "/api/sla/policies/",
        "/api/sla/policies/{id}/",
        "/api/sla/policies/{id}/move/",
    ):
        assert path in paths
