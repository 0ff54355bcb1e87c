"""Static checks of docker-compose.yml and the Dockerfile (no Docker engine, no database)."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Dockerfile instructions, continuation lines joined and comments dropped."""
    text = (PROJECT_DIR / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [step.strip() for step in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if step.strip()]


def command_line(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def depends_healthy(service: dict) -> set[str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):  # the short form waits for nothing
        return set()
    return {name for name, spec in depends.items() if (spec or {}).get("condition") == "service_healthy"}


def test_all_services_are_defined(services):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_backing_services_use_official_images(services):
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_the_app_image(services, name):
    build = services[name].get("build")
    context = build.get("context") if isinstance(build, dict) else build
    dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
    assert context == "."
    assert dockerfile == "Dockerfile"
    # and they all run the very same image, so web, worker and beat never run different code
    assert services[name]["image"] == services["web"]["image"]


def test_web_runs_gunicorn(services):
    command = command_line(services["web"])
    assert command.startswith("gunicorn helpdesk.wsgi")
    assert "0.0.0.0:8000" in command


def test_worker_runs_celery_worker(services):
    assert command_line(services["worker"]).startswith("celery -A helpdesk worker")


def test_beat_runs_celery_beat_once(services):
    beat = services["beat"]
    assert command_line(beat).startswith("celery -A helpdesk beat")
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in beat


def test_migrations_run_before_the_app_starts(services):
    migrate = services["migrate"]
    assert command_line(migrate) == ("sh -c python manage.py migrate --noinput && python manage.py setup_app_role")
    # the schema owner migrates and grants; the app services run as the least-privilege role
    assert migrate["environment"]["DATABASE_URL"].startswith("postgresql://helpdesk:")
    assert migrate["environment"]["DATABASE_APP_ROLE"] == "helpdesk_app"
    assert migrate["restart"] == "no"  # a one-shot job, not a daemon
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", ["postgres", "redis", "migrate", "web", "worker", "beat"])
def test_every_service_is_health_checked_or_waits_for_health(services, name):
    service = services[name]
    assert service.get("healthcheck") or depends_healthy(service)


@pytest.mark.parametrize("name", ["migrate", *APP_SERVICES])
def test_app_services_wait_for_healthy_database_and_redis(services, name):
    assert {"postgres", "redis"} <= depends_healthy(services[name])


def test_healthchecks(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    web_check = services["web"]["healthcheck"]["test"]
    assert web_check[:3] == ["CMD", "python", "-c"]  # the slim image has no curl
    assert "urllib" in web_check[3]
    assert "http://localhost:8000/healthz" in web_check[3]
    compile(web_check[3], "healthcheck", "exec")  # the one-liner is valid Python


def test_data_lives_in_named_volumes(compose, services):
    def mounts(name):
        return {volume.split(":")[1]: volume.split(":")[0] for volume in services[name]["volumes"]}

    assert mounts("postgres")["/var/lib/postgresql/data"] in compose["volumes"]
    assert mounts("redis")["/data"] in compose["volumes"]
    assert services["redis"]["command"][:1] == ["redis-server"]
    assert "--appendonly" in services["redis"]["command"]


@pytest.mark.parametrize("name", ["migrate", *APP_SERVICES])
def test_app_services_share_the_production_environment(services, name):
    environment = services[name]["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "helpdesk.settings.production"
    # least privilege: the app runs as helpdesk_app; only the migrations run as the owner
    owner = "helpdesk" if name == "migrate" else "helpdesk_app"
    assert environment["DATABASE_URL"].startswith(f"postgresql://{owner}:")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/helpdesk")
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"  # compose refuses to start without it
    assert environment["SECURE_SSL_REDIRECT"] == "false"
    assert "CSRF_TRUSTED_ORIGINS" in environment
    assert environment["SITE_URL"].startswith("https://")  # links in mail; production requires it
    # the web healthcheck requests http://localhost:8000/, so localhost must be an allowed host
    assert "localhost" in environment["ALLOWED_HOSTS"].split(",")


def test_no_secret_is_written_in_the_compose_file(services):
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "SECRET" in key:
                assert str(value).startswith("${") and ":?" in str(value), key


def test_dockerfile_uses_slim_python_and_a_non_root_user(dockerfile):
    assert dockerfile[0] == "FROM python:3.11-slim" or dockerfile[0].startswith("FROM python:3.11-slim ")
    users = [step.split(None, 1)[1] for step in dockerfile if step.startswith("USER ")]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_installs_the_project_without_dev_extras(dockerfile):
    installs = [step for step in dockerfile if step.startswith("RUN") and "pip install" in step]
    assert any(re.search(r"pip install (--no-deps )?\.(\s|$)", step) for step in installs)
    assert not any("[dev]" in step for step in installs)


def test_dockerfile_collects_static_files_at_build_time(dockerfile):
    step = next(step for step in dockerfile if "collectstatic" in step)
    for name in ("SECRET_KEY=", "DATABASE_URL=", "REDIS_URL=", "ALLOWED_HOSTS=", "SITE_URL="):
        assert name in step
    # the throwaway build values live in that RUN step only, never in the image's ENV
    env_steps = " ".join(step for step in dockerfile if step.startswith(("ENV ", "ARG ")))
    assert "SECRET_KEY" not in env_steps


def test_dockerfile_starts_gunicorn_on_port_8000(dockerfile):
    assert "EXPOSE 8000" in dockerfile
    cmd = [step for step in dockerfile if step.startswith(("CMD ", "ENTRYPOINT "))][-1]
    argv = yaml.safe_load(cmd.split(None, 1)[1])  # the JSON (exec) form
    assert argv[:2] == ["gunicorn", "helpdesk.wsgi"]
    assert "0.0.0.0:8000" in shlex.join(argv)


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = (PROJECT_DIR / ".dockerignore").read_text().split()
    for entry in (".venv", ".data", ".env", ".git", "staticfiles"):
        assert entry in ignored


ONE_SHOT_JOBS = ("migrate",)


def test_every_service_restarts_and_is_health_checked(services):
    """A dead process comes back (restart policy) and a wedged one is seen (health check).

    One-shot jobs are the exception: they must not restart, and the services after them wait
    for their successful exit instead of a health check.
    """
    for name, service in services.items():
        if name in ONE_SHOT_JOBS:
            assert service["restart"] == "no"
            continue
        assert service.get("restart") in {"always", "unless-stopped"}, name
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
        assert check.get("interval") and check.get("retries"), name
    assert set(ONE_SHOT_JOBS) <= set(services)


def test_worker_and_beat_health_checks(services):
    assert "celery -A helpdesk inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    beat_check = services["beat"]["healthcheck"]["test"]
    assert beat_check[:5] == ["CMD", "python", "manage.py", "check_heartbeat", "beat"]
    # the bound leaves room for several of beat's 15 s heartbeats
    assert int(beat_check[beat_check.index("--max-age") + 1]) >= 60
