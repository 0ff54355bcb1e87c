"""The OpenAPI schema tells the truth for every role: schemathesis checks the answers against it.

For a requester, a tier-1 agent, a manager and a vendor contact (token authentication), every
operation of ``/api/schema/`` is called through the WSGI application with data schemathesis
generates from the schema: valid data, once with generated path ids (mostly 404s) and once
with the ids of real objects the role may see (so the 2xx answers are checked too), and, as
the manager, invalid data (which must be refused with a documented 4xx). Any 5xx,
undocumented status code, wrong content type or body that does not match its schema fails the
test, naming every failing operation.

The number of examples is bounded and derandomized, so the run is the same on every machine
and takes 1-2 minutes for the four roles on a busy 2-core machine (``SCHEMATHESIS_EXAMPLES``
raises it for a deeper local run).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from knowledgebase.models import Visibility
from tests import factories
from tests.knowledgebase.conftest import publish
from tickets import services
from tickets.models import Tier

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ROLES = ["requester", "agent", "manager", "vendor_contact"]


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, sharing the test's database connection like Django's test client."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def desk(transactional_db, settings):
    """People of every role and objects each of them may see: tickets, an article, SLA settings."""
    # Rate limits are not what this test is about (they have their own tests); a generous limit
    # keeps generated bursts from being refused with 429.
    settings.RATE_LIMITS = {
        action: dict.fromkeys(scopes, "100000/60") for action, scopes in settings.RATE_LIMITS.items()
    }
    vendor = factories.VendorFactory(name="Acme Printers")
    people = {
        "requester": factories.make_requester(username="rita"),
        "agent": factories.make_agent(Tier.T1, username="alex"),
        "manager": factories.make_manager(username="maya"),
        "vendor_contact": factories.make_vendor_contact(vendor, username="victor"),
    }
    own = factories.make_ticket(people["requester"], subject="VPN drops every hour")
    at_vendor = factories.make_ticket(people["requester"], subject="Printer firmware")
    services.escalate_ticket(
        ticket_id=at_vendor.pk, by=people["manager"], reason="Firmware bug", to_tier=Tier.T4, vendor=vendor
    )
    article = publish(people["agent"], people["manager"], title="Reset your VPN password", visibility=Visibility.PUBLIC)
    return {"people": people, "tickets": {"own": own, "at_vendor": at_vendor}, "article": article}


def _fixed_ids(desk: dict, role: str, path: str) -> dict:
    """Path ids of objects the role may see, for the operations of ``path``."""
    ticket = desk["tickets"]["at_vendor" if role == "vendor_contact" else "own"]
    if path.startswith("/api/tickets/{id}"):
        return {"id": ticket.pk}
    if path.startswith("/api/kb/articles/{id}"):
        return {"id": desk["article"].pk}
    return {}


def _run(operation, *, mode: GenerationMode, headers: dict, path_parameters: dict) -> str | None:
    """Calls ``operation`` with up to EXAMPLES generated cases; the first failure's report, or None."""
    checks = [*RESPONSE_CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else RESPONSE_CHECKS
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def call(case):
        case.call_and_validate(headers=headers, checks=checks)

    try:
        call()
    except (Exception, BaseExceptionGroup) as failure:  # check failures are a BaseExceptionGroup
        report = "\n".join(str(failure).splitlines()[:60])  # the check, the schema and the answer
        return f"{operation.label} [{mode.value}, ids {path_parameters or 'generated'}]: {report}"
    return None


def _has_input(operation, fixed: dict) -> bool:
    """Whether ``operation`` takes anything besides the fixed path ids (else there is nothing to make invalid)."""
    generated_path = [p for p in operation.path_parameters if p.name not in fixed]
    return bool(operation.body) or bool(list(operation.query)) or bool(generated_path)


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_matches_the_openapi_schema(role, desk, wsgi_app):
    user = desk["people"][role]
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, headers=headers)

    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50  # the whole API, not an empty or partial schema
    for operation in operations:
        fixed = _fixed_ids(desk, role, operation.path)
        runs = [(GenerationMode.POSITIVE, {})]
        if fixed:
            runs.append((GenerationMode.POSITIVE, fixed))
        # Invalid input is refused alike for every role (or refused sooner, 403/404): one role
        # whose permissions let it reach the validation is enough.
        if role == "manager" and _has_input(operation, fixed):
            runs.append((GenerationMode.NEGATIVE, fixed))
        for mode, ids in runs:
            failure = _run(operation, mode=mode, headers=headers, path_parameters=ids)
            if failure:
                failures.append(failure)

    assert not failures, f"{len(failures)} schema violations as {role}:\n\n" + "\n\n".join(failures)


# --------------------------------------------------------------------------- what the schema says, directly


@pytest.fixture
def openapi(client, requester) -> dict:
    client.force_login(requester)
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


@pytest.mark.django_db
def test_fields_only_some_readers_get_are_not_required(openapi):
    components = openapi["components"]["schemas"]

    assert {"priority_reason", "sla_due_at", "sla_breached"}.isdisjoint(components["Ticket"]["required"])
    assert {"status", "draft", "created_by"}.isdisjoint(components["Article"]["required"])
    assert {"id", "subject", "status", "requester"} <= set(components["Ticket"]["required"])
    assert components["Ticket"]["properties"]["priority_reason"]["readOnly"] is True


@pytest.mark.django_db
def test_times_channels_and_notes_are_described_as_the_api_reads_them(openapi):
    components = openapi["components"]["schemas"]

    interval = components["Interval"]["properties"]
    assert "format" not in interval["start"]
    assert interval["start"]["pattern"] == r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
    channel = components["Policy"]["properties"]["channel"]
    assert any(
        "" in components[alternative["$ref"].rsplit("/", 1)[1]].get("enum", [])
        for alternative in channel.get("oneOf", [])
    )
    for component, field in [
        ("EscalateInput", "reason"),
        ("DeescalateInput", "reason"),
        ("ResolveInput", "resolution_note"),
        ("ReasonInput", "reason"),
        ("MessageInput", "body"),
        ("NoteInput", "note"),
    ]:
        assert components[component]["properties"][field]["minLength"] == 1, component


@pytest.mark.django_db
def test_every_error_answer_is_documented_with_the_error_body(openapi):
    undocumented = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"401"}
            if "{" in path:
                expected.add("404")
            if method in {"post", "put", "patch", "delete"}:
                expected |= {"400", "409", "413", "415", "429"}
            missing = expected - set(responses)
            bodiless = [
                code
                for code, response in responses.items()
                if code.startswith("4")
                and response.get("content", {}).get("application/json", {}).get("schema")
                != {"$ref": "#/components/schemas/Error"}
            ]
            if missing or bodiless:
                undocumented.append(f"{method.upper()} {path}: missing {sorted(missing)}, no error body {bodiless}")

    assert not undocumented, undocumented
    assert openapi["components"]["schemas"]["Error"]["required"] == ["detail"]


@pytest.mark.django_db
def test_a_blank_note_still_gets_the_services_message(client, agent):
    ticket = factories.make_ticket()
    client.force_login(agent)

    response = client.post(f"/api/tickets/{ticket.pk}/escalate/", {"reason": "  "}, content_type="application/json")

    assert response.status_code == 400
    assert "escalation note" in response.json()["detail"].lower()


@pytest.mark.django_db
def test_an_empty_filter_is_the_same_as_none(client, manager):
    """What ``allowEmptyValue`` promises, for every filter of every GET: ``?f=`` answers as if absent."""
    ticket = factories.make_ticket()
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    differ, checked = [], 0
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        url = path.replace("{id}", str(ticket.pk)).replace("{key}", "fcr").replace("{name}", "backlog")
        base = client.get(url)
        for parameter in operation.get("parameters", []):
            if parameter.get("allowEmptyValue"):
                checked += 1
                empty = client.get(url, {parameter["name"]: ""})
                if empty.status_code != base.status_code:
                    differ.append(f"{path}?{parameter['name']}=: {empty.status_code}, without: {base.status_code}")

    assert not differ, differ
    assert checked >= 8  # the KPI filters, at least
