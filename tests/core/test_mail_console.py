"""The one-line console mail backend of ``make run`` (``helpdesk.core.mail``)."""

import io
import os
import subprocess
import sys
from pathlib import Path

from django.core import mail

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
BACKEND = "helpdesk.core.mail.OneLineEmailBackend"


def test_one_line_per_mail_whatever_the_message_holds():
    stream = io.StringIO()
    connection = mail.get_connection(BACKEND, stream=stream)
    plain = mail.EmailMessage("[HD-000042] Reply on your ticket", "Hello\n\nsecond line", to=["rita@example.com"])
    rich = mail.EmailMultiAlternatives(
        "How did we do?", "text part", to=["a@example.com"], cc=["b@example.com"], bcc=["c@example.com"]
    )
    rich.attach_alternative("<p>html part</p>", "text/html")
    rich.attach("log.txt", "x" * 5000, "text/plain")

    sent = connection.send_messages([plain, rich])

    assert sent == 2
    assert stream.getvalue().splitlines() == [
        "mail to rita@example.com: [HD-000042] Reply on your ticket",
        "mail to a@example.com, b@example.com, c@example.com: How did we do?",
    ]


def test_a_message_without_recipients_is_not_counted_or_printed():
    stream = io.StringIO()
    connection = mail.get_connection(BACKEND, stream=stream)
    assert connection.send_messages([mail.EmailMessage("Nobody", "body")]) == 0
    assert stream.getvalue() == ""


def test_send_mail_goes_through_it():
    stream = io.StringIO()
    sent = mail.send_mail(
        "Subject",
        "Body",
        "helpdesk@example.com",
        ["x@example.com"],
        connection=mail.get_connection(BACKEND, stream=stream),
    )
    assert sent == 1
    assert stream.getvalue() == "mail to x@example.com: Subject\n"


def _email_backend(settings_module: str, **extra: str) -> str:
    # Settings are read once per process: a subprocess on this run's servers (DATABASE_URL and
    # REDIS_URL are set by the test settings, so the local settings start no server of their own).
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "EMAIL_BACKEND")}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, **extra)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_uses_it_and_the_environment_still_overrides():
    assert _email_backend("helpdesk.settings.local") == BACKEND
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    assert _email_backend("helpdesk.settings.local", EMAIL_BACKEND=smtp) == smtp


def test_tests_never_use_it(settings):
    assert settings.EMAIL_BACKEND != BACKEND
