"""Polling an IMAP mailbox for new mail (a beat task, every minute; off while no host is set).

Each unseen message is fetched without marking it (``BODY.PEEK[]``), handed to
``receive_email`` (which stores it before anything else), and only then flagged ``\\Seen`` (or
deleted, with ``HELPDESK_IMAP_AFTER=delete``). If the database is down the poll stops before
flagging, so the message is fetched again next time; if a message is fetched twice anyway,
its dedupe key makes the second copy a no-op. Two polls never run at once (an advisory lock).
Use a mailbox the helpdesk has to itself: a person reading it would mark messages seen.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from .inbound import receive_email

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key: "HDIMAP" in ASCII, so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x484449_4D4150


@dataclass
class PollResult:
    fetched: int = 0
    skipped: str = ""
    statuses: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"fetched": self.fetched, "skipped": self.skipped, "statuses": self.statuses}


def imap_enabled() -> bool:
    return bool(settings.HELPDESK_IMAP_HOST)


def _connect() -> imaplib.IMAP4:
    host, port, timeout = settings.HELPDESK_IMAP_HOST, settings.HELPDESK_IMAP_PORT, settings.HELPDESK_IMAP_TIMEOUT
    if settings.HELPDESK_IMAP_SSL:
        return imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)
    client = imaplib.IMAP4(host, port, timeout=timeout)
    if settings.HELPDESK_IMAP_STARTTLS:
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def _message_bytes(fetched: list) -> bytes | None:
    for item in fetched or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes | bytearray):
            return bytes(item[1])
    return None


def poll_imap() -> dict:
    """Fetch and receive up to ``HELPDESK_IMAP_BATCH`` unseen messages; returns what happened.

    Connection and login errors are logged and reported (the next poll tries again); an
    error while storing a message stops the poll with that message left unseen.
    """
    result = PollResult()
    if not imap_enabled():
        result.skipped = "IMAP polling is not configured (HELPDESK_IMAP_HOST is empty)"
        return result.as_dict()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            result.skipped = "another poll is running"
            return result.as_dict()
    try:
        _poll(result)
    except (imaplib.IMAP4.error, OSError) as exc:
        logger.warning("IMAP poll of %s failed: %s", settings.HELPDESK_IMAP_HOST, exc)
        result.skipped = f"{type(exc).__name__}: {exc}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    return result.as_dict()


def _poll(result: PollResult) -> None:
    delete = settings.HELPDESK_IMAP_AFTER == "delete"
    client = _connect()
    try:
        client.login(settings.HELPDESK_IMAP_USER, settings.HELPDESK_IMAP_PASSWORD)
        status, _ = client.select(_quoted(settings.HELPDESK_IMAP_FOLDER))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {settings.HELPDESK_IMAP_FOLDER!r}")
        status, data = client.uid("SEARCH", "UNSEEN")
        found = (data[0] or b"").split()[: settings.HELPDESK_IMAP_BATCH] if status == "OK" and data else []
        uids = [uid.decode("ascii") for uid in found]  # UIDs are numbers (RFC 3501)
        for uid in uids:
            status, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = _message_bytes(fetched) if status == "OK" else None
            if raw is None:
                logger.warning("IMAP message uid %s could not be fetched: %s", uid, fetched)
                continue
            mail = receive_email(raw, source="imap")
            result.fetched += 1
            result.statuses[mail.status] = result.statuses.get(mail.status, 0) + 1
            client.uid("STORE", uid, "+FLAGS", r"(\Deleted)" if delete else r"(\Seen)")
        if delete and uids:
            client.expunge()
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.debug("IMAP logout failed", exc_info=True)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
