"""A refused request (403) is logged as one line on ``helpdesk.refusals``: who, where, why; no traceback.

Covers Django's ``PermissionDenied`` in pages (ticket actions, role-only pages) and DRF's 403
answers (a refused ticket action, an anonymous call), signed in by session and by token.
"""

import logging

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db


def _refusal_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "helpdesk.refusals"]


def _assert_one_line(caplog, *, user: str, path: str, view: str, reason: str) -> None:
    lines = _refusal_lines(caplog)
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    line = lines[0]
    assert line.levelno == logging.WARNING
    assert line.exc_info is None
    message = line.getMessage()
    assert "\n" not in message
    assert message == f"refused user={user} path={path} view={view} reason={reason}"
    # Django's own record (with the traceback) is gone; nothing anywhere carries a traceback.
    assert not [r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.WARNING]
    assert all(r.exc_info is None for r in caplog.records)
    assert "Traceback" not in caplog.text


@pytest.fixture
def caplog(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def test_a_refused_ticket_action_in_a_page_is_one_line(caplog, requester):
    ticket = factories.make_ticket(requester=requester)
    client = Client()
    client.force_login(requester)
    path = f"/tickets/{ticket.pk}/escalate/"
    response = client.post(path, {"reason": "please"})
    assert response.status_code == 403
    _assert_one_line(caplog, user=str(requester.pk), path=path, view="tickets:escalate", reason="permission denied")


@pytest.mark.parametrize("make_user", [factories.make_requester, factories.make_vendor_contact])
def test_a_role_only_page_refused_is_one_line(caplog, make_user):
    user = make_user()
    client = Client()
    client.force_login(user)
    response = client.get("/dashboard/")
    assert response.status_code == 403
    _assert_one_line(
        caplog, user=str(user.pk), path="/dashboard/", view="reports:dashboard", reason="permission denied"
    )


@pytest.mark.parametrize("auth", ["session", "token"])
def test_a_refused_api_action_is_one_line_with_the_detail(caplog, requester, auth):
    ticket = factories.make_ticket(requester=requester)
    client = APIClient()
    if auth == "session":
        client.force_login(requester)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=requester).key}")
    path = f"/api/tickets/{ticket.pk}/escalate/"
    response = client.post(path, {"reason": "please"}, format="json")
    assert response.status_code == 403
    lines = _refusal_lines(caplog)
    assert len(lines) == 1
    message = lines[0].getMessage()
    assert message == (
        f"refused user={requester.pk} path={path} view=tickets_api:ticket-escalate "
        "reason=You do not have permission to perform this action."
    )
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_an_anonymous_api_refusal_names_no_user(caplog):
    """Signed out, the API answers 401 (asks for credentials): not a refusal, Django logs it as before."""
    response = APIClient().post("/api/tickets/", {"subject": "x"}, format="json")
    assert response.status_code == 401
    assert not _refusal_lines(caplog)
    assert [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.WARNING]


def test_a_newline_in_the_path_cannot_forge_a_second_line(caplog, requester):
    """The filter itself, fed the record Django writes for a 403 whose path holds a line break."""
    from django.test import RequestFactory

    from helpdesk.core.refusals import OneLineRefusals

    request = RequestFactory().get("/x/%0Arefused user=1 path=/admin/")
    request.user = requester
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", (), None)
    record.status_code, record.request = 403, request
    assert OneLineRefusals().filter(record) is False  # Django's record is dropped
    (line,) = _refusal_lines(caplog)
    assert "\n" not in line.getMessage()
    assert line.getMessage().startswith(f"refused user={requester.pk} path=/x/\\nrefused")


def test_other_errors_are_still_logged_by_django(caplog, requester):
    client = Client()
    client.force_login(requester)
    assert client.get("/tickets/999999999/").status_code == 404
    assert not _refusal_lines(caplog)
    assert [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.WARNING]
