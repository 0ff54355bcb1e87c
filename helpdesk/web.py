"""Start the web server for ``make run``: gunicorn (whitenoise serves static files),
or Django's runserver when DEBUG=1 (auto-reload, no collectstatic needed)."""

import os
import sys


def main() -> None:
    # No web request may hold a SQL statement longer than this (settings: DB_STATEMENT_TIMEOUT_MS).
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "30000")
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    if os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}:
        argv = [sys.executable, "manage.py", "runserver", f"{host}:{port}"]
    else:
        # gunicorn's usual advice: two workers per core, plus one (WEB_CONCURRENCY overrides).
        workers = os.environ.get("WEB_CONCURRENCY") or str(2 * (os.cpu_count() or 1) + 1)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "helpdesk.wsgi",
            "--bind",
            f"{host}:{port}",
            "--workers",
            workers,
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process with the server, fixed arguments


if __name__ == "__main__":
    main()
