"""A worker killed in the middle of a task: the task comes back and its effect happens once.

Real Celery workers, the real Redis broker and PostgreSQL. The task is caught "in the middle"
by a lock the test holds: the sweep's statement waits for a table lock, the mail task for its
outbox row, each inside the task's open transaction. Then, as the out-of-memory killer would,
the test kills the pool process running it (the worker hands the task back at once:
``task_reject_on_worker_lost``), then the worker's main process while the retry runs (the task
stays unacknowledged in Redis: ``task_acks_late``), and starts a new worker, to which Redis
hands the task again after the visibility timeout (shortened here).
"""

import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection, connections

from helpdesk.celery import app
from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import relay_outbox
from sla import services as sla
from sla.defaults import ensure_defaults
from sla.models import ClockEvent
from tests import factories
from tests.conftest import CeleryProcess, child_pids, wait_until
from tests.mailfiles import mails_in
from tickets.models import EventKind, OutboundMail, TicketEvent

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

QUEUE = "crash-test"  # a queue of its own: the suite's session worker never takes these tasks
VISIBILITY_SECONDS = 6


def start_worker(log: Path, mail_dir: Path) -> CeleryProcess:
    worker = CeleryProcess(
        [
            *("worker", "--loglevel", "INFO", "--concurrency", "1", "-Q", QUEUE),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        ],
        log,
        extra_env={
            "TEST_EMAIL_DIR": str(mail_dir),
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_TASK_LOG_LEVEL": "INFO",  # each receipt and run in the log, should this fail
        },
    )
    worker.wait_for_log("ready.")
    return worker


def waiting_backends() -> int:
    """Sessions of this database waiting for a lock (the task's statement, caught in the middle)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


class Blocker:
    """A transaction of the test's own holding a lock; ``release`` ends it."""

    def __init__(self, sql: str, params: list | None = None):
        self.conn = connections.create_connection("default")
        self.conn.set_autocommit(False)
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params or [])

    def release(self) -> None:
        if self.conn.connection is not None:
            self.conn.rollback()
            self.conn.close()


def kill_mid_task_twice(worker: CeleryProcess, blocker: Blocker) -> None:
    """Kill the pool process in the middle of the task, then the main process in the middle of its retry."""
    wait_until(lambda: waiting_backends() == 1, timeout=20, message="the task caught in the middle")
    [child] = child_pids(worker.proc.pid)
    os.kill(child, signal.SIGKILL)
    # the main process gives the task back and a new pool process takes it: caught again
    wait_until(lambda: waiting_backends() == 2, timeout=20, message="the task retried and caught again")
    children = child_pids(worker.proc.pid)
    worker.proc.kill()
    worker.proc.wait()
    for pid in children:  # what the supervisor does with the group of a dead worker
        os.kill(pid, signal.SIGKILL)
    worker.stop()
    # The killed attempts' sessions wake up, find their client gone and roll back.
    blocker.release()
    wait_until(lambda: waiting_backends() == 0, timeout=20, message="the killed attempts' sessions gone")


def test_sweep_killed_twice_in_the_middle_records_each_breach_once(tmp_path):
    ensure_defaults()  # the default SLA policy, flushed by any transactional test before this one
    requester = factories.make_requester()
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=5)):
        ticket = factories.make_ticket(requester, subject="Core switch down", impact="high", urgency="high")
    worker = start_worker(tmp_path / "worker.log", tmp_path)
    blocker = None
    try:
        # Every insert into the SLA events waits: the sweep's one statement is held at its start.
        blocker = Blocker(f"LOCK TABLE {ClockEvent._meta.db_table} IN SHARE MODE")
        app.send_task("sla.tasks.sweep_task", queue=QUEUE)
        kill_mid_task_twice(worker, blocker)
        assert not ClockEvent.objects.filter(ticket=ticket).exists()  # nothing half-done

        worker = start_worker(tmp_path / "worker2.log", tmp_path)  # the supervisor's restart
        wait_until(lambda: ClockEvent.objects.filter(ticket=ticket).count() == 6, timeout=30, message="sweep redone")
        # Once more, as beat sends it every minute: nothing new.
        assert app.send_task("sla.tasks.sweep_task", queue=QUEUE).get(timeout=30) == {"warning": 0, "breached": 0}
    finally:
        worker.stop()
        if blocker is not None:
            blocker.release()
    events = ClockEvent.objects.filter(ticket=ticket)
    assert sorted(events.values_list("kind", flat=True)) == ["breached"] * 3 + ["warning"] * 3
    assert events.values("metric", "scope", "cycle", "kind").distinct().count() == 6
    assert OutboxMessage.objects.filter(task=sla.CLOCK_EVENT_TASK).count() == 6  # one action each
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA).count() == 6


def test_mail_killed_twice_in_the_middle_is_sent_once(tmp_path):
    ticket = factories.make_ticket(subject="VPN drops every hour")
    message = OutboxMessage.objects.get(task="tickets.tasks.notify_task", kwargs__ticket_id=ticket.pk)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = start_worker(tmp_path / "worker.log", mail_dir)
    blocker = None
    try:
        # The consumer locks its outbox row first: held, it waits there with its transaction open.
        # As the relay hands it over (to this test's queue).
        OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.RELAYED)
        table = OutboxMessage._meta.db_table
        blocker = Blocker(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [message.pk])  # noqa: S608 - model's table
        app.send_task(message.task, kwargs={**message.kwargs, "outbox_id": message.pk}, queue=QUEUE)
        kill_mid_task_twice(worker, blocker)
        assert list(mail_dir.iterdir()) == []
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.RELAYED  # not done, not lost

        worker = start_worker(tmp_path / "worker2.log", mail_dir)
        wait_until(lambda: list(mail_dir.iterdir()), timeout=30, message="mail sent after redelivery")
        wait_until(
            lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.DONE,
            timeout=10,
            message="outbox message done",
        )
        # Delivered once more (the relay's own redelivery, a late copy from Redis): no second mail.
        app.send_task(message.task, kwargs={**message.kwargs, "outbox_id": message.pk}, queue=QUEUE).get(timeout=30)
        relayed = []
        relay_outbox(now=datetime.now(UTC) + timedelta(days=1), publish=relayed.append)
        assert message.pk not in {row.pk for row in relayed}
    finally:
        worker.stop()
        if blocker is not None:
            blocker.release()
    mails = mails_in(mail_dir)
    assert len(mails) == 1
    assert ticket.reference in mails[0]["Subject"]
    assert ticket.requester.email in mails[0]["To"]
    assert OutboundMail.objects.filter(ticket_pk=ticket.pk, status=OutboundMail.Status.SENT).count() == 1
