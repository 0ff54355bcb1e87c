"""/healthz: JSON state of the database, Redis and the beat/worker heartbeats, no login needed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.core.services import record_heartbeat

pytestmark = pytest.mark.django_db

KEYS = {"status", "version", "database", "redis", "beat", "worker"}


def _fresh_heartbeats():
    record_heartbeat("beat")
    record_heartbeat("worker")


def test_fresh_database_without_heartbeats_is_unhealthy(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) >= KEYS
    assert body["status"] == "unhealthy"
    assert body["beat"]["ok"] is False
    assert body["beat"]["last"] is None
    assert body["worker"]["ok"] is False
    # The servers themselves are fine: only the heartbeats are missing.
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True


def test_fresh_heartbeats_make_it_healthy(client, settings):
    _fresh_heartbeats()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= KEYS
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["version"] == settings.HELPDESK_VERSION
    assert all(body[name]["ok"] is True for name in ("database", "redis", "beat", "worker"))
    assert body["beat"]["last"] is not None


def test_never_requires_login_and_is_not_cached(client):
    _fresh_heartbeats()

    response = client.get("/healthz")

    assert response.status_code == 200  # not a redirect to the login page
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.parametrize("stale_name", ["beat", "worker"])
def test_a_stale_heartbeat_makes_it_unhealthy(client, settings, stale_name):
    _fresh_heartbeats()
    record_heartbeat(stale_name, at=timezone.now() - timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 60))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body[stale_name]["ok"] is False
    assert body[stale_name]["age_seconds"] > settings.HEARTBEAT_STALE_SECONDS
    fresh_name = "worker" if stale_name == "beat" else "beat"
    assert body[fresh_name]["ok"] is True


def test_a_heartbeat_just_inside_the_limit_is_fine(client, settings):
    _fresh_heartbeats()
    record_heartbeat("beat", at=timezone.now() - timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS - 30))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["beat"]["ok"] is True


def test_unreachable_redis_makes_it_degraded_not_unhealthy(client, settings):
    """Pages work without Redis, so a load balancer must keep the node (200), told it is degraded."""
    _fresh_heartbeats()
    settings.REDIS_URL = "redis+socket:///tmp/does-not-exist.sock"

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["failing"] == ["redis"]
    assert body["redis"]["ok"] is False
    assert body["redis"]["error"]
    assert body["database"]["ok"] is True


@pytest.mark.parametrize(("stale_name", "status", "code"), [("worker", "degraded", 200), ("beat", "unhealthy", 503)])
def test_without_redis_only_a_stale_worker_is_part_of_the_degradation(client, settings, stale_name, status, code):
    """The worker gets no tasks without Redis, so its heartbeat goes stale; beat records its own."""
    _fresh_heartbeats()
    record_heartbeat(stale_name, at=timezone.now() - timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 60))
    settings.REDIS_URL = "redis+socket:///tmp/does-not-exist.sock"

    response = client.get("/healthz")

    assert response.status_code == code
    assert response.json()["status"] == status
    assert response.json()["failing"] == ["redis", stale_name]


def test_post_is_not_allowed(client):
    response = client.post("/healthz")

    assert response.status_code == 405
