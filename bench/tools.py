"""Tools for ``make bench``: a gunicorn server on the scratch database and the wrk load generator."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

from helpdesk import embedded

if TYPE_CHECKING:
    from helpdesk.core.models import User

PROJECT_DIR = Path(settings.BASE_DIR)


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def database_url() -> str:
    """URL of the database this process uses now (the scratch copy during a benchmark)."""
    return embedded.database_url(connection.settings_dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_workers() -> int:
    """The gunicorn workers of ``make run`` (``helpdesk.web``): ``WEB_CONCURRENCY`` when set, else
    gunicorn's usual advice, two workers per core plus one."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        workers = int(configured)
        if workers < 1:
            raise ValueError(f"WEB_CONCURRENCY must be a positive number of workers, not {configured!r}")
        return workers
    return 2 * (os.cpu_count() or 1) + 1


@contextmanager
def gunicorn_server(workers: int | None = None, extra_env: dict[str, str] | None = None):
    """gunicorn serving this project on 127.0.0.1 against the current (scratch) database.

    ``extra_env`` sets settings for this server only (e.g. a cache turned off).
    """
    workers = workers or default_workers()
    port = free_port()
    booted = tempfile.mkdtemp(prefix="bench-workers-")
    # Each worker leaves a mark once it has loaded (and warmed) the application. gunicorn's port
    # answers as soon as the master binds it, seconds before the workers can serve.
    config = Path(booted) / "gunicorn_marks.py"
    config.write_text(
        "import os\n\n\ndef post_worker_init(worker):\n"
        f"    open(os.path.join({booted!r}, str(os.getpid())), 'w').close()\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        # The creation benchmark is one requester at one address posting as fast as it can: the
        # limiter still counts every request (its cost is measured), but never refuses one.
        "RATE_LIMIT_CREATE_TICKET_USER": "1000000000/60",
        "RATE_LIMIT_CREATE_TICKET_ADDRESS": "1000000000/60",
        **(extra_env or {}),
    }
    log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "helpdesk.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--config",
            str(config),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while len(os.listdir(booted)) <= workers:  # the config file, then one mark per worker
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start its {workers} workers; see {log.name}")
            time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
        shutil.rmtree(booted, ignore_errors=True)


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, *, seconds: int, connections: int, headers: dict[str, str], lua: str | None = None) -> LoadResult:
    """Run wrk against ``url`` and read requests/s and latency percentiles from its report."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench installs Debian's wrk)")
    # A slow request is a latency figure, not a socket error: wrk's own limit is 2 s.
    args = ["wrk", "--latency", "--timeout", "30s", "-t", "2", "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    script = None
    if lua:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(lua)
        script.close()
        args += ["-s", script.name]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\b", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\b", out, re.M)
    if rps is None or p50 is None or p99 is None:
        raise RuntimeError(f"wrk printed no throughput or latency figures:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(float(rps.group(1)), _ms(*p50.groups()), _ms(*p99.groups()), errors)


def settle_after_seeding() -> None:
    """Write the seeding's dirty pages out now (CHECKPOINT), so the measurements that follow do not
    pay for a checkpoint of gigabytes running under them. Needs a superuser (the embedded
    server's); elsewhere, or inside the tests' transaction, it is skipped."""
    from django.db import DatabaseError, connection

    if connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def warm_up(url: str, *, headers: dict[str, str], lua: str | None = None) -> None:
    """Load ``url`` for a few seconds over as many connections as gunicorn has workers (twice over).

    Each worker compiles templates and fills its caches on its first requests; measuring only
    warm workers is what a long-running server sees.
    """
    wrk(url, seconds=3, connections=2 * default_workers(), headers=headers, lua=lua)


def session_cookie(user: User) -> str:
    """A ``Cookie`` header value logging wrk's requests in as ``user`` (a real session row)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def report(out, name: str, result: LoadResult) -> None:
    """One line of figures for an endpoint: requests/s, p50, p99 and errors."""
    errors = f", {result.errors} errors" if result.errors else ""
    out.write(
        f"  {name:<28} {result.requests_per_second:8.1f} req/s   p50 {result.p50_ms:7.1f} ms   "
        f"p99 {result.p99_ms:7.1f} ms{errors}"
    )
