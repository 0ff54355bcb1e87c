"""Beat leadership: one beat schedules, others wait; a dropped connection hands leadership over.

In-process schedulers and real ``celery beat`` processes against the real test PostgreSQL
(advisory lock, ``pg_terminate_backend``) and Redis (the broker the due tasks are sent to).
"""

import logging
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from helpdesk.beat import SingleBeatScheduler, holds_beat_lock, try_beat_lock
from helpdesk.celery import app
from tests.conftest import CeleryProcess, wait_until

SENT = "Sending due task"


@pytest.fixture
def sends(caplog):
    """Number of tasks beat has sent so far (celery.beat logs one line per send)."""
    caplog.set_level(logging.INFO, logger="celery.beat")
    return lambda: sum(SENT in record.getMessage() for record in caplog.records)


def make_everything_due() -> None:
    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(days=1))


def terminate_backend(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # PostgreSQL releases the session's locks as the backend exits, just after the call.
    wait_until(lambda: not backend_alive(pid), timeout=10, interval=0.05, message="backend gone")


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_scheduler_writes_every_beat_entry_to_the_database():
    scheduler = SingleBeatScheduler(app=app, lazy=False)
    try:
        rows = dict(PeriodicTask.objects.values_list("name", "task"))
    finally:
        scheduler.close()
    for name, entry in app.conf.beat_schedule.items():
        assert rows[name] == entry["task"]


@pytest.mark.django_db(transaction=True)
def test_second_beat_waits_as_standby_sends_nothing_and_takes_over_when_the_lock_frees(sends):
    held = try_beat_lock()
    assert held is not None
    scheduler = SingleBeatScheduler(app=app, lazy=False)
    try:
        assert not scheduler.is_leader
        make_everything_due()
        for _ in range(3):
            assert scheduler.tick() == scheduler.max_interval
        assert sends() == 0

        held.close()  # the leader is gone; its session's lock goes with it
        scheduler.tick()
        assert scheduler.is_leader
        assert sends() == 1  # the former standby schedules from the first tick on
        assert holds_beat_lock(scheduler._lock_conn)
    finally:
        held.close()
        scheduler.close()


@pytest.mark.django_db(transaction=True)
def test_leader_whose_connection_was_dropped_stops_when_another_took_the_lock(sends):
    scheduler = SingleBeatScheduler(app=app, lazy=False)
    other = None
    try:
        assert scheduler.is_leader
        make_everything_due()
        scheduler._initial_read = True  # read the rows just made due
        scheduler.tick()
        assert sends() == 1

        terminate_backend(scheduler._lock_conn.get_backend_pid())
        other = try_beat_lock()  # another beat takes the lock the drop released
        assert other is not None
        for _ in range(3):
            assert scheduler.tick() == scheduler.max_interval
        assert not scheduler.is_leader
        assert sends() == 1  # nothing sent once the lock was gone
    finally:
        if other is not None:
            other.close()
        scheduler.close()


@pytest.mark.django_db(transaction=True)
def test_leader_whose_connection_was_dropped_retakes_a_lock_nobody_took(sends):
    scheduler = SingleBeatScheduler(app=app, lazy=False)
    try:
        first_pid = scheduler._lock_conn.get_backend_pid()
        terminate_backend(first_pid)
        make_everything_due()
        scheduler.tick()
        assert scheduler.is_leader
        assert scheduler._lock_conn.get_backend_pid() != first_pid  # a new session holds it
        assert holds_beat_lock(scheduler._lock_conn)
        assert sends() == 1
        # and nobody else can take it now
        assert try_beat_lock() is None
    finally:
        scheduler.close()


# ------------------------------------------------------------------ two real beat processes

LEADS = "holds the beat lock and schedules"
LOST = "the beat lock was lost"


def start_beat(path) -> CeleryProcess:
    # One-second ticks keep the test short; INFO on celery.beat logs every send.
    return CeleryProcess(
        ["beat", "--loglevel", "INFO", "--max-interval", "1"],
        path,
        extra_env={"CELERY_TASK_LOG_LEVEL": "INFO"},
    )


def log_times(text: str, needle: str) -> list[str]:
    """Timestamps (as logged, sortable) of the lines containing ``needle``."""
    return [line[:23] for line in text.splitlines() if needle in line and re.match(r"\d{4}-\d\d-\d\d ", line)]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_two_beats_one_schedules_and_after_a_dropped_connection_exactly_one_runs(tmp_path):
    first = start_beat(tmp_path / "first.log")
    second = None
    try:
        first.wait_for_log(LEADS)
        second = start_beat(tmp_path / "second.log")
        second.wait_for_log("waits as a standby")
        first.wait_for_log(SENT)
        time.sleep(2)
        assert SENT not in second.log()

        # What a PostgreSQL restart or failover does: every connection of the app is dropped.
        before = {beat: len(beat.log()) for beat in (first, second)}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

        def leaders_since_drop():
            return [beat for beat in (first, second) if LEADS in beat.log()[before[beat] :]]

        # Within one tick someone holds the lock again: the old leader or the standby, never both.
        leader = wait_until(leaders_since_drop, timeout=15, message="a new leader")[0]
        follower = second if leader is first else first
        time.sleep(4)  # several ticks of both: the relay entry alone is due every 5 s
        assert leaders_since_drop() == [leader]
        leader.wait_for_log(SENT, timeout=10)
        after_drop = {beat: beat.log()[before[beat] :] for beat in (first, second)}
        assert log_times(after_drop[leader], SENT), "the leader schedules after the drop"
        if follower is first:
            # The old leader noticed, stepped down, and sent nothing once it had.
            lost_at = log_times(after_drop[first], LOST)
            assert lost_at
            assert all(sent < lost_at[0] for sent in log_times(after_drop[first], SENT))
        else:
            assert SENT not in after_drop[second]
        # Never two senders at once: each beat's sends fall within its own time as leader.
        took_over = log_times(after_drop[leader], LEADS)[0]
        assert all(sent < took_over for sent in log_times(after_drop[follower], SENT))
    finally:
        first.stop()
        if second is not None:
            second.stop()
