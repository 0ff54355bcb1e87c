"""Every error under /api/ is JSON ``{"detail": ...}`` with a 4xx (or a bare 500), never an HTML page.

Walks the class of bad bodies (too deep, not UTF-8, unknown charset, wrong content type,
truncated, too large) against an anonymous endpoint and an authenticated one, and the errors
raised outside DRF's views (unknown URL, wrong method, crashes) through ``tests.urls_errors``.
Nothing a refused request sent is stored.
"""

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from helpdesk.core.parsers import JSON_MAX_DEPTH
from tests import factories
from tickets.models import Ticket

SECRET = "secret-marker"


@pytest.fixture
def api(requester):
    """A client signed in by token as a requester, like an API script."""
    token = Token.objects.create(user=requester)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}", raise_request_exception=False)


@pytest.fixture
def errors_urls(settings):
    settings.ROOT_URLCONF = "tests.urls_errors"
    settings.DEBUG = False


def _assert_json_error(response, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("detail"), str)
    assert body["detail"]
    text = response.content.decode()
    assert SECRET not in text
    assert "Traceback" not in text
    return body


def _deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _deep_field(depth: int) -> str:
    # A well-formed ticket whose one field nests deeply.
    return json.dumps({"subject": "x", "description": "y"})[:-1] + ', "category": ' + _deep_array(depth) + "}"


BAD_JSON_BODIES = {
    "array 10,000 deep": (_deep_array(10_000), 400),
    "object 10,000 deep": (_deep_object(10_000), 400),
    "field 10,000 deep": (_deep_field(10_000), 400),
    "array just past the limit": (_deep_array(JSON_MAX_DEPTH + 1), 400),
    "object 500 deep (parses, then refused)": (_deep_object(500), 400),
    "truncated": ('{"subject": "printer", "description": "jam', 400),
    "not JSON at all": ("subject=printer", 400),
    "NaN": ('{"subject": NaN}', 400),
    "a 5,000-digit number": ('{"subject": ' + "9" * 5000 + "}", 400),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_JSON_BODIES)
def test_bad_json_to_the_token_endpoint_is_a_json_400(case):
    body, status = BAD_JSON_BODIES[case]
    client = Client(raise_request_exception=False)

    response = client.post("/api/auth/token/", body, content_type="application/json")

    _assert_json_error(response, status)


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_JSON_BODIES)
def test_bad_json_to_ticket_creation_is_a_json_400_and_stores_nothing(api, case):
    body, status = BAD_JSON_BODIES[case]

    response = api.post("/api/tickets/", body, content_type="application/json")

    _assert_json_error(response, status)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_nesting_up_to_the_limit_is_parsed_and_judged_by_the_serializer(api):
    body = _deep_field(JSON_MAX_DEPTH - 1)

    response = api.post("/api/tickets/", body, content_type="application/json")

    body = _assert_json_error(response, 400)
    assert "category" in body["errors"]  # the parser let it through; the field refused it


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b'{"subject": "caf\xe9"}', "application/json", 400, id="invalid UTF-8"),
        pytest.param(b'{"subject": "\xff\xfe"}', "application/json; charset=utf-8", 400, id="invalid UTF-8 declared"),
        pytest.param(b'{"subject": "x"}', "application/json; charset=no-such-charset", 415, id="unknown charset"),
        pytest.param(b'{"subject": "x"}', "text/plain", 415, id="text/plain"),
        pytest.param(b"<ticket/>", "application/xml", 415, id="XML"),
        pytest.param(b'{"subject": "x"}', "application/octet-stream", 415, id="octet-stream"),
        pytest.param(b"--x\r\nbroken", "multipart/form-data", 400, id="multipart without boundary"),
        pytest.param(b"\xff\xfe garbage", "multipart/form-data; boundary=zz", 400, id="multipart garbage"),
        pytest.param(b"subject=%ZZ%&description", "application/x-www-form-urlencoded", 400, id="broken form"),
    ],
)
def test_unreadable_bodies_are_json_4xx_and_store_nothing(api, body, content_type, status):
    response = api.generic("POST", "/api/tickets/", body, content_type=content_type)

    _assert_json_error(response, status)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_json_body_over_the_upload_limit_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"subject": "printer", "description": "x" * 20_000})

    response = api.post("/api/tickets/", body, content_type="application/json")

    _assert_json_error(response, 413)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_the_default_upload_limit_refuses_a_huge_anonymous_body_with_413(settings):
    body = json.dumps({"username": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "password": "y"})

    response = Client(raise_request_exception=False).post("/api/auth/token/", body, content_type="application/json")

    _assert_json_error(response, 413)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=BoUnDaRy"]
)
def test_a_form_body_over_the_limits_is_a_413(settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    if content_type.startswith("multipart"):
        part = '--BoUnDaRy\r\nContent-Disposition: form-data; name="username"\r\n\r\n' + "x" * 2_000 + "\r\n"
        body = part + "--BoUnDaRy--\r\n"
    else:
        body = "&".join(f"f{i}=1" for i in range(500))

    response = Client(raise_request_exception=False).post("/api/auth/token/", body, content_type=content_type)

    _assert_json_error(response, 413)


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*"])
@pytest.mark.parametrize("path", ["/api/nope/", "/api/tickets/999999/", "/api/tickets/not-a-number/", "/api"])
def test_unknown_api_urls_are_json_404s(api, errors_urls, path, accept):
    response = api.get(path, HTTP_ACCEPT=accept, follow=True)

    _assert_json_error(response, 404)


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_html_404(api, errors_urls):
    response = api.get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/tickets/"),
        ("put", "/api/tickets/"),
        ("delete", "/api/auth/token/"),
        ("get", "/api/auth/token/"),
        ("post", "/api/kb/articles/0/"),
    ],
)
def test_wrong_methods_are_json_405s(api, method, path, accept):
    response = getattr(api, method)(path, HTTP_ACCEPT=accept)

    # The token endpoint answers only JSON, so a browser's Accept is refused first (406).
    _assert_json_error(response, (405, 406) if "token" in path else (405, 404))
    if path == "/api/tickets/" or accept == "application/json":
        assert response.status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_drf_errors_are_json_even_for_a_browser(api, accept):
    response = api.post("/api/tickets/", {"subject": ""}, content_type="application/json", HTTP_ACCEPT=accept)

    body = _assert_json_error(response, 400)
    assert "subject" in body["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
@pytest.mark.parametrize("path", ["/api/test-boom/", "/api/test-plain-boom/"])
def test_a_crash_under_the_api_is_a_json_500_without_details(errors_urls, path, accept):
    client = Client(raise_request_exception=False)

    response = client.get(path, HTTP_ACCEPT=accept)

    _assert_json_error(response, 500)


@pytest.mark.django_db
def test_a_crash_after_reading_a_body_is_a_json_500(errors_urls):
    client = Client(raise_request_exception=False)

    response = client.post("/api/test-boom/", {"a": 1}, content_type="application/json")

    _assert_json_error(response, 500)


@pytest.mark.django_db
def test_a_not_found_raised_outside_drf_is_a_json_404_without_its_message(errors_urls):
    response = Client().get("/api/test-plain-404/")

    _assert_json_error(response, 404)


# --------------------------------------------------------------------------- the "API docs" footer link


@pytest.mark.django_db
def test_api_docs_send_a_signed_out_visitor_to_sign_in_and_back(client, requester):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"

    signed_in = client.post(
        response["Location"], {"username": requester.username, "password": factories.PASSWORD}, follow=True
    )

    assert signed_in.redirect_chain[-1][0] == "/api/docs/"
    assert signed_in.status_code == 200
    assert "swagger" in signed_in.content.decode().lower()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["requester", "agent", "manager", "vendor_contact"])
def test_api_docs_and_their_schema_open_for_anyone_signed_in(client, who, request):
    client.force_login(request.getfixturevalue(who))

    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
    assert schema.status_code == 200
    assert "/api/tickets/" in schema.json()["paths"]


# --------------------------------------------------------------------------- bodies that are not objects


def _write_operations(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    return [
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"post", "put", "patch"}
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["null", "[]", "[{}]", '"text"', "1", "true"])
def test_every_write_refuses_a_json_body_that_is_not_an_object(body, manager):
    """Every POST/PUT/PATCH of the schema, on objects the manager may change: a 4xx, nothing written."""
    from knowledgebase.models import Article
    from sla.models import BusinessCalendar, Policy
    from tests.knowledgebase.conftest import publish
    from tickets.models import TicketEvent

    ticket = factories.make_ticket()
    article = publish(factories.make_agent(1), manager)
    ids = {
        "/api/tickets/": ticket.pk,
        "/api/kb/articles/": article.pk,
        "/api/sla/policies/": Policy.objects.values_list("pk", flat=True).first(),
        "/api/sla/calendars/": BusinessCalendar.objects.values_list("pk", flat=True).first(),
    }
    token = Token.objects.create(user=manager)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", raise_request_exception=False)

    def counts() -> tuple[int, ...]:
        return tuple(model.objects.count() for model in (Ticket, TicketEvent, Article, Policy))

    before = counts()

    accepted = []
    for method, path in _write_operations(client):
        prefix = next((p for p in ids if path.startswith(p)), None)
        url = path.replace("{id}", str(ids.get(prefix)))
        response = client.generic(method.upper(), url, body, content_type="application/json")
        if not (400 <= response.status_code < 500 and response["Content-Type"].startswith("application/json")):
            accepted.append(f"{method.upper()} {url}: {response.status_code}")

    assert not accepted, accepted
    assert before == (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Article.objects.count(),
        Policy.objects.count(),
    )


@pytest.mark.django_db
def test_a_page_form_over_the_upload_limit_is_a_413_page_and_stores_nothing(client, requester, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(requester)

    response = client.post("/portal/new/", {"subject": "Printer", "description": "x" * 20_000})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/tickets/", "/api/nope/"])
def test_an_error_raised_by_django_before_any_view_is_json_under_the_api(errors_urls, path):
    response = Client(raise_request_exception=False).get(path, HTTP_HOST="not-our-host.example")

    _assert_json_error(response, 400)  # DisallowedHost, raised by the middleware


@pytest.mark.django_db
@pytest.mark.parametrize("value", [42, -6.2e16, 0.5])
def test_a_number_where_text_is_expected_is_refused(api, value):
    response = api.post("/api/tickets/", {"subject": value, "description": "It jams."}, content_type="application/json")

    body = _assert_json_error(response, 400)
    assert "subject" in body["errors"]
    assert not Ticket.objects.exists()
