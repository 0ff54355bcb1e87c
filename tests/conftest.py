"""Fixtures shared by the whole suite.

The test settings start throwaway embedded PostgreSQL and Redis (unless DATABASE_URL /
REDIS_URL are set) and export their URLs, so the Celery processes started here reach the
very same servers. Those processes use pytest-django's test database by name; tests that
need them use ``transactional_db`` so their rows are committed and visible.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from helpdesk.embedded import database_url
from tests import factories

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The throwaway test database may be emptied with TRUNCATE between tests.

    The history tables refuse TRUNCATE unless ``helpdesk.allow_truncate`` is on (migration
    tickets/0011); Django empties tables with TRUNCATE after every transactional test. Set for
    the test database only (new connections, the Celery processes' included) and for the
    connection already open.
    """
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.settings_dict["NAME"]
        cursor.execute(f"ALTER DATABASE \"{name}\" SET helpdesk.allow_truncate = 'on'")
        cursor.execute("SET helpdesk.allow_truncate = 'on'")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (Redis database 1 of the throwaway server)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def requester(db):
    return factories.make_requester()


@pytest.fixture
def other_requester(db):
    return factories.make_requester()


@pytest.fixture
def agent(db):
    return factories.make_agent(1)


@pytest.fixture
def manager(db):
    return factories.make_manager()


@pytest.fixture
def admin_user(db):
    return factories.make_admin()


@pytest.fixture
def vendor_contact(db):
    return factories.make_vendor_contact()


def test_database_url() -> str:
    """DATABASE_URL of pytest-django's test database (the URL of the server, another name)."""
    return database_url(connection.settings_dict)


test_database_url.__test__ = False  # not a test, despite the name


def child_pids(pid: int) -> list[int]:
    """The live (not zombie) child processes of ``pid``, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != "Z":
                children.append(int(entry.name))
    return children


class CeleryProcess:
    """A real ``celery`` process (worker or beat) of this project, on the test servers."""

    def __init__(self, args: list[str], log_path: Path, extra_env: dict | None = None):
        env = {
            **os.environ,
            **(extra_env or {}),
            "DATABASE_URL": test_database_url(),
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
            "PYTHONPATH": str(PROJECT_DIR),
        }
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "helpdesk", *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError(f"celery exited ({self.proc.returncode}):\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"'{text}' not seen in {timeout}s:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """One real Celery worker for the session (prefork, 2 children), with the test tasks loaded."""
    from helpdesk.celery import app

    app.control.purge()
    mail_dir = tmp_path_factory.mktemp("worker-mail")
    worker = CeleryProcess(
        [
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--include",
            "tests.celery_tasks",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        tmp_path_factory.mktemp("celery") / "worker.log",
        extra_env={"TEST_EMAIL_DIR": str(mail_dir)},
    )
    worker.mail_dir = mail_dir  # every mail the worker sends is a file here
    worker.wait_for_log("ready.")
    yield worker
    worker.stop()


def wait_until(predicate, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s")
        time.sleep(interval)
