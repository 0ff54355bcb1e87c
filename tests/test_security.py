"""Security baseline: headers, redirects, no state change on GET, error pages and login lockout."""

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.db.models import Sum
from django.test import Client

from tests import factories

LOGIN_URL = "/accounts/login/"
LOCKOUT_TEXT = "Too many failed log-in attempts"


def _csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0]] = tokens[1:]
    return directives


def _log_in(client, username, password, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --------------------------------------------------------------------------- headers


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN_URL, "/healthz"])
def test_security_headers(client, url):
    response = client.get(url)

    assert response.status_code in (200, 503)  # /healthz is 503 without heartbeats, headers still apply
    assert "Content-Security-Policy" in response
    csp = _csp(response)
    assert "script-src" in csp
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Permissions-Policy"]


@pytest.mark.django_db
def test_hsts_with_production_values_on_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = False

    secure = client.get(LOGIN_URL, secure=True)
    plain = client.get(LOGIN_URL)

    assert secure.status_code == 200
    assert "max-age=31536000" in secure["Strict-Transport-Security"]
    assert "includeSubDomains" in secure["Strict-Transport-Security"]
    # HSTS over plain HTTP means nothing and is left out.
    assert "Strict-Transport-Security" not in plain


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN_URL, "/healthz", "/api/schema/"])
def test_no_cors_headers_for_a_foreign_origin(client, url):
    origin = {"HTTP_ORIGIN": "https://evil.example"}

    for response in (client.get(url, **origin), client.options(url, **origin)):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
def test_lockout_json_answer_has_no_cors_wildcard(client, requester):
    """axes answers an XMLHttpRequest lockout in JSON, with AXES_ALLOWED_CORS_ORIGINS (default '*') as ACAO."""
    xhr = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ORIGIN": "https://evil.example"}
    for _ in range(5):
        response = _log_in(client, requester.username, "wrong-password", **xhr)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.get("Access-Control-Allow-Origin") != "*"
    assert response.get("Access-Control-Allow-Origin") != "https://evil.example"


# --------------------------------------------------------------------------- next= after login


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/steal", "//evil.example", "//evil.example/steal", "http://evil.example", "/\\evil.example"],
)
def test_login_refuses_an_offsite_next(client, requester, next_url):
    response = client.post(
        LOGIN_URL, {"username": requester.username, "password": factories.PASSWORD, "next": next_url}
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert response["Location"] == "/"
    assert _is_logged_in(client)
    # "/" then sends the user to their role's page.
    assert client.get("/")["Location"] == "/portal/"


@pytest.mark.django_db
def test_login_honours_a_same_site_next(client, agent):
    # An agent would land on /queues/, so reaching /portal/ shows next= was used.
    response = client.post(LOGIN_URL, {"username": agent.username, "password": factories.PASSWORD, "next": "/portal/"})

    assert response.status_code == 302
    assert response["Location"] == "/portal/"


@pytest.mark.django_db
def test_login_form_does_not_carry_an_offsite_next(client):
    response = client.get(LOGIN_URL, {"next": "https://evil.example/steal"})

    assert response.status_code == 200
    assert "evil.example" not in response.content.decode()


# --------------------------------------------------------------------------- no state change on GET


@pytest.mark.django_db
def test_get_logout_is_refused_and_keeps_the_session(client, requester):
    client.force_login(requester)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert _is_logged_in(client)
    home = client.get("/")
    assert home.status_code == 302
    assert not home["Location"].startswith(LOGIN_URL)


@pytest.mark.django_db
def test_get_password_change_does_not_change_the_password(client, requester):
    client.force_login(requester)
    new = "Fresh-lantern-7-orbit"

    response = client.get(
        "/accounts/password_change/",
        {"old_password": factories.PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 200
    requester.refresh_from_db()
    assert requester.check_password(factories.PASSWORD)
    assert not requester.check_password(new)


@pytest.mark.django_db
def test_get_password_reset_sends_no_mail(client, requester, mailoutbox):
    response = client.get("/accounts/password_reset/", {"email": requester.email})

    assert response.status_code == 200
    assert mailoutbox == []


# --------------------------------------------------------------------------- error pages


def _assert_no_leak(body: str, settings) -> None:
    assert "Traceback" not in body
    assert 'File "' not in body
    assert "secret-marker" not in body
    assert settings.SECRET_KEY not in body
    assert "Using the URLconf" not in body
    assert "urlpatterns" not in body
    assert "DJANGO_SETTINGS_MODULE" not in body


@pytest.mark.django_db
def test_500_page_shows_no_traceback_or_secret(settings):
    settings.ROOT_URLCONF = "tests.urls_errors"
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    _assert_no_leak(response.content.decode(), settings)


@pytest.mark.django_db
def test_404_page_shows_no_debug_listing(client, settings):
    settings.ROOT_URLCONF = "tests.urls_errors"
    settings.DEBUG = False

    response = client.get("/nope-404/")

    assert response.status_code == 404
    body = response.content.decode()
    _assert_no_leak(body, settings)
    assert "boom/" not in body


@pytest.mark.django_db
def test_api_refuses_anonymous_with_a_json_detail(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


# --------------------------------------------------------------------------- login brute force


@pytest.mark.django_db
def test_lockout_after_five_failures_refuses_the_right_password(client, requester, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(1, 5):
        response = _log_in(client, requester.username, f"wrong-{attempt}")
        assert response.status_code == 200, attempt  # the form again, with its error
    fifth = _log_in(client, requester.username, "wrong-5")
    assert fifth.status_code == 429

    response = _log_in(client, requester.username, factories.PASSWORD)

    assert response.status_code == 429
    assert LOCKOUT_TEXT in response.content.decode()
    assert not _is_logged_in(client)
    assert client.get("/")["Location"].startswith(LOGIN_URL)


@pytest.mark.django_db
def test_lockout_by_address_covers_other_usernames(client, requester, other_requester):
    """Five failures spread over made-up usernames from one address lock that address for everyone."""
    for attempt in range(5):
        _log_in(client, f"guess{attempt}", "wrong-password")

    response = _log_in(client, other_requester.username, factories.PASSWORD)

    assert response.status_code == 429
    assert LOCKOUT_TEXT in response.content.decode()
    assert not _is_logged_in(client)


@pytest.mark.django_db
def test_lockout_by_username_covers_other_addresses(client, requester):
    """Five failures for one username, each from another address, lock the username everywhere."""
    for attempt in range(5):
        _log_in(client, requester.username, "wrong-password", REMOTE_ADDR=f"10.0.0.{attempt + 1}")

    response = _log_in(client, requester.username, factories.PASSWORD, REMOTE_ADDR="10.0.0.99")

    assert response.status_code == 429
    assert not _is_logged_in(client)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _Browser:
    """One visitor with its own cookie jar, talking to the live server over HTTP."""

    def __init__(self, base_url: str, follow_redirects: bool = True, cookies: CookieJar | None = None):
        self.base_url = base_url
        self.cookies = cookies if cookies is not None else CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies)]
        if not follow_redirects:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, final URL, body) of a GET, or of a POST when ``data`` is given."""
        url = self.base_url + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"Referer": url})  # noqa: S310 (live test server)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.url, error.read().decode()

    def csrf_token(self) -> str:
        status, _, page = self.request(LOGIN_URL)
        assert status == 200
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]

    def cookie_names(self) -> set[str]:
        return {cookie.name for cookie in self.cookies}


def test_lockout_holds_under_concurrent_attempts(transactional_db, live_server):
    user = factories.make_requester()
    burst = 12
    browsers = [_Browser(live_server.url) for _ in range(burst)]
    tokens = [browser.csrf_token() for browser in browsers]
    start = threading.Barrier(burst)

    def wrong_password(index: int) -> int:
        start.wait(timeout=30)
        status, _, _ = browsers[index].request(
            LOGIN_URL,
            {"username": user.username, "password": f"wrong-{index}", "csrfmiddlewaretoken": tokens[index]},
        )
        return status

    with ThreadPoolExecutor(max_workers=burst) as pool:
        statuses = list(pool.map(wrong_password, range(burst)))

    assert set(statuses) <= {200, 429}, statuses
    assert 429 in statuses  # at least the last failures were answered with the lockout page
    recorded = AccessAttempt.objects.filter(username=user.username).aggregate(total=Sum("failures_since_start"))
    assert recorded["total"] >= 5
    assert AccessFailureLog.objects.filter(username=user.username).count() == burst

    # Now the right password, from a fresh visitor: still refused, no session.
    browser = _Browser(live_server.url, follow_redirects=False)
    token = browser.csrf_token()
    status, _, page = browser.request(
        LOGIN_URL, {"username": user.username, "password": factories.PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert status == 429
    assert LOCKOUT_TEXT in page
    assert "sessionid" not in browser.cookie_names()
    status, _, _ = browser.request("/")
    assert status == 302  # to the login page: not signed in
    # Following that redirect with the same cookies ends on the login page.
    _, final_url, _ = _Browser(live_server.url, cookies=browser.cookies).request("/")
    assert urllib.parse.urlparse(final_url).path == LOGIN_URL
