"""Outbound notifications: who gets what, threading headers, preferences, the loop brake, at-most-once.

The SMTP tests send through Django's SMTP backend to a real SMTP server (aiosmtpd) on loopback.
"""

from email import message_from_bytes, policy

import pytest
from django.core import mail

from helpdesk.core.models import OutboxMessage
from tests import factories
from tickets import notifications, services
from tickets.mail.addresses import reply_address, thread_root_id
from tickets.mail.outbound import REPLY_MARKER
from tickets.models import OutboundMail, Status, Ticket
from tickets.tasks import notify_task

from .conftest import corpus

pytestmark = pytest.mark.django_db

NOTIFY = "tickets.tasks.notify_task"


def run_outbox() -> list:
    """Run every unfinished notification of the outbox once, as the worker would (with its outbox id)."""
    pending = OutboxMessage.objects.filter(task=NOTIFY).exclude(status=OutboxMessage.Status.DONE).order_by("id")
    return [notify_task(outbox_id=m.pk, **m.kwargs) for m in pending]


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


@pytest.fixture
def people(db):
    requester = factories.make_requester(email="rita@customer.example", first_name="Rita", last_name="R")
    watcher = factories.make_requester(email="walt@customer.example")
    agent = factories.make_agent(1, email="alex@helpdesk.example")
    return {"requester": requester, "watcher": watcher, "agent": agent}


@pytest.fixture
def ticket(people):
    """A ticket with a watcher; its "received" mail already sent (and cleared from the outbox)."""
    ticket = factories.make_ticket(people["requester"], subject="Laptop will not boot")
    services.add_watcher(ticket_id=ticket.pk, by=people["requester"], watcher=people["watcher"])
    run_outbox()
    mail.outbox.clear()
    return ticket


# --------------------------------------------------------------------------- content and headers


def test_received_mail_threads_and_invites_a_reply(people):
    ticket = factories.make_ticket(people["requester"], subject="Laptop will not boot")
    services.add_watcher(ticket_id=ticket.pk, by=people["requester"], watcher=people["watcher"])
    run_outbox()
    assert len(mail.outbox) == 1  # the requester's confirmation only
    message = mail.outbox[0]
    assert message.to == ["rita@customer.example"]
    assert message.subject == f"[{ticket.reference}] Laptop will not boot"
    headers = message.extra_headers
    root = thread_root_id(ticket.pk)
    assert root == f"<ticket-{ticket.pk}@helpdesk.example>"
    assert headers["Message-ID"].startswith(f"<ticket-{ticket.pk}.") and headers["Message-ID"] != root
    assert headers["In-Reply-To"] == root and root in headers["References"]
    assert headers["Auto-Submitted"] == "auto-generated"
    assert message.reply_to == [reply_address(ticket.pk)]
    assert message.body.startswith(REPLY_MARKER)
    assert "Hello Rita R," in message.body and f"https://help.example/tickets/{ticket.pk}/" in message.body
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    assert "It jams on every <strong>second</strong> page." in html and "Laptop will not boot" in html


def test_each_mail_has_its_own_message_id_under_the_one_thread_root(ticket, people):
    services.add_reply(ticket_id=ticket.pk, by=people["agent"], body="Hold the power button for 30 s")
    run_outbox()
    ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert len(ids) == len(mail.outbox) == 2  # the reply, to the requester and to the watcher
    assert {m.extra_headers["In-Reply-To"] for m in mail.outbox} == {thread_root_id(ticket.pk)}


def test_a_ticket_opened_by_mail_answers_in_the_requester_s_own_thread():
    from tickets.mail.inbound import receive_email

    inbound = receive_email(corpus("plain_utf8.eml"), source="test")
    run_outbox()
    [message] = mail.outbox
    assert message.to == ["anna.schmidt@customer.example"]
    assert "<CAF=plain.utf8.0001@mail.customer.example>" in message.extra_headers["References"]
    assert inbound.ticket.reference in message.subject


def test_replies_reach_the_other_side_never_the_author_and_never_internal_notes(ticket, people):
    services.add_note(ticket_id=ticket.pk, by=people["agent"], body="SECRET: the disk is encrypted with a known key")
    services.claim_ticket(ticket_id=ticket.pk, by=people["agent"])
    services.add_reply(ticket_id=ticket.pk, by=people["agent"], body="Please hold the power button")
    services.add_reply(ticket_id=ticket.pk, by=people["requester"], body="That worked for a minute")
    run_outbox()
    assert all("SECRET" not in m.body and "SECRET" not in m.alternatives[0][0] for m in mail.outbox)
    agent_reply = [m for m in mail.outbox if "Please hold the power button" in m.body]
    assert sorted(a for m in agent_reply for a in m.to) == ["rita@customer.example", "walt@customer.example"]
    requester_reply = [m for m in mail.outbox if "That worked for a minute" in m.body]
    assert sorted(a for m in requester_reply for a in m.to) == ["alex@helpdesk.example", "walt@customer.example"]
    assert all(len(m.to) == 1 for m in mail.outbox)  # people on the requester side get their own mail


def test_the_vendor_gets_the_public_facts_never_the_escalation_note(ticket, people):
    vendor_contact = factories.make_vendor_contact(email="support@contoso.example")
    manager = factories.make_manager(email="maya@helpdesk.example")
    services.escalate_ticket(
        ticket_id=ticket.pk,
        by=manager,
        reason="INTERNAL: customer is on the watch list",
        to_tier=4,
        vendor=vendor_contact.vendor_contact.vendor,
        vendor_reference="CT-77",
    )
    services.add_note(ticket_id=ticket.pk, by=manager, body="INTERNAL note for agents")
    services.add_reply(ticket_id=ticket.pk, by=manager, body="Vendor, please replace the mainboard")
    mail.outbox.clear()
    run_outbox()
    vendor_mails = sent_to("support@contoso.example")
    assert len(vendor_mails) == 2
    assert "CT-77" in vendor_mails[0].body or "CT-77" in vendor_mails[1].body
    assert any("replace the mainboard" in m.body for m in vendor_mails)
    for message in mail.outbox:
        if "support@contoso.example" in message.to or "rita@customer.example" in message.to:
            assert "INTERNAL" not in message.body and "INTERNAL" not in message.alternatives[0][0]


def test_staff_notices_go_to_the_tier_as_one_mail(ticket, people):
    tier2 = [factories.make_agent(2, email=f"t2-{i}@helpdesk.example") for i in range(2)]
    mail.outbox.clear()
    services.escalate_ticket(ticket_id=ticket.pk, by=people["agent"], reason="Needs a technician: BIOS beeps")
    run_outbox()
    [notice] = [m for m in mail.outbox if "Escalated to tier 2" in m.subject]
    assert sorted(notice.to) == sorted(u.email for u in tier2)
    assert "BIOS beeps" in notice.body and "PUBLIC reply" in notice.body
    assert notice.reply_to == []


def test_the_resolution_mail_has_a_hook_for_the_survey(ticket, people, monkeypatch):
    monkeypatch.setattr(notifications, "_context_providers", {})
    notifications.register_context_provider(
        "resolved", lambda t, user: {"extra_text": f"Rate us: https://help.example/survey/{t.pk}/{user.pk}"}
    )
    mail.outbox.clear()
    services.resolve_ticket(ticket_id=ticket.pk, by=people["agent"], resolution_note="Replaced the **SSD**")
    run_outbox()
    [to_requester] = sent_to("rita@customer.example")
    assert to_requester.subject == f"[{ticket.reference}] Resolved: Laptop will not boot"
    assert "Replaced the **SSD**" in to_requester.body and "<strong>SSD</strong>" in to_requester.alternatives[0][0]
    survey = f"https://help.example/survey/{ticket.pk}/{people['requester'].pk}"
    assert survey in to_requester.body and survey in to_requester.alternatives[0][0]


def test_people_who_turned_off_optional_mail_still_get_the_essential_ones(ticket, people):
    for person in (people["requester"], people["watcher"]):
        person.receive_optional_email = False
        person.save(update_fields=["receive_optional_email"])
    mail.outbox.clear()
    services.change_status(ticket_id=ticket.pk, by=people["agent"], status=Status.PENDING_REQUESTER)
    services.add_reply(ticket_id=ticket.pk, by=people["agent"], body="Which model is it?")
    run_outbox()
    # Status change: optional for everyone. The reply: essential for the requester only.
    assert [(m.to, "Which model" in m.body) for m in mail.outbox] == [(["rita@customer.example"], True)]
    assert "turn off" not in mail.outbox[0].body.lower()


def test_a_subject_cannot_inject_headers(ticket, people, smtp_server):
    Ticket.objects.filter(pk=ticket.pk).update(subject="Broken\r\nBcc: victim@evil.example\r\nX-Evil: 1")
    OutboxMessage.objects.all().delete()
    services.add_reply(ticket_id=ticket.pk, by=people["agent"], body="Looking into it")
    run_outbox()
    assert smtp_server.handler.recipients() == [["rita@customer.example"], ["walt@customer.example"]]
    for _, _, raw in smtp_server.handler.received:
        head = raw.split(b"\r\n\r\n", 1)[0].lower()
        assert b"\nbcc:" not in head and b"\nx-evil:" not in head
        assert b"broken bcc: victim@evil.example x-evil: 1" in head


# --------------------------------------------------------------------------- loop brake and at-most-once


def test_the_loop_brake_caps_mails_per_ticket_and_recipient(ticket, people, settings, caplog):
    settings.HELPDESK_MAIL_MAX_PER_TICKET_RECIPIENT_HOUR = 3  # the requester already had "received"
    for i in range(4):
        services.add_reply(ticket_id=ticket.pk, by=people["agent"], body=f"Auto answer {i}")
    run_outbox()
    assert len(sent_to("rita@customer.example")) == 2  # 1 + 2 = the cap of 3
    assert len(sent_to("walt@customer.example")) == 3
    skipped = OutboundMail.objects.filter(ticket_pk=ticket.pk, status=OutboundMail.Status.SKIPPED)
    assert sorted(row.recipients[0] for row in skipped) == [
        "rita@customer.example",
        "rita@customer.example",
        "walt@customer.example",
    ]
    assert "loop brake" in caplog.text


def test_a_crash_after_sending_does_not_send_again(people, monkeypatch):
    """The mail went out, then the task's transaction was lost: the redelivery sends nothing."""
    ticket = factories.make_ticket(people["requester"])
    from helpdesk.core import services as core_services

    original_save = OutboxMessage.save

    def crash_when_marking_done(self, *args, **kwargs):
        if self.status == OutboxMessage.Status.DONE:
            raise ConnectionError("worker lost its database connection")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(OutboxMessage, "save", crash_when_marking_done)
    monkeypatch.setattr(core_services.logger, "exception", lambda *a, **k: None)
    assert run_outbox() == [None]
    message = OutboxMessage.objects.get(task=NOTIFY)
    assert message.status == OutboxMessage.Status.PENDING and "database connection" in message.last_error
    assert len(mail.outbox) == 1
    monkeypatch.undo()
    assert run_outbox() == [0]  # delivered again: nothing sent
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DONE
    assert OutboundMail.objects.get(ticket_pk=ticket.pk).status == OutboundMail.Status.SENT


# --------------------------------------------------------------------------- a real SMTP server


def test_mail_goes_through_a_real_smtp_server(people, smtp_server):
    ticket = factories.make_ticket(people["requester"])
    assert run_outbox() == [1]
    [(mail_from, rcpt, raw)] = smtp_server.handler.received
    assert (mail_from, rcpt) == ("helpdesk@helpdesk.example", ["rita@customer.example"])
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == reply_address(ticket.pk)
    assert message["In-Reply-To"] == thread_root_id(ticket.pk)
    assert message.get_body(("html",)) is not None and message.get_body(("plain",)) is not None


@pytest.mark.parametrize(
    "refusal", ["451 4.3.0 Mailbox temporarily unavailable", "550 5.7.1 Relaying denied for now", "server down"]
)
def test_a_refused_mail_is_retried_later_then_sent_exactly_once(ticket, people, smtp_server, refusal):
    services.add_reply(ticket_id=ticket.pk, by=people["agent"], body="Please try again")
    if refusal == "server down":
        smtp_server.stop()
    else:
        smtp_server.handler.refusals = [refusal] * 2  # the reply to the requester and to the watcher
    assert run_outbox() == [None]
    pending = OutboxMessage.objects.filter(task=NOTIFY).exclude(status=OutboxMessage.Status.DONE)
    assert pending.count() == 1
    assert all(m.status == OutboxMessage.Status.PENDING and m.available_at > m.created_at for m in pending)
    assert all("DeliveryFailed" in m.last_error for m in pending)
    assert smtp_server.handler.received == []
    replies = OutboundMail.objects.filter(ticket_pk=ticket.pk, kind="ticket_reply")
    assert [row.status for row in replies] == [OutboundMail.Status.FAILED] * 2

    if refusal == "server down":
        smtp_server.start()
    assert run_outbox() == [2]
    assert run_outbox() == []  # done: nothing left to run
    assert sorted(r[0] for r in smtp_server.handler.recipients()) == ["rita@customer.example", "walt@customer.example"]
    assert [(row.status, row.attempts) for row in replies.all()] == [(OutboundMail.Status.SENT, 2)] * 2


def test_when_one_recipient_is_refused_only_that_one_is_retried(ticket, people, smtp_server):
    services.add_reply(ticket_id=ticket.pk, by=people["agent"], body="Update")
    smtp_server.handler.refusals_for = {"walt@customer.example": ["452 4.2.2 Mailbox full"]}
    assert run_outbox() == [None]
    assert run_outbox() == [1]
    assert sorted(r[0] for r in smtp_server.handler.recipients()) == ["rita@customer.example", "walt@customer.example"]
