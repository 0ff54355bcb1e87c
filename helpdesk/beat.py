"""Beat scheduler that refuses to run twice and reports its own heartbeat.

Celery's guidance is to run exactly one beat. A second beat would send every periodic
task twice; the tasks are idempotent, but we still stop it at the door: the scheduler
holds a PostgreSQL advisory lock on a connection of its own for as long as it runs, so
the lock is released by PostgreSQL itself if beat dies.
"""

import logging
import time

import psycopg2
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# Any constant shared by all beat processes of one database.
BEAT_LOCK_KEY = 7_262_001
HEARTBEAT_EVERY_SECONDS = 15


class AnotherBeatIsRunning(SystemExit):
    pass


def _lock_connection():
    db = settings.DATABASES["default"]
    return psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


def try_beat_lock():
    """Take the beat lock on a new connection; return the connection, or None if taken."""
    conn = _lock_connection()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_KEY])
        (got,) = cur.fetchone()
    if got:
        return conn
    conn.close()
    return None


class SingleBeatScheduler(DatabaseScheduler):
    _lock_conn = None
    _last_heartbeat = 0.0

    def setup_schedule(self):
        self._lock_conn = try_beat_lock()
        if self._lock_conn is None:
            raise AnotherBeatIsRunning("another Celery beat already runs against this database; exiting")
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_EVERY_SECONDS:
            from helpdesk.core.services import record_heartbeat

            try:
                record_heartbeat("beat")
                self._last_heartbeat = now
            except Exception:  # a database hiccup must not stop the schedule
                logger.exception("could not record the beat heartbeat")
        return super().tick(*args, **kwargs)

    def close(self):
        super().close()
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None
