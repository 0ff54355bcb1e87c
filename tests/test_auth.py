"""Log in, log out, change a password, and reset a forgotten one by e-mail (tier 0 self-service)."""

import re
from html.parser import HTMLParser

import pytest

from tests import factories

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
