"""Polling a real IMAP server: Debian's dovecot, started unprivileged in a temp dir by the fixture."""

import pytest
from django.db import OperationalError

from tests import factories
from tickets.mail import imap
from tickets.models import InboundMail, Ticket, TicketMessage
from tickets.tasks import poll_imap_task

from .conftest import corpus, for_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(dovecot_server, imap_settings):
    """An empty INBOX for each test."""
    with dovecot_server.client() as client:
        _, data = client.select("INBOX")
        if int(data[0]):
            client.store("1:*", "+FLAGS", r"(\Deleted)")
            client.expunge()
    return dovecot_server


def test_polling_turns_new_mail_into_tickets_and_replies_then_marks_it_seen(mailbox, anna):
    ticket = factories.make_ticket(anna, subject="VPN drops every 10 minutes")
    mailbox.deliver(corpus("multipart_alternative.eml"))
    mailbox.deliver(corpus("auto_reply.eml"))
    mailbox.deliver(for_ticket(corpus("gmail_reply.eml"), ticket))

    result = poll_imap_task()
    assert result["fetched"] == 3 and result["statuses"] == {"processed": 2, "ignored": 1}
    assert Ticket.objects.filter(subject="Printer on floor 2 shows paper jam", channel="email").count() == 1
    assert TicketMessage.objects.get(ticket=ticket).body == "It dropped again at 14:55, sorry."
    assert set(InboundMail.objects.values_list("source", flat=True)) == {"imap"}
    assert all("\\Seen" in flags for flags in mailbox.flags())

    # Nothing new: the next poll fetches nothing and changes nothing.
    assert imap.poll_imap()["fetched"] == 0
    assert Ticket.objects.count() == 2 and mailbox.count() == 3


def test_a_message_fetched_twice_acts_once(mailbox):
    mailbox.deliver(corpus("plain_utf8.eml"))
    imap.poll_imap()
    mailbox.deliver(corpus("plain_utf8.eml"))  # the server hands the same message over again
    assert imap.poll_imap()["fetched"] == 1
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1


def test_delete_after_fetching(mailbox, settings):
    settings.HELPDESK_IMAP_AFTER = "delete"
    mailbox.deliver(corpus("iso_8859_1.eml"))
    mailbox.deliver(corpus("shift_jis.eml"))
    assert imap.poll_imap()["fetched"] == 2
    assert mailbox.count() == 0
    assert Ticket.objects.count() == 2


def test_when_storing_fails_the_message_stays_unseen_and_comes_back(mailbox, monkeypatch):
    mailbox.deliver(corpus("plain_utf8.eml"))
    mailbox.deliver(corpus("html_only.eml"))
    real = imap.receive_email
    calls = []

    def database_down_for_the_second(raw, **kwargs):
        calls.append(raw)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(raw, **kwargs)

    monkeypatch.setattr(imap, "receive_email", database_down_for_the_second)
    with pytest.raises(OperationalError):
        imap.poll_imap()
    assert [("\\Seen" in flags) for flags in mailbox.flags()] == [True, False]
    monkeypatch.undo()
    assert imap.poll_imap()["fetched"] == 1
    assert Ticket.objects.count() == 2


def test_bad_credentials_or_a_dead_server_are_reported_not_raised(mailbox, settings):
    settings.HELPDESK_IMAP_PASSWORD = "wrong"
    assert "error" in imap.poll_imap()["skipped"].lower()
    settings.HELPDESK_IMAP_PORT = 1  # nothing listens there
    assert "refused" in imap.poll_imap()["skipped"].lower()


def test_polling_is_off_until_configured(settings):
    settings.HELPDESK_IMAP_HOST = ""
    assert "not configured" in imap.poll_imap()["skipped"]
