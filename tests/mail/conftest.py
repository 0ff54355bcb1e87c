from pathlib import Path

import pytest

from tests import factories

from .servers import Dovecot, SmtpServer

CORPUS = Path(__file__).resolve().parent / "corpus"
HELPDESK = "helpdesk@helpdesk.example"


@pytest.fixture(autouse=True)
def mail_settings(settings):
    """Our mailbox is helpdesk@helpdesk.example in every e-mail test (the corpus writes to it)."""
    settings.HELPDESK_MAIL_ADDRESS = HELPDESK
    settings.DEFAULT_FROM_EMAIL = f"IT Helpdesk <{HELPDESK}>"
    settings.HELPDESK_MAIL_DOMAIN = ""
    settings.HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS = True
    settings.SITE_URL = "https://help.example"
    return settings


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on loopback, and Django's SMTP backend pointed at it."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dovecot_server():
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_settings(settings, dovecot_server):
    settings.HELPDESK_IMAP_HOST = "127.0.0.1"
    settings.HELPDESK_IMAP_PORT = dovecot_server.port
    settings.HELPDESK_IMAP_USER = dovecot_server.user_name
    settings.HELPDESK_IMAP_PASSWORD = dovecot_server.password
    settings.HELPDESK_IMAP_SSL = False
    settings.HELPDESK_IMAP_STARTTLS = False
    settings.HELPDESK_IMAP_FOLDER = "INBOX"
    settings.HELPDESK_IMAP_AFTER = "seen"
    return settings


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def for_ticket(raw: bytes, ticket, *, token: str | None = None) -> bytes:
    """A corpus reply aimed at ``ticket``: its reference, our Message-IDs for it, its reply token."""
    from tickets.mail.addresses import reply_token

    raw = raw.replace(b"HD-999999", ticket.reference.encode()).replace(b"ticket-999999", f"ticket-{ticket.pk}".encode())
    return raw.replace(b"TOKEN", (token or reply_token(ticket.pk)).encode())


@pytest.fixture
def anna(db):
    """The requester who writes the corpus' replies."""
    return factories.make_requester(
        username="anna", email="anna.schmidt@customer.example", first_name="Anna", last_name="Schmidt"
    )
