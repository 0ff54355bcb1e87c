"""Links in mail point at the desk's own address: SITE_URL, which locally follows PORT.

The end-to-end case serves the desk with ``python -m helpdesk.web`` (gunicorn, as ``make run``
does) on a free port that is not 8000, builds a ticket mail in a process started with that
PORT, and follows the mail's link to the ticket page as its requester.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests import factories
from tests.conftest import test_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def desk_env(port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"SITE_URL", "DEBUG"}}
    env.update(
        PORT=str(port),
        DATABASE_URL=test_database_url(),
        DJANGO_SETTINGS_MODULE="helpdesk.settings.test",
        WEB_CONCURRENCY="1",
        PYTHONPATH=str(PROJECT_DIR),
    )
    return env


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the web server exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, cookie: str = "") -> tuple[int, str, str]:
    """(status, Location header, body) of a GET, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode()


def test_site_url_follows_port_locally():
    port = free_port()
    script = "from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=desk_env(port), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"http://127.0.0.1:{port}"


def test_site_url_from_the_environment_wins_over_port():
    env = {**desk_env(8123), "SITE_URL": "https://help.example.org/"}
    script = "from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://help.example.org"  # no trailing slash to double up


@pytest.mark.django_db(transaction=True)
def test_a_mail_link_opens_the_ticket_on_a_non_default_port(tmp_path):
    port = free_port()
    assert port != 8000
    requester = factories.make_requester()
    ticket = factories.make_ticket(requester=requester, subject="Printer on fire")

    # The mail is built in a process that only knows PORT, as under `PORT=... make run`.
    script = (
        "import django; django.setup()\n"
        "from tickets.models import Ticket\n"
        "from tickets.mail.outbound import ticket_context\n"
        f"print(ticket_context(Ticket.objects.get(pk={ticket.pk}))['ticket_url'])\n"
    )
    built = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=desk_env(port), capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    link = built.stdout.strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/\S+", link), link

    client = Client()
    client.force_login(requester)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.web"], cwd=PROJECT_DIR, env=desk_env(port), stdout=log, stderr=log
    )
    try:
        wait_for_port(port, web)
        status, _, body = fetch(link, cookie)
        assert status == 200
        assert "Printer on fire" in body
        # Signed out, the same link asks for a sign-in on that port and comes back to the ticket.
        status, location, _ = fetch(link)
        assert status == 302
        assert "login" in location and "next=" in location
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()
