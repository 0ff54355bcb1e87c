"""Notification e-mail: rendered from ``templates/email/``, delivered at most once per recipient.

How a notification gets out, and why nothing is lost or sent twice:

1. The change that causes it writes an outbox row in its own transaction (``_notify`` ->
   ``helpdesk.core.services.enqueue``); the relay hands it to Celery when Redis is up, retrying
   with back-off while it is not.
2. The consumer task (``tickets.tasks.notify_task``, ``sla.tasks.clock_event_task``) works out
   who hears about it and calls ``send_notification``.
3. Before each mail goes to the SMTP server, an ``OutboundMail`` row keyed by (what it is for,
   recipient) is written and *committed on a database connection of its own*, then marked sent
   right after the server accepted it. A redelivered task (the worker died, or its transaction
   rolled back after the send) finds the row and sends nothing. A refused mail (SMTP down, 4xx,
   5xx) is marked failed and the task raises, so the outbox retries it later with back-off; the
   mails that did go out are not repeated. A worker killed in the instant between the SMTP
   server's acceptance and the row being marked sent leaves it "sending": never resent, shown
   in the admin (at-most-once is the promise; our stable Message-ID lets clients drop a copy).

Essential and optional mail: every recipient carries ``essential``; a user who turned off
non-essential e-mail (``User.receive_optional_email``) gets only the essential ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DEFAULT_DB_ALIAS, connections
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from helpdesk.core.services import current_outbox_id

from ..markdown import render_markdown
from ..models import InboundMail, OutboundMail, Ticket
from .addresses import clean_header, is_helpdesk_address, message_id_for, reply_address, thread_root_id

logger = logging.getLogger(__name__)

# Text above this line in a reply is the answer; the inbound side cuts everything below it.
REPLY_MARKER = "##- Please type your reply above this line -##"
BRAKE_WINDOW = timedelta(hours=1)


class DeliveryFailed(Exception):
    """Some mails of a notification were refused; they are retried when the task runs again."""


@dataclass
class Recipient:
    """One person to tell; ``context`` adds to the template context of their mail only."""

    email: str
    name: str = ""
    essential: bool = False
    wants_optional: bool = True
    context: dict = field(default_factory=dict)

    @classmethod
    def of(cls, user, *, essential: bool, context: dict | None = None) -> Recipient:
        return cls(
            email=(user.email or "").strip(),
            name=user.display_name,
            essential=essential,
            wants_optional=getattr(user, "receive_optional_email", True),
            context=context or {},
        )


@dataclass
class Notification:
    """What to send: ``template`` names ``email/<template>_subject.txt``, ``.txt`` and ``.html``.

    ``source`` says what the mail is for and, with the recipient, makes the idempotency key:
    the same source is never mailed twice to the same person. ``grouped`` sends one mail to
    everyone (staff notices, where the To list is no secret) instead of one mail each.
    ``reply_by_mail`` sets the ticket's token address as Reply-To and shows the reply marker.
    """

    source: str
    template: str
    ticket: Ticket | None
    recipients: list[Recipient]
    context: dict = field(default_factory=dict)
    grouped: bool = False
    reply_by_mail: bool = True


def source_for_current_task(prefix: str = "outbox") -> str:
    """``outbox:<id>`` inside an outbox task; a one-off key when called directly (shell, tests)."""
    outbox_id = current_outbox_id()
    return f"{prefix}:{outbox_id}" if outbox_id is not None else f"direct:{uuid.uuid4().hex}"


def preferences_url() -> str:
    try:
        return f"{settings.SITE_URL}{reverse('mail:preferences')}"
    except NoReverseMatch:
        return ""


def ticket_context(ticket: Ticket | None) -> dict:
    if ticket is None:
        return {"site_url": settings.SITE_URL}
    return {
        "ticket": ticket,
        "reference": ticket.reference,
        "ticket_subject": clean_header(ticket.subject, max_length=200),
        "ticket_url": f"{settings.SITE_URL}{ticket.get_absolute_url()}",
        "status_label": ticket.get_status_display(),
        "site_url": settings.SITE_URL,
        "reopen_days": settings.TICKET_REOPEN_WINDOW_DAYS,
    }


def markdown_html(text: str):
    """Markdown of tickets and replies as safe HTML for the mail's HTML part."""
    return render_markdown(text)


def eligible(recipients: list[Recipient]) -> list[Recipient]:
    """One entry per address, none to ourselves, none optional to people who turned those off."""
    seen: set[str] = set()
    kept = []
    for recipient in recipients:
        address = recipient.email.strip().lower()
        if not address or "@" not in address or address in seen or is_helpdesk_address(address):
            continue
        if not recipient.essential and not recipient.wants_optional:
            continue
        seen.add(address)
        kept.append(recipient)
    return kept


def over_brake(ticket_pk: int | None, address: str, *, now) -> bool:
    """The loop brake: ``address`` already got the cap of mails about this ticket within the hour."""
    if ticket_pk is None:
        return False
    recent = OutboundMail.objects.filter(
        ticket_pk=ticket_pk,
        recipients__contains=[address.lower()],
        status__in=[OutboundMail.Status.SENT, OutboundMail.Status.SENDING],
        created_at__gte=now - BRAKE_WINDOW,
    ).count()
    return recent >= settings.HELPDESK_MAIL_MAX_PER_TICKET_RECIPIENT_HOUR


def _key(source: str, template: str, audience: str) -> str:
    key = f"{source}:{template}:{audience}"
    if len(key) <= 255:
        return key
    return f"{key[:190]}#{hashlib.sha256(key.encode()).hexdigest()}"


def _thread_references(ticket: Ticket) -> list[str]:
    """The thread root, preceded by the requester's own first mail when the ticket came by e-mail."""
    first = (
        InboundMail.objects.filter(ticket=ticket, action=InboundMail.Action.CREATED)
        .exclude(message_id="")
        .values_list("message_id", flat=True)
        .first()
    )
    root = thread_root_id(ticket.pk)
    return [f"<{first}>", root] if first else [root]


def build_message(notification: Notification, recipients: list[Recipient], key: str) -> EmailMultiAlternatives:
    """The e-mail for ``recipients`` (one person, or a group): subject, text and HTML parts, headers."""
    ticket = notification.ticket
    single = recipients[0] if len(recipients) == 1 and not notification.grouped else None
    context = {
        **ticket_context(ticket),
        "preferences_url": preferences_url(),
        "reply_marker": REPLY_MARKER if notification.reply_by_mail and ticket else "",
        "recipient_name": single.name if single else "",
        "essential": all(r.essential for r in recipients),
        "extra_text": "",
        "extra_html": "",
        **notification.context,
        **(single.context if single else {}),
    }
    subject = clean_header(render_to_string(f"email/{notification.template}_subject.txt", context))
    text = render_to_string(f"email/{notification.template}.txt", context)
    html = render_to_string(f"email/{notification.template}.html", context)
    headers = {
        "Message-ID": message_id_for(ticket.pk if ticket else None, key),
        # RFC 3834: machine-made mail; well-behaved auto-responders stay silent, which (with the
        # inbound side ignoring auto-replies and the loop brake) keeps two robots from ping-pong.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    reply_to = []
    if ticket is not None:
        references = _thread_references(ticket)
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
        headers["X-Helpdesk-Ticket"] = ticket.reference
        if notification.reply_by_mail:
            reply_to = [reply_address(ticket.pk)]
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[r.email for r in recipients],
        reply_to=reply_to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


class _Ledger:
    """``OutboundMail`` rows written on a connection of their own, committed statement by statement.

    Raw SQL because the ORM only speaks through the thread's connection, which is inside the
    task's transaction. The rows have no foreign keys, so this connection never waits on a
    lock held by that transaction.
    """

    def __init__(self):
        self._connection = None
        self.table = OutboundMail._meta.db_table

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._connection is not None:
            self._connection.close()

    def _execute(self, sql: str, params: list) -> tuple | None:
        if self._connection is None:
            self._connection = connections.create_connection(DEFAULT_DB_ALIAS)
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None

    def claim(self, *, key: str, ticket_pk, kind: str, recipients: list[str], subject: str, message_id: str) -> str:
        """ "go" if this call may send the mail now; otherwise the row's status (sent, sending, skipped)."""
        now = timezone.now()
        inserted = self._execute(
            f"INSERT INTO {self.table} (key, ticket_pk, kind, recipients, subject, message_id, status, attempts, "  # noqa: S608
            "last_error, created_at) VALUES (%s, %s, %s, %s::jsonb, %s, %s, 'sending', 1, '', %s) "
            "ON CONFLICT (key) DO NOTHING RETURNING id",
            [key, ticket_pk, kind, json.dumps(recipients), subject[:255], message_id[:255], now],
        )
        if inserted:
            return "go"
        retried = self._execute(
            f"UPDATE {self.table} SET status = 'sending', attempts = attempts + 1, recipients = %s::jsonb, "  # noqa: S608
            "subject = %s WHERE key = %s AND status = 'failed' RETURNING id",
            [json.dumps(recipients), subject[:255], key],
        )
        if retried:
            return "go"
        row = self._execute(f"SELECT status FROM {self.table} WHERE key = %s", [key])  # noqa: S608
        return row[0] if row else "sending"

    def finish(self, key: str, status: str, error: str = "") -> None:
        sent_at = timezone.now() if status == OutboundMail.Status.SENT else None
        self._execute(
            f"UPDATE {self.table} SET status = %s, last_error = %s, sent_at = %s WHERE key = %s",  # noqa: S608
            [status, error[:2000], sent_at, key],
        )

    def skip(self, *, key: str, ticket_pk, kind: str, recipients: list[str], reason: str) -> None:
        self._execute(
            f"INSERT INTO {self.table} (key, ticket_pk, kind, recipients, subject, message_id, status, attempts, "  # noqa: S608
            "last_error, created_at) VALUES (%s, %s, %s, %s::jsonb, '', '', 'skipped', 0, %s, %s) "
            "ON CONFLICT (key) DO NOTHING",
            [key, ticket_pk, kind, json.dumps(recipients), reason, timezone.now()],
        )


def _close_quietly(connection) -> None:
    if connection is None:
        return
    try:
        connection.close()
    except Exception:  # closing a dead SMTP session must not hide the real outcome
        logger.debug("closing the mail connection failed", exc_info=True)


def send_notification(notification: Notification) -> int:
    """Send ``notification`` to whoever should get it and has not yet; return the number of mails sent now.

    Invariants: a (source, recipient) pair is mailed at most once, ever; optional mail skips
    people who turned it off; no address gets more than the brake's cap of mails about one
    ticket in an hour (beyond it the mail is skipped, recorded and logged).
    Raises ``DeliveryFailed`` after trying every mail if the mail server refused any of them,
    so the calling outbox task is retried later (the ones that went out are not repeated).
    """
    recipients = eligible(notification.recipients)
    if not recipients:
        return 0
    ticket = notification.ticket
    ticket_pk = ticket.pk if ticket else None
    batches = [recipients] if notification.grouped else [[r] for r in recipients]
    now = timezone.now()
    sent = 0
    failures: list[str] = []
    connection = None
    with _Ledger() as ledger:
        try:
            for batch in batches:
                audience = "group" if notification.grouped else batch[0].email.lower()
                key = _key(notification.source, notification.template, audience)
                braked = [r for r in batch if over_brake(ticket_pk, r.email, now=now)]
                batch = [r for r in batch if r not in braked]
                for recipient in braked:
                    logger.warning(
                        "loop brake: not mailing %s about ticket #%s (%s): %s mails within the hour",
                        recipient.email,
                        ticket_pk,
                        notification.template,
                        settings.HELPDESK_MAIL_MAX_PER_TICKET_RECIPIENT_HOUR,
                    )
                if not batch:
                    ledger.skip(
                        key=key,
                        ticket_pk=ticket_pk,
                        kind=notification.template,
                        recipients=[r.email.lower() for r in braked],
                        reason="loop brake: too many mails about this ticket within the hour",
                    )
                    continue
                message = build_message(notification, batch, key)
                state = ledger.claim(
                    key=key,
                    ticket_pk=ticket_pk,
                    kind=notification.template,
                    recipients=[r.email.lower() for r in batch],
                    subject=message.subject,
                    message_id=message.extra_headers["Message-ID"],
                )
                if state != "go":
                    logger.info("mail %s not sent again (%s)", key, state)
                    continue
                try:
                    if connection is None:
                        # Opened once and kept for the notification's other mails.
                        connection = get_connection(fail_silently=False)
                        connection.open()
                    connection.send_messages([message])
                except Exception as exc:  # smtplib, socket and backend errors all mean "try later"
                    logger.warning("mail %s refused: %s", key, exc)
                    ledger.finish(key, OutboundMail.Status.FAILED, f"{type(exc).__name__}: {exc}")
                    failures.append(f"{audience}: {type(exc).__name__}: {exc}")
                    # A session in an unknown state is not reused for the next mail.
                    _close_quietly(connection)
                    connection = None
                else:
                    ledger.finish(key, OutboundMail.Status.SENT)
                    sent += 1
        finally:
            _close_quietly(connection)
    if failures:
        raise DeliveryFailed("; ".join(failures)[:1900])
    return sent
