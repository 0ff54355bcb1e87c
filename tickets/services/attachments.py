"""Attachments: size-limited, typed from their content, stored under generated keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from helpdesk.core.models import User

from .. import events
from ..events import record_event
from ..models import Attachment, MessageKind, Ticket, TicketMessage

MAX_FILES_PER_MESSAGE = 10
# Types a browser could run if it ever rendered them; always sent as opaque bytes.
ACTIVE_TYPES = {
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "application/javascript",
    "text/javascript",
}


def clean_filename(name: str) -> str:
    """A name safe to show and to offer as a download name.

    Drops any folder part (``../``), control and bidi-override characters (NUL, U+202E ...),
    and shortens to 150 characters keeping the extension. The stored key never uses it.
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"})
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 140 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else name[:150]
    return name or "attachment"


def sniff_content_type(upload: UploadedFile) -> str:
    """The type read from the file's first bytes, never from its name or the browser's header."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def download_content_type(attachment: Attachment) -> str:
    return "application/octet-stream" if attachment.content_type in ACTIVE_TYPES else attachment.content_type


def validate_uploads(uploads: Iterable[UploadedFile]) -> list[UploadedFile]:
    """Refuse the whole set if any file is too large or there are too many (before anything is written)."""
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > MAX_FILES_PER_MESSAGE:
        raise ValidationError(f"At most {MAX_FILES_PER_MESSAGE} files at a time.")
    limit = settings.ATTACHMENT_MAX_BYTES
    for upload in uploads:
        size, name = upload.size or 0, clean_filename(upload.name or "")
        if size > limit:
            raise ValidationError(f"“{name}” is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB.")
        if size == 0:
            raise ValidationError(f"“{name}” is empty.")
    return uploads


def store_attachments(
    *, ticket: Ticket, by: User, uploads: Iterable[UploadedFile], message: TicketMessage | None = None
) -> list[Attachment]:
    """Save ``uploads`` on ``ticket`` inside the caller's transaction.

    Files are written before their rows; if anything fails, the files written so far are
    deleted again, so a refused or failed upload leaves neither rows nor orphan files.
    """
    uploads = validate_uploads(uploads)
    saved: list[Attachment] = []
    try:
        for upload in uploads:
            attachment = Attachment(
                ticket=ticket,
                message=message,
                uploaded_by=by,
                filename=clean_filename(upload.name or ""),
                content_type=sniff_content_type(upload),
                size=upload.size or 0,
            )
            attachment.file.save("upload", upload, save=False)
            saved.append(attachment)
            attachment.save()
            record_event(
                events.attachment_added(
                    ticket,
                    by=by,
                    attachment=attachment.pk,
                    filename=attachment.filename,
                    internal=bool(message and message.kind != MessageKind.PUBLIC),  # notes and vendor messages
                )
            )
    except BaseException:
        for attachment in saved:
            attachment.file.delete(save=False)
        raise
    return saved
