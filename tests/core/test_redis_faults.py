"""Redis is a helper, never a single point of failure for pages.

Each test runs its own Redis (the embedded redis-server, in a temp folder) and points the
cache, the sessions it fronts and /healthz at it, so stopping it (shut down) or hanging it
(SIGSTOP) disturbs no other test. People sign in while Redis is up, so their sessions are in
it; then it goes away, and every page and API call must still answer, right, within 2 s.
The cache leaves Redis alone for a short while after a failure; the tests use 0.2 s instead
of the default 5 s, so every request is the first after that pause and pays the worst case
(one timeout), and recovery needs no long sleep.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import record_heartbeat, relay_outbox
from helpdesk.embedded import redis_cache_url, start_redis, stop_redis
from tests import factories
from tests.conftest import CeleryProcess, wait_until
from tests.mail.test_redis_outage import WORKER_ARGS, publisher
from tickets.models import Ticket

BUDGET_SECONDS = 2.0
RETRY_SECONDS = 0.2
MODES = ["stopped", "hung"]


class OwnRedis:
    """A redis-server of this test, which can be stopped and started again, or hung and resumed."""

    def __init__(self, root: Path):
        self.root = root
        self.url = start_redis(root).url
        self.hung = False

    @property
    def pid(self) -> int:
        return int((self.root / "redis" / "redis.pid").read_text())

    def fail(self, mode: str) -> None:
        if mode == "stopped":
            assert stop_redis(self.root)
        else:
            os.kill(self.pid, signal.SIGSTOP)
            self.hung = True

    def recover(self) -> None:
        if self.hung:
            os.kill(self.pid, signal.SIGCONT)
            self.hung = False
        else:
            start_redis(self.root)  # same socket, same data (append-only file)

    def close(self) -> None:
        if self.hung:
            self.recover()
        stop_redis(self.root)


def point_cache_at(settings, url: str, retry_seconds: float = RETRY_SECONDS) -> None:
    """The cache (and the sessions in it) and /healthz on the Redis at ``url``, as configured otherwise."""
    default = settings.CACHES["default"]
    options = {**default["OPTIONS"], "retry_seconds": retry_seconds}
    settings.CACHES = {"default": {**default, "LOCATION": redis_cache_url(url), "OPTIONS": options}}
    settings.REDIS_URL = url


@pytest.fixture
def own_redis(tmp_path, settings):
    server = OwnRedis(tmp_path / "redis-root")
    point_cache_at(settings, server.url)
    yield server
    server.close()


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET_SECONDS, f"{args[0] if args else call} took {elapsed:.2f} s"
    return response


def tab_counts(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'badge[^>]*>(\d+)<span class="visually-hidden"> open tickets', page)]


def signed_in(client, user):
    """A client signed in through the login form: its session is in the cache and PostgreSQL."""
    response = client.post("/accounts/login/", {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302, response.content
    return client


# --------------------------------------------------------------------------- pages and API


@pytest.mark.parametrize("mode", MODES)
def test_signed_in_pages_and_the_api_answer_without_redis(db, own_redis, mode):
    requester, agent = factories.make_requester(), factories.make_agent(1)
    tickets = [factories.make_ticket(requester, subject=f"Outage subject {i}") for i in range(2)]
    portal, queue = signed_in(Client(), requester), signed_in(Client(), agent)
    token = Token.objects.create(user=requester).key
    pages = [(portal, "/portal/"), (queue, "/queues/"), (portal, f"/tickets/{tickets[0].pk}/")]
    for browser, url in pages:  # warm: compiled templates, and the queue counts cached (2)
        assert browser.get(url).status_code == 200
    assert tab_counts(queue.get("/queues/").content.decode())[0] == 2

    own_redis.fail(mode)
    third = factories.make_ticket(requester, subject="Outage subject 2")

    for browser, url in pages:
        response = timed(browser.get, url)
        assert response.status_code == 200, (url, response.content[:500])
        page = response.content.decode()
        assert "Outage subject 0" in page
        assert 'action="/accounts/logout/"' in page  # still signed in: the session came from PostgreSQL
    queue_page = timed(queue.get, "/queues/").content.decode()
    assert third.subject in queue_page
    assert tab_counts(queue_page)[0] == 3  # counted live, not the 2 cached before the outage

    session_api = timed(portal.get, "/api/tickets/")
    token_api = timed(Client().get, "/api/tickets/", HTTP_AUTHORIZATION=f"Token {token}")
    for response in (session_api, token_api):
        assert response.status_code == 200, response.content
        assert sorted(row["id"] for row in response.json()["results"]) == sorted(t.pk for t in [*tickets, third])


@pytest.mark.parametrize("mode", MODES)
def test_tickets_are_created_by_form_and_api_without_redis(db, own_redis, mode):
    requester = factories.make_requester()
    browser = signed_in(Client(), requester)
    token = Token.objects.create(user=requester).key
    api = Client()
    assert browser.get("/portal/new/").status_code == 200  # warm

    own_redis.fail(mode)
    form = {"subject": "Made by form", "description": "Redis is out", "impact": "low", "urgency": "low"}
    response = timed(browser.post, "/portal/new/", form)
    assert response.status_code == 302, response.content[:500]
    response = timed(
        api.post,
        "/api/tickets/",
        {"subject": "Made by API", "description": "Redis is out"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 201, response.content
    response = timed(
        browser.post,
        "/api/tickets/",
        {"subject": "Made by session API", "description": "x"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content

    made = Ticket.objects.filter(requester=requester)
    assert sorted(made.values_list("subject", flat=True)) == ["Made by API", "Made by form", "Made by session API"]
    # Their notifications wait in the outbox (PostgreSQL) for the relay.
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() >= 3


@pytest.mark.parametrize("mode", MODES)
def test_signing_in_and_out_works_without_redis_and_a_logout_stays_done_when_it_is_back(db, own_redis, mode):
    requester = factories.make_requester()
    browser = signed_in(Client(), requester)
    assert browser.get("/portal/").status_code == 200
    session_key = browser.cookies["sessionid"].value  # this session is cached in Redis

    own_redis.fail(mode)
    late = timed(signed_in, Client(), requester)
    assert timed(late.get, "/portal/").status_code == 200
    assert timed(browser.post, "/accounts/logout/").status_code in (200, 302)

    own_redis.recover()
    time.sleep(RETRY_SECONDS + 0.1)
    # The logout deleted the session from PostgreSQL but could not delete it from Redis, which
    # came back holding it: an old cookie must still not sign anyone in.
    browser.cookies["sessionid"] = session_key
    response = browser.get("/portal/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert late.get("/portal/").status_code == 200  # the session made during the outage lives on
    assert cache.set("probe", 1) is None and cache.get("probe") == 1  # the cache is used again


@pytest.mark.parametrize("mode", MODES)
def test_healthz_says_degraded_naming_redis(db, client, own_redis, mode):
    record_heartbeat("beat")
    record_heartbeat("worker")
    assert client.get("/healthz").json()["status"] == "ok"

    own_redis.fail(mode)
    response = timed(client.get, "/healthz")

    assert response.status_code == 200  # a load balancer keeps the node: pages work
    body = response.json()
    assert body["status"] == "degraded"
    assert body["failing"] == ["redis"]
    assert body["redis"]["ok"] is False
    assert body["redis"]["error"] == ("ConnectionError" if mode == "stopped" else "TimeoutError")

    own_redis.recover()
    assert client.get("/healthz").json()["status"] == "ok"


# --------------------------------------------------------------------------- the cache itself


def test_a_hung_redis_costs_one_timeout_then_nothing_until_the_retry(db, settings, own_redis, caplog):
    point_cache_at(settings, own_redis.url, retry_seconds=5)
    caplog.set_level(logging.INFO, logger="helpdesk.core.cache")
    cache.set("kept", "value")

    own_redis.fail("hung")
    started = time.monotonic()
    assert [cache.get("kept") for _ in range(20)] == [None] * 20
    cache.set("other", 1)
    assert cache.get_many(["kept", "other"]) == {}
    assert cache.add("new", 1) is False
    with pytest.raises(ValueError):
        cache.incr("kept")
    elapsed = time.monotonic() - started
    # One call waits for the timeout, the other 24 not at all (each would have cost as much).
    assert settings.REDIS_TIMEOUT_SECONDS * 0.9 < elapsed < settings.REDIS_TIMEOUT_SECONDS * 2

    warnings = [r for r in caplog.records if r.name == "helpdesk.core.cache"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING
    assert "out of reach" in warnings[0].getMessage()


@pytest.mark.parametrize("mode", MODES)
def test_an_outage_is_logged_once_and_its_end_once(db, own_redis, caplog, mode):
    caplog.set_level(logging.INFO, logger="helpdesk.core.cache")
    agent = factories.make_agent(1)
    queue = signed_in(Client(), agent)
    assert queue.get("/queues/").status_code == 200

    own_redis.fail(mode)
    for _ in range(3):
        assert timed(queue.get, "/queues/").status_code == 200
        time.sleep(RETRY_SECONDS)  # each page is a new try at Redis
    own_redis.recover()
    time.sleep(RETRY_SECONDS)
    for _ in range(2):
        assert queue.get("/queues/").status_code == 200

    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "helpdesk.core.cache"]
    assert [level for level, _ in logged] == ["WARNING", "INFO"], logged
    assert "out of reach" in logged[0][1]
    assert "reachable again" in logged[1][1]


# --------------------------------------------------------------------------- the outbox, after the outage


@pytest.mark.celery
def test_what_pages_queued_during_the_outage_is_delivered_once_redis_is_back(transactional_db, own_redis, tmp_path):
    worker = CeleryProcess(
        [*WORKER_ARGS],
        tmp_path / "worker.log",
        extra_env={"REDIS_URL": own_redis.url, "TEST_EMAIL_DIR": str(tmp_path)},
    )
    try:
        worker.wait_for_log("ready.")
        publish = publisher(own_redis.url)
        requester = factories.make_requester(email="someone@customer.example")
        browser = signed_in(Client(), requester)
        form = {"description": "Redis is out", "impact": "low", "urgency": "low"}

        own_redis.fail("stopped")
        assert browser.post("/portal/new/", {**form, "subject": "While stopped"}).status_code == 302
        assert relay_outbox(publish=publish) == 0  # nothing handed over, nothing lost
        assert not OutboxMessage.objects.exclude(status=OutboxMessage.Status.PENDING).exists()
        own_redis.recover()

        own_redis.fail("hung")
        assert timed(browser.post, "/portal/new/", {**form, "subject": "While hung"}).status_code == 302
        own_redis.recover()

        assert Ticket.objects.count() == 2
        waiting = OutboxMessage.objects.all()
        assert waiting.count() >= 2

        def delivered() -> bool:
            # Past the back-off of the relay that failed while Redis was stopped.
            relay_outbox(now=timezone.now() + timedelta(minutes=5), publish=publish)
            return not waiting.exclude(status=OutboxMessage.Status.DONE).exists()

        try:
            wait_until(delivered, timeout=60, interval=0.5, message="every outbox message delivered")
        except AssertionError as exc:
            states = list(waiting.values_list("task", "status", "attempts", "last_error"))
            raise AssertionError(f"{exc}: {states}\n{worker.log()[-3000:]}") from None
    finally:
        worker.stop()
