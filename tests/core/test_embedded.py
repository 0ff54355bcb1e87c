"""The embedded PostgreSQL and Redis, with real servers in a private folder per test.

The folder is made directly under /tmp so the Unix socket paths stay short.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest
import redis

from helpdesk.embedded import database_settings, start_postgres, start_redis, stop_postgres, stop_redis

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def root():
    path = Path(tempfile.mkdtemp(prefix="hd-emb-", dir="/tmp"))
    yield path
    # Stop whatever a test (or a process it started) left running, even if one stop fails.
    try:
        stop_redis(path)
    finally:
        try:
            stop_postgres(path)
        finally:
            shutil.rmtree(path, ignore_errors=True)


def pg_connect(url: str):
    config = database_settings(url)
    return psycopg2.connect(dbname=config["NAME"], user=config["USER"], host=config["HOST"])


def redis_client(url: str) -> redis.Redis:
    assert url.startswith("redis+socket://")
    return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"), socket_timeout=5)


def embedded(root: Path, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m helpdesk.embedded ARGS`` on ``root``, as a developer would run it (no URLs set)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env["HELPDESK_DATA_DIR"] = str(root)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.embedded", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def start_postgres_in_new_process(root: Path) -> str:
    """start_postgres(root) in a fresh interpreter, as `make run` does after a `make stop`."""
    code = (
        "import sys; from pathlib import Path; from helpdesk.embedded import start_postgres; "
        "print(start_postgres(Path(sys.argv[1])).url)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(root)], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# --------------------------------------------------------------------------- start


def test_start_postgres_is_idempotent(root):
    first = start_postgres(root)
    assert first.started_now is True
    assert first.url.startswith("postgresql://postgres@")
    second = start_postgres(root)
    assert second.started_now is False
    assert second.url == first.url
    with pg_connect(first.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone() == ("helpdesk",)
    conn.close()


def test_start_redis_is_idempotent(root):
    first = start_redis(root)
    assert first.started_now is True
    assert first.url.startswith("redis+socket:///")
    second = start_redis(root)
    assert second.started_now is False
    assert second.url == first.url
    assert redis_client(first.url).ping()


def test_database_settings_reach_the_embedded_server(root):
    url = start_postgres(root).url
    config = database_settings(url)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert Path(config["HOST"]).is_dir()
    assert (Path(config["HOST"]) / ".s.PGSQL.5432").is_socket()


# --------------------------------------------------------------------------- restart keeps data


def test_postgres_data_survives_a_restart(root):
    url = start_postgres(root).url
    conn = pg_connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE survivor (id int PRIMARY KEY, name text)")
        cur.execute("INSERT INTO survivor VALUES (1, 'kept')")
    conn.close()

    assert stop_postgres(root) is True
    assert not (root / "pg" / "postmaster.pid").exists()
    again = start_postgres_in_new_process(root)

    assert again == url
    conn = pg_connect(again)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM survivor WHERE id = 1")
        assert cur.fetchone() == ("kept",)
    conn.close()


def test_postgres_restarts_in_the_same_process(root):
    url = start_postgres(root).url
    assert stop_postgres(root) is True
    again = start_postgres(root)
    assert again.started_now is True
    assert again.url == url


def test_redis_data_survives_a_restart(root):
    url = start_redis(root).url
    redis_client(url).set("survivor", "kept")

    assert stop_redis(root) is True  # SHUTDOWN SAVE writes the data out
    again = start_redis(root)

    assert again.started_now is True
    assert again.url == url
    assert redis_client(again.url).get("survivor") == b"kept"


# --------------------------------------------------------------------------- stop


def test_stop_postgres_is_clean(root):
    start_postgres(root)
    assert (root / "pg" / "postmaster.pid").exists()
    assert stop_postgres(root) is True
    assert stop_postgres(root) is False
    assert not (root / "pg" / "postmaster.pid").exists()


def test_stop_redis_is_clean(root):
    url = start_redis(root).url
    sock = Path(url.removeprefix("redis+socket://"))
    assert sock.is_socket()
    assert stop_redis(root) is True
    assert stop_redis(root) is False
    assert not sock.exists()


def test_stop_without_any_server_is_harmless(root):
    assert stop_postgres(root) is False
    assert stop_redis(root) is False


# --------------------------------------------------------------------------- command line


PRINT_URLS = "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"


def test_run_gives_the_command_both_urls_and_stops_the_servers(root):
    result = embedded(root, "run", "--", sys.executable, "-c", PRINT_URLS)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("postgresql://postgres@") for line in lines), result.stdout
    assert any(line.startswith("redis+socket:///") for line in lines), result.stdout
    assert "embedded PostgreSQL started" in result.stdout
    assert "embedded Redis started" in result.stdout
    # `run` stopped what it started
    status = embedded(root, "status")
    assert status.returncode == 0, status.stderr
    assert "PostgreSQL: stopped" in status.stdout
    assert "Redis: stopped" in status.stdout
    assert stop_postgres(root) is False
    assert stop_redis(root) is False


def test_run_hands_back_the_exit_code_of_the_command(root):
    result = embedded(root, "run", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert result.returncode == 3
    assert stop_postgres(root) is False
    assert stop_redis(root) is False


def test_run_leaves_running_servers_running(root):
    pg_url = start_postgres(root).url
    redis_url = start_redis(root).url

    result = embedded(root, "run", "--", sys.executable, "-c", PRINT_URLS)

    assert result.returncode == 0, result.stdout + result.stderr
    assert pg_url in result.stdout.splitlines()
    assert redis_url in result.stdout.splitlines()
    assert "embedded PostgreSQL reused" in result.stdout
    assert "embedded Redis reused" in result.stdout
    status = embedded(root, "status")
    assert f"PostgreSQL: running ({pg_url})" in status.stdout
    assert f"Redis: running ({redis_url})" in status.stdout
    with pg_connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
    conn.close()
    assert redis_client(redis_url).ping()


def test_run_uses_urls_already_set_and_starts_nothing(root):
    extra = {"DATABASE_URL": "postgresql://somewhere/else", "REDIS_URL": "redis://elsewhere:6379/0"}
    result = embedded(root, "run", "--", sys.executable, "-c", PRINT_URLS, extra_env=extra)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["postgresql://somewhere/else", "redis://elsewhere:6379/0"]
    assert not (root / "pg").exists()
    assert not (root / "redis").exists()


def test_start_and_stop_commands(root):
    started = embedded(root, "start")
    assert started.returncode == 0, started.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines() if line.startswith("export ")
    )
    assert exports["DATABASE_URL"].strip("'").startswith("postgresql://")
    assert exports["REDIS_URL"].strip("'").startswith("redis+socket://")
    assert "running" in embedded(root, "status").stdout

    stopped = embedded(root, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "Redis: stopped" in stopped.stdout
    assert "PostgreSQL: stopped" in stopped.stdout
    assert embedded(root, "stop").stdout.count("was not running") == 2
