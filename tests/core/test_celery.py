"""A real Celery worker (and beat) against the real test PostgreSQL and Redis."""

import os
import signal

import pytest
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from helpdesk.celery import app
from helpdesk.core.models import Heartbeat, OutboxMessage
from helpdesk.core.services import enqueue, relay_outbox
from helpdesk.core.tasks import ping_task
from tests.conftest import CeleryProcess, wait_until

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_task_round_trip_through_redis(celery_worker_process):
    result = ping_task.delay("hello")
    assert result.get(timeout=30) == "pong: hello"


def test_outbox_message_reaches_the_worker_and_is_done(celery_worker_process):
    with transaction.atomic():
        message = enqueue("helpdesk.core.tasks.outbox_probe_task", kwargs={"note": "via outbox"})
    assert relay_outbox() == 1

    def done():
        message.refresh_from_db()
        return message.status == OutboxMessage.Status.DONE

    wait_until(done, message="outbox message done")
    assert Heartbeat.objects.filter(name="outbox-probe").exists()


def test_killed_pool_process_does_not_lose_its_task(celery_worker_process):
    """acks_late + reject_on_worker_lost: the task comes back and runs to the end."""
    app.send_task("tests.slow_task", kwargs={"key": "kill-me", "seconds": 4})
    started = wait_until(
        lambda: Heartbeat.objects.filter(name__startswith="kill-me-start-1-pid-").first(),
        message="slow task started",
    )
    pid = int(started.name.rsplit("-", 1)[1])
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: Heartbeat.objects.filter(name="kill-me-done").exists(), timeout=60, message="task redone")
    assert Heartbeat.objects.filter(name__startswith="kill-me-start-").count() == 2


def test_beat_installs_the_schedule_relays_the_outbox_and_beats(celery_worker_process, tmp_path):
    with transaction.atomic():
        message = enqueue("helpdesk.core.tasks.outbox_probe_task", kwargs={"note": "beat"})
    beat = CeleryProcess(["beat", "--loglevel", "INFO", "--max-interval", "1"], tmp_path / "beat.log")
    try:
        ours = {entry["task"] for entry in app.conf.beat_schedule.values()}
        assert {"helpdesk.core.tasks.relay_outbox_task", "helpdesk.core.tasks.heartbeat_task"} <= ours
        wait_until(
            lambda: ours <= set(PeriodicTask.objects.values_list("task", flat=True)),
            message="every beat entry written to the database",
        )

        def done():
            message.refresh_from_db()
            return message.status == OutboxMessage.Status.DONE

        wait_until(done, timeout=45, message="outbox relayed by beat and consumed by the worker")
        wait_until(lambda: Heartbeat.objects.filter(name="beat").exists(), message="beat heartbeat")

        # A second beat on the same database waits as a standby (tests/core/test_beat.py
        # covers what it sends, and the takeover).
        second = CeleryProcess(["beat", "--loglevel", "INFO"], tmp_path / "beat2.log")
        try:
            second.wait_for_log("waits as a standby")
        finally:
            second.stop()
    finally:
        beat.stop()
