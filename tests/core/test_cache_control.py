"""``Cache-Control: private, no-store`` on every answer that depends on the user (PrivateCacheMiddleware).

Pages and API answers are fetched as each role, signed in by session and by API token; anonymous
answers that do not depend on anyone (static files, /healthz, the schema) are left cacheable.
"""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

ROLES = {
    "requester": factories.make_requester,
    "agent": lambda: factories.make_agent(1),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}


def _directives(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def _private(response) -> bool:
    return {"private", "no-store"} <= _directives(response)


@pytest.mark.parametrize("role", ROLES)
def test_signed_in_pages_are_private_for_every_role(role):
    user = ROLES[role]()
    ticket = factories.make_ticket(requester=user if role == "requester" else None)
    client = Client()
    client.force_login(user)
    urls = ["/", "/kb/", f"/tickets/{ticket.pk}/"]
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code in (200, 404), url
        assert _private(response), (url, response.get("Cache-Control"))
    # An error answer to a signed-in user is personal too (it says what they may not see).
    assert _private(client.get("/tickets/999999999/"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("auth", ["session", "token"])
def test_api_answers_are_private_for_every_role(role, auth):
    user = ROLES[role]()
    ticket = factories.make_ticket(requester=user if role == "requester" else None)
    client = APIClient()
    if auth == "session":
        client.force_login(user)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    for url in ("/api/tickets/", f"/api/tickets/{ticket.pk}/", f"/api/tickets/{ticket.pk}/events/"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert _private(response), (url, response.get("Cache-Control"))


def test_a_wrong_token_answer_is_private_too():
    response = APIClient().get("/api/tickets/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401
    assert _private(response)


def test_a_view_that_sets_its_own_cache_control_keeps_it(requester, tmp_path, settings):
    """Attachment downloads choose their own header; the middleware does not add to it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    ticket = factories.make_ticket(requester=requester, uploads=[upload])
    attachment = ticket.attachments.get()
    client = Client()
    client.force_login(requester)
    response = client.get(f"/tickets/{ticket.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_anonymous_public_answers_stay_cacheable(settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client = Client()  # a new client builds its middleware with these settings
    static = client.get("/static/core/favicon.svg")
    assert static.status_code == 200
    assert "max-age" in static["Cache-Control"]
    assert "private" not in _directives(static) and "no-store" not in _directives(static)
    # Asks nothing of the session: the same redirect for everyone, so a cache may keep it.
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301
    assert "Cache-Control" not in favicon and "Cookie" not in favicon.get("Vary", "")


def test_anonymous_answer_that_varies_on_cookie_is_private():
    """The sign-in page carries a CSRF token tied to the visitor's cookie: never shared."""
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert "Cookie" in response["Vary"]
    assert _private(response)
