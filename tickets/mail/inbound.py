"""Inbound e-mail: one service for the MTA pipe (``manage.py receive_email``) and the IMAP poll.

``receive_email(raw)`` first stores the message raw (``InboundMail``, committed on its own),
then acts on it in one transaction:

* machine mail (auto-replies, bounces, read receipts, list mail, our own mail coming back)
  is *ignored*: it never creates a ticket and never causes a mail, so two robots cannot loop;
* a reply to a ticket (found by the reply token in a recipient address, by our Message-IDs in
  In-Reply-To/References, or by ``[HD-000123]`` in the subject) becomes a public reply by its
  sender through ``tickets.services.add_reply`` (which reopens a resolved ticket within the
  window); on a closed ticket the requester gets ``reply_to_closed`` (a linked follow-up); a
  contact of the ticket's vendor writes in the vendor side conversation (``add_vendor_message``);
* anything else opens a new ticket with channel e-mail.

Who wrote it is decided by From alone, never Reply-To or Sender. A reply is posted only if
its sender is a participant of the ticket (requester, watcher, an agent or manager who may
work it, a contact of its vendor at tier 4), or if it was sent to the ticket's token address:
then the sender was mailed about the ticket (cc'd, forwarded) and joins it as a watcher, if
the watcher rule lets its requester add them (``permissions.can_add_as_watcher``: a colleague).
Otherwise the message is *held* for an admin, like mail from unknown senders when
``HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS`` is off. Nothing is posted for a held message. A
sender past their rate limit for new tickets or replies (``helpdesk.core.ratelimit``) is held
too, unanswered, so a flood of mail never turns into a flood of tickets and acknowledgements.

A message is processed once: its dedupe key (Message-ID, or a hash of the bytes) is unique,
and a message seen again is left alone. If acting fails (a bug, odd input), the transaction
rolls back, the stored message is marked *failed* with the error, and an admin can process it
again from the admin once fixed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.core import ratelimit

from .. import permissions, roles
from ..models import Channel, InboundMail, Status, Ticket, TicketMessage, parse_reference
from ..services import (
    add_reply,
    add_vendor_message,
    add_watcher,
    create_ticket,
    reply_to_closed,
    store_attachments,
)
from ..services.attachments import MAX_FILES_PER_MESSAGE, clean_filename
from .addresses import clean_header, is_helpdesk_address, ticket_from_message_id, ticket_from_token_address
from .parsing import ParsedMail, decode_header_value, dedupe_key, parse, trim_new_message, trim_reply

logger = logging.getLogger(__name__)

SUBJECT_REFERENCE_RE = re.compile(r"\[\s*(HD-\d{1,12})\s*\]", re.IGNORECASE)
HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


class Held(Exception):
    """Stop: keep the message for an admin, post nothing (the reason is the message)."""


class Ignored(Exception):
    """Stop: machine mail, nothing to do (the reason is the message)."""


@dataclass
class Outcome:
    action: str
    ticket: Ticket
    message: TicketMessage | None = None
    notes: str = ""


# --------------------------------------------------------------------------- storing


def _quick_headers(raw: bytes) -> ParsedMail:
    """Message-ID, From and Subject from the header block only (cheap even for a huge message)."""
    match = HEADER_END_RE.search(raw)
    return parse(raw[: match.start()] + b"\r\n\r\n" if match else raw[:65536])


def store_inbound(raw: bytes, *, source: str) -> tuple[InboundMail, bool]:
    """Keep ``raw`` as received; returns (row, created). A message seen before returns its old row.

    Committed at once (the caller's transaction, if any, is not used): once this returns, the
    message survives whatever happens while acting on it.
    """
    head = _quick_headers(raw)
    key = dedupe_key(head.message_id, raw)
    with transaction.atomic():
        return InboundMail.objects.get_or_create(
            dedupe_key=key,
            defaults={
                "message_id": head.message_id[:255],
                "sender": head.from_address[:254],
                "subject": clean_header(head.subject, max_length=255),
                "source": source[:20],
                "size": len(raw),
                "raw": raw,
            },
        )


def receive_email(raw: bytes, *, source: str, envelope_recipient: str = "") -> InboundMail:
    """Store one received message and act on it once (see the module's docstring); returns its record.

    Side effects: an ``InboundMail`` row always; then possibly a ticket, a reply, a follow-up
    ticket, a requester account or a watcher, each recorded in the ticket's history.
    """
    mail, created = store_inbound(raw, source=source)
    if not created:
        logger.info("inbound mail %s seen again (%s); left alone", mail.dedupe_key, mail.status)
        return mail
    return process_inbound(mail.pk, envelope_recipient=envelope_recipient)


def process_inbound(mail_id: int, *, envelope_recipient: str = "") -> InboundMail:
    """Act on a stored message: a new ticket, a reply, or held/ignored with a reason."""
    mail = InboundMail.objects.get(pk=mail_id)
    fields: dict[str, object] = {"processed_at": timezone.now(), "ticket": None, "ticket_message": None, "action": ""}
    try:
        if mail.size > settings.HELPDESK_MAIL_MAX_INBOUND_BYTES:
            raise Held(
                f"The message is {mail.size / 1_048_576:.1f} MB; the limit is "
                f"{settings.HELPDESK_MAIL_MAX_INBOUND_BYTES / 1_048_576:.0f} MB."
            )
        parsed = parse(bytes(mail.raw))
        # Counted per sender, without a client address (even when an admin re-processes it).
        with ratelimit.limited(address=None), transaction.atomic():
            outcome = _act(parsed, envelope_recipient)
    except Ignored as why:
        fields.update(status=InboundMail.Status.IGNORED, reason=str(why))
    except Held as why:
        fields.update(status=InboundMail.Status.HELD, reason=str(why))
    except ratelimit.RateLimited as why:
        # Held, never answered (no acknowledgement storm); an admin can process it again later.
        fields.update(status=InboundMail.Status.HELD, reason=f"Rate limit: {why.message}")
    except Exception as exc:
        logger.exception("inbound mail #%s failed", mail.pk)
        fields.update(status=InboundMail.Status.FAILED, reason=f"{type(exc).__name__}: {exc}"[:4000])
    else:
        fields.update(
            status=InboundMail.Status.PROCESSED,
            reason=outcome.notes,
            action=outcome.action,
            ticket=outcome.ticket,
            ticket_message=outcome.message,
        )
    for name, value in fields.items():
        setattr(mail, name, value)
    mail.save(update_fields=list(fields))
    logger.info("inbound mail #%s from %s: %s %s", mail.pk, mail.sender, mail.status, mail.reason[:200])
    return mail


# --------------------------------------------------------------------------- acting


def _act(parsed: ParsedMail, envelope_recipient: str) -> Outcome:
    if parsed.auto_reason:
        raise Ignored(f"Automatic message ({parsed.auto_reason}): no ticket, no answer.")
    if not parsed.from_address:
        raise Held("No usable sender address in From.")
    if is_helpdesk_address(parsed.from_address):
        raise Ignored("Sent from the helpdesk's own address (a mail loop).")
    token_ticket = None
    for address in [envelope_recipient, *parsed.recipients]:
        token_ticket = ticket_from_token_address(address) if address else None
        if token_ticket is not None:
            break
    ticket = _find_ticket(parsed, token_ticket)
    sender = get_user_model().objects.filter(email__iexact=parsed.from_address).first()
    if ticket is None:
        return _new_ticket(parsed, sender)
    return _reply(parsed, ticket, sender, has_token=token_ticket == ticket.pk)


def _find_ticket(parsed: ParsedMail, token_ticket: int | None) -> Ticket | None:
    """The ticket a message is about: token address, then our Message-IDs, then the subject's reference."""
    candidates: list[int] = []
    if token_ticket is not None:
        candidates.append(token_ticket)
    referenced = [*parsed.in_reply_to, *reversed(parsed.references)]
    candidates += [pk for pk in (ticket_from_message_id(mid) for mid in referenced) if pk is not None]
    if referenced:
        # A reply-all to the requester's own first mail names that mail, not one of ours.
        earlier = (
            InboundMail.objects.filter(message_id__in=[mid.strip("<>") for mid in referenced], ticket__isnull=False)
            .order_by("received_at")
            .values_list("ticket_id", flat=True)
            .first()
        )
        if earlier is not None:
            candidates.append(earlier)
    match = SUBJECT_REFERENCE_RE.search(parsed.subject)
    if match:
        pk = parse_reference(match.group(1))
        if pk is not None:
            candidates.append(pk)
    for pk in candidates:
        ticket = Ticket.objects.filter(pk=pk).first()
        hops = 0
        while ticket is not None and ticket.merged_into_id and hops < 10:
            ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
            hops += 1
        if ticket is not None:
            return ticket
    return None


def _sender_account(parsed: ParsedMail, sender):
    """The sender's account, or a new requester account when unknown senders are allowed."""
    if sender is not None:
        if not sender.is_active:
            raise Held(f"The account of {parsed.from_address} is disabled.")
        return sender
    if not settings.HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS:
        raise Held(f"{parsed.from_address} has no account here, and unknown senders are not accepted.")
    return create_requester_account(parsed.from_address, parsed.from_name)


def create_requester_account(address: str, name: str = ""):
    """An account for someone who wrote in: requester, no usable password (it cannot log in).

    An admin can give it a password later. Safe against two messages from the same new
    address at once: the loser of the race uses the winner's account.
    """
    user_model = get_user_model()
    address = address.strip().lower()
    first, _, last = clean_header(decode_header_value(name), max_length=300).partition(" ")
    base = address[:150]
    username = base
    suffix = 1
    while user_model.objects.filter(username__iexact=username).exists():
        suffix += 1
        username = f"{base[: 150 - len(str(suffix)) - 1]}-{suffix}"
    try:
        with transaction.atomic():
            user = user_model(username=username, email=address, first_name=first[:150], last_name=last[:150])
            user.set_unusable_password()
            user.save()
    except IntegrityError:
        existing = user_model.objects.filter(email__iexact=address).first()
        if existing is None:
            raise
        return existing
    user.groups.add(roles.group(roles.GROUP_REQUESTER))
    return user


def _uploads(parsed: ParsedMail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments that fit the limits, and a line for each one left out."""
    limit = settings.ATTACHMENT_MAX_BYTES
    uploads: list[SimpleUploadedFile] = []
    left_out: list[str] = []
    for attachment in parsed.attachments:
        name = clean_filename(attachment.filename)
        size = len(attachment.data)
        if size == 0:
            continue
        if size > limit:
            left_out.append(f"{name} ({size / 1_048_576:.1f} MB, over the {limit / 1_048_576:.0f} MB limit)")
        elif len(uploads) >= MAX_FILES_PER_MESSAGE:
            left_out.append(f"{name} (more than {MAX_FILES_PER_MESSAGE} files)")
        else:
            uploads.append(SimpleUploadedFile(name, attachment.data, content_type=attachment.content_type))
    return uploads, left_out


def _with_left_out(body: str, left_out: list[str]) -> str:
    if not left_out:
        return body
    return body + "\n\n_Attachments not kept: " + "; ".join(left_out) + "._"


def _new_ticket(parsed: ParsedMail, sender) -> Outcome:
    requester = _sender_account(parsed, sender)
    uploads, left_out = _uploads(parsed)
    description = trim_new_message(parsed.text) or ("(See the attached files.)" if uploads else "(No text.)")
    subject = clean_header(parsed.subject, max_length=200) or "(No subject)"
    ticket = create_ticket(
        requester=requester,
        by=requester,
        subject=subject,
        description=_with_left_out(description, left_out),
        channel=Channel.EMAIL,
        uploads=uploads,
    )
    return Outcome(InboundMail.Action.CREATED, ticket, notes="; ".join(left_out))


def _reply(parsed: ParsedMail, ticket: Ticket, sender, *, has_token: bool) -> Outcome:
    author = sender
    participant = sender is not None and sender.is_active and permissions.can_reply(sender, ticket)
    if not participant:
        if not has_token:
            raise Held(
                f"{parsed.from_address} is not a participant of {ticket.reference} and did not write to its "
                "reply address; nothing was posted."
            )
        # The reply address was mailed to the requester's side, so writing to it is an invitation
        # by the requester, under the watcher rule of the page and the API: colleagues only, never
        # another vendor's people. Checked before an account is made for an unknown sender.
        candidate = sender if sender is not None else get_user_model()(email=parsed.from_address)
        if not permissions.can_add_as_watcher(ticket.requester, candidate, ticket):
            raise Held(
                f"{parsed.from_address} wrote to the reply address of {ticket.reference} but may not follow it "
                "(only colleagues of its requester join by mail); nothing was posted."
            )
        author = _sender_account(parsed, sender)
        add_watcher(ticket_id=ticket.pk, by=author, watcher=author, via_reply_address=True)
    uploads, left_out = _uploads(parsed)
    body = trim_reply(parsed.text) or ("(Sent files by e-mail.)" if uploads else "")
    if not body:
        raise Held(f"The reply to {ticket.reference} has no new text once the quoted part is removed.")
    body = _with_left_out(body, left_out)
    notes = "; ".join(left_out)
    try:
        if ticket.status == Status.CLOSED:
            if author.pk != ticket.requester_id:
                raise Held(f"{ticket.reference} is closed; only its requester can follow it up by e-mail.")
            new = reply_to_closed(ticket_id=ticket.pk, by=author, body=body, channel=Channel.EMAIL)
            store_attachments(ticket=new, by=author, uploads=uploads)
            return Outcome(InboundMail.Action.FOLLOW_UP, new, notes=notes)
        if permissions.is_vendor_of(author, ticket) and not permissions.can_work(author, ticket):
            # The vendor's people answer the desk in the vendor side conversation, by mail as on
            # the page: the requester never sees it.
            message = add_vendor_message(
                ticket_id=ticket.pk, by=author, body=body, channel=Channel.EMAIL, uploads=uploads
            )
        else:
            message = add_reply(ticket_id=ticket.pk, by=author, body=body, channel=Channel.EMAIL, uploads=uploads)
    except (ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise Held(f"Not posted on {ticket.reference}: {text or 'not allowed'}") from None
    return Outcome(InboundMail.Action.REPLIED, ticket, message=message, notes=notes)
