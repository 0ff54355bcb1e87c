"""The e-mail preferences page, the pipe command as a mail server runs it, SLA mail through a refusing server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from helpdesk.core.models import OutboxMessage
from tests import factories
from tests.conftest import PROJECT_DIR, test_database_url
from tickets.models import InboundMail, Ticket

from .conftest import corpus


@pytest.mark.django_db
def test_the_navbar_links_to_the_preferences_page_which_saves_the_choice(client):
    user = factories.make_requester()
    client.force_login(user)
    home = client.get("/portal/")
    assert b'href="/accounts/email/"' in home.content
    page = client.get("/accounts/email/")
    assert page.status_code == 200
    assert b"Send me non-essential e-mail" in page.content and user.email.encode() in page.content
    response = client.post("/accounts/email/", {})  # an unticked checkbox sends nothing
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.receive_optional_email is False
    client.post("/accounts/email/", {"receive_optional_email": "on"})
    user.refresh_from_db()
    assert user.receive_optional_email is True


@pytest.mark.django_db
def test_the_preferences_page_needs_a_login(client):
    response = client.get("/accounts/email/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _pipe(raw: bytes, database_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "HELPDESK_MAIL_ADDRESS": "helpdesk@helpdesk.example",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "receive_email", "--recipient", "helpdesk@helpdesk.example"],
        input=raw,
        capture_output=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_pipe_command_as_a_mail_server_runs_it(tmp_path):
    done = _pipe(corpus("windows_1252.eml"), test_database_url())
    assert done.returncode == 0, done.stderr.decode()
    ticket = Ticket.objects.get()
    assert done.stdout.decode().startswith(f"processed {ticket.reference}")
    assert ticket.subject == "Licence renewal “overdue”" and ticket.channel == "email"

    again = _pipe(corpus("windows_1252.eml"), test_database_url())
    assert again.returncode == 0 and Ticket.objects.count() == 1

    # No database: the command says "try again later" (EX_TEMPFAIL) so the mail server keeps the message.
    missing = Path(tmp_path) / "no-such-socket-dir"
    down = _pipe(corpus("plain_utf8.eml"), f"postgresql://postgres@{str(missing).replace('/', '%2F')}/helpdesk")
    assert down.returncode == 75, down.stderr.decode()[-2000:]
    assert InboundMail.objects.count() == 1


@pytest.mark.django_db
def test_sla_mail_refused_by_the_server_does_not_hold_back_the_escalation(smtp_server):
    """The breach escalates at once; its mail is queued again and sent once the server takes it."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from sla import services as sla
    from sla.defaults import ensure_defaults
    from sla.models import ClockEvent, Policy
    from sla.notifications import act_on_clock_event

    ensure_defaults()
    Policy.objects.filter(is_default=True).update(escalate_on_breach=True)
    sla.bump_settings_version()
    manager = factories.make_manager(email="boss@helpdesk.example")
    factories.make_agent(1, email="first@helpdesk.example")
    with time_machine.travel(timezone.now() - timedelta(hours=5)):
        ticket = factories.make_ticket(impact="high", urgency="high")
    sla.sweep(now=timezone.now())
    event = ClockEvent.objects.filter(ticket=ticket, kind="breached", metric="ola").first()
    assert event is not None

    smtp_server.stop()
    OutboxMessage.objects.all().delete()
    result = act_on_clock_event(event.pk)
    ticket.refresh_from_db()
    assert result["escalated"] is True and ticket.tier == 2
    [retry] = OutboxMessage.objects.filter(task="sla.tasks.clock_event_task")
    assert retry.kwargs == {"event_id": event.pk} and retry.available_at > timezone.now()

    smtp_server.start()
    again = act_on_clock_event(event.pk)
    assert again == {"mails": 1, "escalated": False}
    assert act_on_clock_event(event.pk) == {"mails": 0, "escalated": False}
    [(_, rcpt, raw)] = smtp_server.handler.received
    assert manager.email in rcpt and b"SLA breached" in raw
    assert mail.outbox == []
