"""Beat scheduler of which exactly one process leads, and which reports its own heartbeat.

Celery's guidance is to run exactly one beat. A second beat would send every periodic task
twice; the tasks are idempotent, but we still allow one sender: the leader holds a PostgreSQL
advisory lock on a connection of its own, so PostgreSQL itself releases the lock when the
leader dies or its connection is dropped (a server restart, a failover, `pg_terminate_backend`).

Holding the lock once is not enough: a dropped connection silently releases it, and another
beat may take it while the old leader keeps scheduling. So the lock is checked on every tick,
right before anything is sent. A beat that finds it lost tries to take it again at once (if
nobody else has it, it simply stays leader); otherwise it becomes a standby. A standby (a
second beat, or a leader that lost its lock) sends nothing and tries to take the lock on each
of its ticks, at most ``max_interval`` (5 s) apart, so it takes over within one tick of the
leader's death. Between the leader's check and its send there remains a window of a few
milliseconds; the tasks are idempotent, and the window is not widened by any I/O.
"""

import logging
import time

import psycopg2
from django.conf import settings
from django.db import close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# Any constant shared by all beat processes of one database (advisory locks are per database).
BEAT_LOCK_KEY = 7_262_001
HEARTBEAT_EVERY_SECONDS = 15

# Does this session still hold the beat lock? A bigint key is stored as classid (high 32 bits)
# and objid (low 32 bits) with objsubid 1.
_HOLDS_LOCK_SQL = """
    SELECT EXISTS (
        SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
          AND classid = (%(key)s::bigint >> 32)::oid AND objid = (%(key)s::bigint & 4294967295)::oid
          AND objsubid = 1
    )
"""


def _lock_connection() -> "psycopg2.extensions.connection":
    """A new autocommit connection for the lock, bounded so a lost network cannot hang beat."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        connect_timeout=5,
        # Over TCP, notice a silently dead peer within about 25 s (ignored on Unix sockets).
        keepalives=1,
        keepalives_idle=10,
        keepalives_interval=5,
        keepalives_count=3,
        application_name="helpdesk beat lock",
    )
    conn.autocommit = True
    return conn


def try_beat_lock() -> "psycopg2.extensions.connection | None":
    """Take the beat lock on a new connection.

    Returns the connection that holds it (closing it releases the lock), or None when another
    session holds it. Raises ``psycopg2.Error`` when the database cannot be reached.
    """
    conn = _lock_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_KEY])
            row = cur.fetchone()  # always one row: the statement selects one function
            got = row is not None and row[0]
    except psycopg2.Error:
        conn.close()
        raise
    if got:
        return conn
    conn.close()
    return None


def holds_beat_lock(conn: "psycopg2.extensions.connection") -> bool:
    """True while ``conn`` is alive and its session still holds the beat lock (one query).

    A dropped or unreachable connection counts as not holding it; never raises.
    """
    try:
        with conn.cursor() as cur:
            cur.execute(_HOLDS_LOCK_SQL, {"key": BEAT_LOCK_KEY})
            row = cur.fetchone()  # always one row: SELECT EXISTS (...)
            held = row is not None and row[0]
    except psycopg2.Error:
        return False
    return bool(held)


class SingleBeatScheduler(DatabaseScheduler):
    """django-celery-beat's scheduler that sends only while it holds the beat lock."""

    _lock_conn = None
    _last_heartbeat = 0.0

    @property
    def is_leader(self) -> bool:
        return self._lock_conn is not None

    def setup_schedule(self) -> None:
        # Every beat, leader or standby, writes the schedule of this code to the database, so a
        # standby that takes over sends the entries as they are now.
        super().setup_schedule()
        self._claim()
        if not self.is_leader:
            logger.warning("another Celery beat holds the beat lock; this beat waits as a standby")

    def _claim(self) -> None:
        """Become leader if the lock is free; stay standby if it is held or the database is away."""
        try:
            self._lock_conn = try_beat_lock()
        except psycopg2.Error as exc:
            logger.warning("could not reach the database to take the beat lock: %s", str(exc).strip())
            self._lock_conn = None
        if self.is_leader:
            logger.warning("this Celery beat holds the beat lock and schedules")
            # Read the entries afresh: a former leader may have run (and saved) some since.
            self._initial_read = True
            self._heap = None

    def _ensure_leadership(self) -> bool:
        """Check the lock before sending anything; re-take it or step down when it was lost."""
        if self._lock_conn is not None:
            if holds_beat_lock(self._lock_conn):
                return True
            logger.error("the beat lock was lost (database connection dropped); stopped scheduling")
            self._release()
        self._claim()
        return self.is_leader

    def tick(self, *args, **kwargs):
        # A dropped connection leaves Django's connection unusable; drop it so the ORM reconnects.
        close_old_connections()
        if not self._ensure_leadership():
            return self.max_interval
        now = time.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_EVERY_SECONDS:
            from helpdesk.core.services import record_heartbeat

            try:
                record_heartbeat("beat")
                self._last_heartbeat = now
            except Exception:  # a database hiccup must not stop the schedule
                logger.exception("could not record the beat heartbeat")
        return super().tick(*args, **kwargs)

    def _release(self) -> None:
        if self._lock_conn is not None:
            self._lock_conn.close()  # also fine on a connection the server dropped
            self._lock_conn = None

    def close(self) -> None:
        super().close()
        self._release()
