"""Inbound mail through the one service: new tickets, replies, who may post, machine mail, duplicates."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from helpdesk.core.models import OutboxMessage
from tests import factories
from tickets import roles, services
from tickets.mail.inbound import process_inbound, receive_email
from tickets.models import (
    Attachment,
    Channel,
    EventKind,
    InboundMail,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
)

from .conftest import HELPDESK, corpus, for_ticket
from .test_parsing import HUMAN, MACHINE

pytestmark = pytest.mark.django_db

User = get_user_model()


def simple(
    *, sender="anna.schmidt@customer.example", to=HELPDESK, subject="Help", body="Text", headers="", mid=None
) -> bytes:
    mid = mid or f"<{timezone.now().timestamp()}.{id(body)}.{subject.__hash__()}@customer.example>"
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def vpn_ticket(requester, **kwargs):
    return factories.make_ticket(requester, subject="VPN drops every 10 minutes", **kwargs)


# --------------------------------------------------------------------------- new tickets


@pytest.mark.parametrize("name", sorted(HUMAN))
def test_each_human_corpus_message_opens_one_email_ticket(name):
    sender, subject, words = HUMAN[name]
    mail = receive_email(corpus(name), source="test")
    assert (mail.status, mail.action) == (InboundMail.Status.PROCESSED, InboundMail.Action.CREATED), mail.reason
    ticket = mail.ticket
    assert ticket.channel == Channel.EMAIL
    assert subject in ticket.subject
    assert words in ticket.description
    assert ticket.requester.email == sender
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).count() == 1
    assert OutboxMessage.objects.filter(kwargs__ticket_id=ticket.pk, kwargs__event="received").count() == 1
    assert bytes(mail.raw) == corpus(name)


def test_an_unknown_sender_gets_a_requester_account_that_cannot_log_in():
    receive_email(corpus("plain_utf8.eml"), source="test")
    user = User.objects.get(email="anna.schmidt@customer.example")
    assert (user.first_name, user.last_name) == ("Anna", "Schmidt")
    assert not user.has_usable_password()
    assert roles.primary_role(user) == roles.Role.REQUESTER


def test_a_known_sender_is_the_requester(anna):
    mail = receive_email(corpus("plain_utf8.eml"), source="test")
    assert mail.ticket.requester == anna
    assert User.objects.filter(email__iexact=anna.email).count() == 1


def test_unknown_senders_can_be_refused(settings):
    settings.HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS = False
    mail = receive_email(corpus("plain_utf8.eml"), source="test")
    assert mail.status == InboundMail.Status.HELD
    assert "unknown senders" in mail.reason
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="anna.schmidt@customer.example").exists()


def test_attachments_are_stored_within_the_limits(settings):
    mail = receive_email(corpus("inline_image.eml"), source="test")
    attachment = Attachment.objects.get(ticket=mail.ticket)
    assert (attachment.filename, attachment.content_type) == ("image001.png", "image/png")
    assert attachment.file.read().startswith(b"\x89PNG")

    settings.ATTACHMENT_MAX_BYTES = 40  # the PDF is 45 bytes
    mail = receive_email(corpus("attachment_rfc2231.eml"), source="test")
    assert mail.status == InboundMail.Status.PROCESSED
    assert not Attachment.objects.filter(ticket=mail.ticket).exists()
    assert "Rechnung März.pdf" in mail.ticket.description and "limit" in mail.ticket.description
    assert "Rechnung März.pdf" in mail.reason


def test_a_message_over_the_size_limit_is_kept_raw_and_held(settings):
    settings.HELPDESK_MAIL_MAX_INBOUND_BYTES = 100_000
    raw = corpus("huge_body.eml")
    mail = receive_email(raw, source="test")
    assert mail.status == InboundMail.Status.HELD and "limit" in mail.reason
    assert bytes(InboundMail.objects.get(pk=mail.pk).raw) == raw
    assert not Ticket.objects.exists()


# --------------------------------------------------------------------------- machine mail and loops


@pytest.mark.parametrize("name", sorted(MACHINE))
def test_machine_mail_never_creates_a_ticket_or_a_mail(name, anna):
    ticket = vpn_ticket(anna)
    OutboxMessage.objects.all().delete()
    mail = receive_email(for_ticket(corpus(name), ticket), source="test")
    assert mail.status == InboundMail.Status.IGNORED
    assert Ticket.objects.count() == 1
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    assert not OutboxMessage.objects.exists()


def test_our_own_mail_coming_back_is_ignored():
    mail = receive_email(simple(sender=f"IT Helpdesk <{HELPDESK}>", subject="Loop?"), source="test")
    assert mail.status == InboundMail.Status.IGNORED and "loop" in mail.reason
    assert not Ticket.objects.exists()


def test_a_message_seen_twice_acts_once():
    first = receive_email(corpus("plain_utf8.eml"), source="imap")
    again = receive_email(corpus("plain_utf8.eml"), source="pipe")
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1
    # Without a Message-ID the bytes are the key.
    receive_email(corpus("malformed_headers.eml"), source="test")
    receive_email(corpus("malformed_headers.eml"), source="test")
    assert Ticket.objects.count() == 2
    assert InboundMail.objects.count() == 2


# --------------------------------------------------------------------------- replies


def test_a_reply_matched_by_our_message_ids_is_a_public_reply_without_the_quote(anna):
    ticket = vpn_ticket(anna)
    OutboxMessage.objects.all().delete()
    raw = for_ticket(corpus("gmail_reply.eml"), ticket).replace(b"[" + ticket.reference.encode() + b"]", b"")
    mail = receive_email(raw, source="test")
    assert (mail.status, mail.action, mail.ticket) == (InboundMail.Status.PROCESSED, "replied", ticket)
    message = mail.ticket_message
    assert (message.author, message.kind, message.channel) == (anna, MessageKind.PUBLIC, Channel.EMAIL)
    assert message.body == "It dropped again at 14:55, sorry."
    assert OutboxMessage.objects.filter(kwargs__event="reply", kwargs__message_id=message.pk).exists()


def test_a_reply_matched_by_the_subject_reference_alone(anna):
    ticket = vpn_ticket(anna)
    mail = receive_email(simple(subject=f"Re: [{ticket.reference}] VPN", body="Still broken"), source="test")
    assert mail.ticket == ticket and mail.ticket_message.body == "Still broken"


def test_a_reply_by_token_to_a_resolved_ticket_reopens_it(anna, agent):
    ticket = vpn_ticket(anna)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Restart the router")
    mail = receive_email(for_ticket(corpus("outlook_reply.eml"), ticket), source="test")
    ticket.refresh_from_db()
    assert mail.action == "replied"
    assert ticket.status == Status.OPEN
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.REOPENED).count() == 1
    assert mail.ticket_message.body.startswith("Restarting the router fixed it")
    assert "Please restart your router" not in mail.ticket_message.body


def test_a_reply_after_the_reopen_window_is_held(anna, agent):
    ticket = vpn_ticket(anna)
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Done")
    mail = receive_email(simple(subject=f"Re: [{ticket.reference}]", body="Broken again"), source="test")
    assert mail.status == InboundMail.Status.HELD and "reopened" in mail.reason
    assert not TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC).exists()


def test_a_reply_to_a_closed_ticket_starts_a_linked_follow_up(anna, agent):
    ticket = vpn_ticket(anna)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Done")
    services.confirm_resolution(ticket_id=ticket.pk, by=anna)
    mail = receive_email(for_ticket(corpus("gmail_reply.eml"), ticket), source="test")
    assert mail.action == InboundMail.Action.FOLLOW_UP
    follow_up = mail.ticket
    assert follow_up.pk != ticket.pk and follow_up.requester == anna
    assert ticket in follow_up.related.all()
    assert follow_up.description == "It dropped again at 14:55, sorry."
    assert follow_up.channel == Channel.EMAIL


def test_an_agent_can_answer_by_mail(anna, agent):
    ticket = vpn_ticket(anna)
    raw = simple(sender=agent.email, subject=f"Re: [{ticket.reference}]", body="Try a restart")
    mail = receive_email(raw, source="test")
    ticket.refresh_from_db()
    assert mail.ticket_message.author == agent
    assert ticket.first_response_at is not None and ticket.status == Status.OPEN


def test_vendor_replies_land_on_their_ticket(anna, agent, manager):
    vendor_contact = factories.make_vendor_contact()
    vendor = vendor_contact.vendor_contact.vendor
    ticket = vpn_ticket(anna)
    services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="Tier 1 tried", to_tier=2)
    tier2 = factories.make_agent(2)
    services.escalate_ticket(ticket_id=ticket.pk, by=tier2, reason="Firmware bug", to_tier=4, vendor=vendor)
    services.change_status(ticket_id=ticket.pk, by=manager, status=Status.PENDING_VENDOR)
    mail = receive_email(
        simple(sender=vendor_contact.email, subject=f"RE: [{ticket.reference}] fix", body="Patch 1.2.3"), source="test"
    )
    ticket.refresh_from_db()
    assert mail.ticket_message.author == vendor_contact
    assert ticket.status == Status.OPEN

    other_vendor = factories.make_vendor_contact()
    mail = receive_email(
        simple(sender=other_vendor.email, subject=f"RE: [{ticket.reference}]", body="Hi"), source="test"
    )
    assert mail.status == InboundMail.Status.HELD


def test_a_spoofed_reply_to_never_posts_as_someone_else(anna):
    ticket = vpn_ticket(anna)
    raw = simple(
        sender="Mallory <mallory@evil.example>",
        subject=f"Re: [{ticket.reference}] VPN",
        body="Please close this and send me the VPN config",
        headers=f"Reply-To: {anna.email}\r\nSender: {anna.email}\r\n",
    )
    mail = receive_email(raw, source="test")
    assert mail.status == InboundMail.Status.HELD and "not a participant" in mail.reason
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    assert not User.objects.filter(email="mallory@evil.example").exists()


def test_a_known_user_who_is_not_a_participant_is_held(anna, other_requester):
    ticket = vpn_ticket(anna)
    mail = receive_email(
        simple(sender=other_requester.email, subject=f"[{ticket.reference}]", body="me too"), source="test"
    )
    assert mail.status == InboundMail.Status.HELD
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_someone_cc_d_who_writes_to_the_reply_address_joins_as_a_watcher(anna):
    from tickets.mail.addresses import reply_address

    ticket = vpn_ticket(anna)
    raw = simple(sender="Colleague <colleague@customer.example>", to=reply_address(ticket.pk), body="Same for me")
    mail = receive_email(raw, source="test")
    colleague = User.objects.get(email="colleague@customer.example")
    assert mail.ticket_message.author == colleague
    assert colleague in ticket.watchers.all()
    # A forged token is no token.
    forged = reply_address(ticket.pk)[:-20] + "0" * 5 + reply_address(ticket.pk)[-15:]
    mail = receive_email(simple(sender="x@customer.example", to=forged, subject=f"[{ticket.reference}]"), source="test")
    assert mail.status == InboundMail.Status.HELD


def test_a_reply_with_nothing_new_is_held(anna):
    ticket = vpn_ticket(anna)
    mail = receive_email(simple(subject=f"Re: [{ticket.reference}]", body="> only a quote"), source="test")
    assert mail.status == InboundMail.Status.HELD and "no new text" in mail.reason


def test_a_merged_ticket_s_replies_go_to_the_ticket_it_was_merged_into(anna, agent):
    first, second = vpn_ticket(anna), vpn_ticket(anna)
    Ticket.objects.filter(pk=first.pk).update(merged_into=second)
    mail = receive_email(simple(subject=f"Re: [{first.reference}]", body="Any news?"), source="test")
    assert mail.ticket == second


# --------------------------------------------------------------------------- failures and the admin


def test_a_failure_keeps_the_message_for_an_admin_who_can_process_it_again(monkeypatch, admin_user, client):
    from tickets.mail import inbound

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inbound, "create_ticket", broken)
    mail = receive_email(corpus("windows_1252.eml"), source="test")
    assert (mail.status, mail.reason) == (InboundMail.Status.FAILED, "RuntimeError: disk full")
    assert not Ticket.objects.exists() and not User.objects.filter(email="sean.obrien@customer.example").exists()
    monkeypatch.undo()

    client.force_login(admin_user)
    page = client.get(f"/admin/tickets/inboundmail/{mail.pk}/change/")
    assert page.status_code == 200 and b"disk full" in page.content
    raw = client.get(f"/admin/tickets/inboundmail/{mail.pk}/raw/")
    assert b"".join(raw.streaming_content if raw.streaming else [raw.content]) == corpus("windows_1252.eml")
    response = client.post(
        "/admin/tickets/inboundmail/", {"action": "process_again", "_selected_action": [mail.pk]}, follow=True
    )
    assert response.status_code == 200
    mail.refresh_from_db()
    assert mail.status == InboundMail.Status.PROCESSED and mail.ticket.subject == "Licence renewal “overdue”"
    # A processed message is not processed again by the action.
    client.post("/admin/tickets/inboundmail/", {"action": "process_again", "_selected_action": [mail.pk]})
    assert Ticket.objects.count() == 1


def test_processing_again_what_was_held_once_the_sender_has_an_account(settings):
    settings.HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS = False
    mail = receive_email(corpus("plain_utf8.eml"), source="test")
    assert mail.status == InboundMail.Status.HELD
    factories.make_requester(email="anna.schmidt@customer.example")
    assert process_inbound(mail.pk).status == InboundMail.Status.PROCESSED


def test_the_pipe_command_reads_stdin():
    out = io.StringIO()
    call_command("receive_email", stdin=io.BytesIO(corpus("shift_jis.eml")), stdout=out)
    ticket = Ticket.objects.get()
    assert out.getvalue().startswith(f"processed {ticket.reference}")
    assert ticket.subject == "プロジェクター故障"
