"""Log in, log out, change a password, and reset a forgotten one by e-mail (tier 0 self-service);
loading the signed-in user of a session or an API token, with their roles."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user, load_backend
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tickets import roles
from tickets.models import VendorContact
from tickets.roles import Role

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
NEW_PASSWORD = "Fresh-lantern-7-orbit"
CSRF_VALUE = re.compile(r'(?<=name="csrf-token" content=")[^"]*|(?<=name="csrfmiddlewaretoken" value=")[^"]*')
RESET_LINK = re.compile(r"https?://[^/\s]+(?P<path>/accounts/reset/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/)")


class _FormFields(HTMLParser):
    """Visible inputs' ids and the ``for`` of every label on a page."""

    def __init__(self):
        super().__init__()
        self.input_ids: list[str | None] = []
        self.label_fors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") not in ("hidden", "submit", "button"):
            self.input_ids.append(attrs.get("id"))
        elif tag == "label" and attrs.get("for"):
            self.label_fors.add(attrs["for"])


def _log_in(client, username, password):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def _without_csrf_tokens(response) -> str:
    """The page with its per-response CSRF token values blanked out."""
    return CSRF_VALUE.sub("", response.content.decode())


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_has_a_label_for_every_field(client):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    fields = _FormFields()
    fields.feed(response.content.decode())
    assert len(fields.input_ids) >= 2  # username and password at least
    for input_id in fields.input_ids:
        assert input_id, "every visible input needs an id for its label"
        assert input_id in fields.label_fors, f"input #{input_id} has no <label for=...>"


def test_right_password_logs_in(client, requester):
    response = _log_in(client, requester.username, factories.PASSWORD)

    assert response.status_code == 302
    assert _is_logged_in(client)
    assert int(client.session["_auth_user_id"]) == requester.pk


def test_wrong_password_shows_an_error_and_opens_no_session(client, requester):
    response = _log_in(client, requester.username, "not-the-password")

    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert response.context["form"].errors
    assert not _is_logged_in(client)


# --------------------------------------------------------------------------- password reset by e-mail


def test_password_reset_by_email(client, requester, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": requester.email})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [requester.email]
    match = RESET_LINK.search(message.body)
    assert match, message.body

    # The link in the mail swaps its token for a session and redirects to the set-password form.
    response = client.get(match["path"], follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is True
    set_password_url = response.redirect_chain[-1][0]
    assert set_password_url.endswith("/set-password/")

    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reset/done/"
    requester.refresh_from_db()
    assert requester.check_password(NEW_PASSWORD)

    client.logout()
    assert _log_in(client, requester.username, factories.PASSWORD).status_code == 200
    assert not _is_logged_in(client)
    assert _log_in(client, requester.username, NEW_PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == requester.pk


def test_password_reset_link_works_only_once(client, requester, mailoutbox):
    client.post("/accounts/password_reset/", {"email": requester.email})
    link = RESET_LINK.search(mailoutbox[0].body)["path"]
    response = client.get(link, follow=True)
    set_password_url = response.redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = client.get(link, follow=True)

    assert again.context["validlink"] is False
    requester.refresh_from_db()
    assert requester.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, requester, mailoutbox):
    known = client.post("/accounts/password_reset/", {"email": requester.email}, follow=True)
    mailoutbox.clear()

    unknown = client.post("/accounts/password_reset/", {"email": "nobody-here@example.com"}, follow=True)

    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain == [("/accounts/password_reset/done/", 302)]
    assert _without_csrf_tokens(unknown) == _without_csrf_tokens(known)
    assert mailoutbox == []


# --------------------------------------------------------------------------- password change


def test_password_change_with_a_wrong_old_password_is_refused(client, requester):
    client.force_login(requester)

    response = client.post(
        "/accounts/password_change/",
        {"old_password": "not-my-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert "Your old password was entered incorrectly" in response.content.decode()
    requester.refresh_from_db()
    assert requester.check_password(factories.PASSWORD)
    assert not requester.check_password(NEW_PASSWORD)


def test_password_change_with_the_right_old_password(client, requester):
    client.force_login(requester)

    response = client.post(
        "/accounts/password_change/",
        {"old_password": factories.PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/done/"
    requester.refresh_from_db()
    assert requester.check_password(NEW_PASSWORD)
    # The session survives its own password change.
    assert client.get("/").status_code == 302
    assert not client.get("/")["Location"].startswith(LOGIN_URL)


def test_password_change_needs_login(client):
    response = client.get("/accounts/password_change/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


# --------------------------------------------------------------------------- logout


def test_logout_by_post_logs_out(client, requester):
    client.force_login(requester)
    assert _is_logged_in(client)

    response = client.post("/accounts/logout/")

    # The "logged out" page, or a redirect to the login page: either way the session is gone.
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].startswith(LOGIN_URL)
    assert not _is_logged_in(client)
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"].startswith(LOGIN_URL)


# --------------------------------------------------------------------------- loading the signed-in user
# Sessions go through Django's ModelBackend and API tokens through DRF's TokenAuthentication;
# the roles are read by tickets.roles the first time a request asks.

STANDARD_BACKEND = "django.contrib.auth.backends.ModelBackend"
OLD_BACKEND = "tickets.authentication.ModelBackend"
EXPECTED_ROLES = {
    "requester": [Role.REQUESTER],
    "agent": [Role.AGENT, Role.REQUESTER],
    "manager": [Role.MANAGER, Role.REQUESTER],
    "vendor_contact": [Role.VENDOR, Role.REQUESTER],
    "admin_user": [Role.ADMIN, Role.MANAGER, Role.REQUESTER],
}


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def _loaded_by_session(client):
    response = client.get("/kb/")
    assert response.status_code == 200
    return response.wsgi_request.user


def _loaded_by_token(client):
    response = client.get("/api/tickets/")
    assert response.status_code == 200
    return response.wsgi_request.user


def test_signing_in_with_a_password_records_djangos_own_backend(client, requester):
    assert _log_in(client, requester.username, factories.PASSWORD).status_code == 302

    assert client.session["_auth_user_backend"] == STANDARD_BACKEND
    assert _loaded_by_session(client).pk == requester.pk


def test_a_session_started_under_the_old_backend_name_stays_signed_in_until_deactivated(client, requester):
    client.force_login(requester, backend=OLD_BACKEND)
    assert client.session["_auth_user_backend"] == OLD_BACKEND

    user = _loaded_by_session(client)
    assert (user.pk, roles.roles_of(user)) == (requester.pk, [Role.REQUESTER])

    requester.is_active = False
    requester.save(update_fields=["is_active"])
    response = client.get("/kb/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_the_old_backend_name_signs_no_one_in(requester):
    credentials = {"username": requester.username, "password": factories.PASSWORD}

    assert load_backend(OLD_BACKEND).authenticate(None, **credentials) is None
    assert load_backend(STANDARD_BACKEND).authenticate(None, **credentials) == requester


def test_a_deactivated_users_session_is_signed_out(client, agent):
    client.force_login(agent)
    assert _loaded_by_session(client).pk == agent.pk

    agent.is_active = False
    agent.save(update_fields=["is_active"])

    response = client.get("/kb/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert not response.wsgi_request.user.is_authenticated


def test_a_deactivated_users_token_is_refused(agent):
    client = _token_client(agent)
    assert _loaded_by_token(client).pk == agent.pk

    agent.is_active = False
    agent.save(update_fields=["is_active"])

    response = client.get("/api/tickets/")
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_a_deleted_users_token_is_refused(requester):
    client = _token_client(requester)
    assert _loaded_by_token(client).pk == requester.pk

    requester.delete()  # the token goes with the user

    response = client.get("/api/tickets/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert not Token.objects.exists()


@pytest.mark.parametrize("who", list(EXPECTED_ROLES))
def test_the_loaded_user_has_their_roles_by_session_and_by_token(who, request, client):
    person = request.getfixturevalue(who)
    client.force_login(person)

    for user in (_loaded_by_session(client), _loaded_by_token(_token_client(person))):
        assert user.pk == person.pk
        assert roles.roles_of(user) == EXPECTED_ROLES[who]
        assert roles.agent_tiers(user) == ({1} if who == "agent" else set())
        vendor = VendorContact.objects.filter(user=person).values_list("vendor_id", flat=True).first()
        assert roles.role_info(user).vendor_id == vendor


def test_roles_are_read_afresh_by_every_request(client, requester):
    client.force_login(requester)
    token_client = _token_client(requester)
    assert not roles.is_manager(_loaded_by_session(client))
    assert not roles.is_manager(_loaded_by_token(token_client))

    requester.groups.add(roles.group(roles.GROUP_MANAGER))

    assert roles.is_manager(_loaded_by_session(client))
    assert roles.is_manager(_loaded_by_token(token_client))


def test_loading_the_user_and_their_roles_takes_two_queries(client, agent):
    user_table = type(agent)._meta.db_table
    client.force_login(agent)
    request = RequestFactory().get("/")
    request.session = client.session
    request.session.load()  # read the session first: it comes from the cache, not the database
    token = Token.objects.create(user=agent)

    with CaptureQueriesContext(connection) as by_session:
        user = get_user(request)
        assert roles.agent_tiers(user) == {1}
    with CaptureQueriesContext(connection) as by_token:
        user, auth = TokenAuthentication().authenticate_credentials(token.key)
        assert (auth, roles.agent_tiers(user)) == (token, {1})

    for queries in (by_session, by_token):
        # The user (with the token, for the API), then the roles; nothing else.
        assert len(queries) == 2
        assert f'"{user_table}"' in queries[0]["sql"]
        assert "tickets_tiermembership" in queries[1]["sql"]
