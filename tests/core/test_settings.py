"""Settings: the production checks, start-up refusals and environment-driven values.

Each case runs Django in a subprocess, since settings are read once per process. The test
settings have already put the throwaway servers' DATABASE_URL and REDIS_URL in os.environ,
so the subprocesses reuse them and start no server of their own.
"""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

from helpdesk.embedded import database_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
# Variables a subprocess must not inherit from the developer's shell or CI.
SETTINGS_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "TIME_ZONE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "DB_STATEMENT_TIMEOUT_MS",
    "SITE_URL",
    "PORT",
)


def random_secret_key(length: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def settings_env(settings_module: str, **overrides: str | None) -> dict:
    """A clean environment on this run's servers; an override of None removes the variable."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env["REDIS_URL"] = os.environ["REDIS_URL"]
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def production_env(**overrides: str | None) -> dict:
    values = {
        "SECRET_KEY": random_secret_key(),
        "ALLOWED_HOSTS": "helpdesk.example.com",
        "SITE_URL": "https://helpdesk.example.com",
        **overrides,
    }
    return settings_env("helpdesk.settings.production", **values)


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def print_setting(expression: str, env: dict) -> str:
    result = run(["-c", f"from django.conf import settings; print({expression})"], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# --------------------------------------------------------------------------- production


def test_production_passes_the_deploy_check():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_security_settings():
    env = production_env()
    assert print_setting("settings.DEBUG", env) == "False"
    assert print_setting("settings.SECURE_SSL_REDIRECT", env) == "True"
    assert print_setting("settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE", env) == "True"
    assert print_setting("settings.SECURE_PROXY_SSL_HEADER", env) == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_production_ignores_debug_from_the_environment():
    assert print_setting("settings.DEBUG", production_env(DEBUG="1")) == "False"


def test_ssl_redirect_can_be_turned_off_behind_a_tls_proxy():
    # docker-compose.yml does this: TLS ends at the proxy, which talks plain HTTP to gunicorn.
    env = production_env(SECURE_SSL_REDIRECT="false")
    assert print_setting("settings.SECURE_SSL_REDIRECT", env) == "False"
    assert print_setting("settings.SECURE_HSTS_SECONDS > 0", env) == "True"


@pytest.mark.parametrize("variable", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "SITE_URL"])
def test_production_refuses_to_start_without(variable):
    result = run(["manage.py", "check"], production_env(**{variable: None}))
    assert result.returncode != 0
    assert f"{variable} must be set in production" in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = run(["manage.py", "check"], production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --------------------------------------------------------------------------- database URL


@pytest.mark.parametrize("url", ["sqlite:///x.db", "mysql://user@localhost/helpdesk"])
def test_database_settings_rejects_other_databases(url):
    with pytest.raises(ValueError, match="PostgreSQL"):
        database_settings(url)


def test_database_settings_reads_a_socket_folder_from_the_host():
    config = database_settings("postgresql://postgres@%2Ftmp%2Fsock/helpdesk")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["HOST"] == "/tmp/sock"
    assert config["NAME"] == "helpdesk"
    assert config["USER"] == "postgres"


def test_database_settings_reads_a_tcp_url():
    config = database_settings("postgres://helpdesk:s3cret@postgres:5432/helpdesk")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("postgres", 5432, "helpdesk")
    assert (config["USER"], config["PASSWORD"]) == ("helpdesk", "s3cret")


# --------------------------------------------------------------------------- environment


def test_time_zone_comes_from_the_environment():
    env = settings_env("helpdesk.settings.test", TIME_ZONE="Europe/Berlin")
    assert print_setting("settings.TIME_ZONE, settings.CELERY_TIMEZONE", env) == "Europe/Berlin Europe/Berlin"


def test_statement_timeout_cancels_a_long_statement():
    script = (
        "import django; django.setup()\n"
        "from django.db import OperationalError, connection\n"
        "try:\n"
        "    connection.cursor().execute('SELECT pg_sleep(2)')\n"
        "    print('finished')\n"
        "except OperationalError as exc:\n"
        "    print('cancelled' if 'statement timeout' in str(exc) else exc)\n"
    )
    bounded = run(["-c", script], settings_env("helpdesk.settings.test", DB_STATEMENT_TIMEOUT_MS="200"))
    assert bounded.stdout.strip() == "cancelled", bounded.stderr
    unbounded = print_setting("settings.DATABASES['default'].get('OPTIONS')", settings_env("helpdesk.settings.test"))
    assert "statement_timeout" not in unbounded


def test_time_zone_defaults_to_utc():
    assert print_setting("settings.TIME_ZONE", settings_env("helpdesk.settings.test")) == "UTC"


def test_allowed_hosts_and_csrf_origins_are_comma_separated_lists():
    env = settings_env(
        "helpdesk.settings.test",
        ALLOWED_HOSTS="helpdesk.example.com,.intra.example.com",
        CSRF_TRUSTED_ORIGINS="https://helpdesk.example.com,https://support.example.com",
    )
    assert print_setting("settings.ALLOWED_HOSTS", env) == "['helpdesk.example.com', '.intra.example.com']"
    assert print_setting("settings.CSRF_TRUSTED_ORIGINS", env) == (
        "['https://helpdesk.example.com', 'https://support.example.com']"
    )


def test_database_and_redis_come_from_the_environment():
    env = settings_env("helpdesk.settings.test")
    host = database_settings(os.environ["DATABASE_URL"])["HOST"]
    assert print_setting("settings.DATABASES['default']['HOST']", env) == host
    assert print_setting("settings.CELERY_BROKER_URL", env) == os.environ["REDIS_URL"]


def test_cache_keys_name_the_database_they_describe():
    """`make run` and the benchmark's scratch database share one Redis: their entries must not meet."""
    from django.core.cache import cache
    from django.db import connection

    key = cache.make_key("queue-counts:1")
    assert key.endswith(f":{connection.settings_dict['NAME']}:queue-counts:1")
    original = connection.settings_dict["NAME"]
    try:
        connection.settings_dict["NAME"] = "another_database"
        assert cache.make_key("queue-counts:1") != key
    finally:
        connection.settings_dict["NAME"] = original
