"""Our addresses, a ticket's secret reply token, thread Message-IDs and header hygiene.

A ticket's thread root is ``<ticket-123@domain>``: every mail about the ticket gets its own
Message-ID ``<ticket-123.<hash>@domain>`` and names the root in In-Reply-To and References,
so mail clients thread them and a reply can be matched to its ticket from its headers alone.

The reply token is an HMAC of the ticket's id under ``SECRET_KEY``: nobody can make one for
another ticket, and nothing needs storing. It rides in the Reply-To of outbound mail as a
plus-address, ``helpdesk+hd123-<token>@domain``.
"""

from __future__ import annotations

import hashlib
import re
from email.utils import getaddresses, parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from ..services.text import one_line

TOKEN_SALT = "tickets.mail.reply-token"  # noqa: S105 - an HMAC salt, not a secret
TOKEN_RE = re.compile(r"^hd(?P<pk>\d{1,12})-(?P<mac>[0-9a-f]{20})$")
OUR_MESSAGE_ID_RE = re.compile(r"^<?ticket-(?P<pk>\d{1,12})(?:\.[0-9a-z]+)?@(?P<domain>[^>\s]+)>?$", re.IGNORECASE)


def helpdesk_address() -> str:
    """The mailbox replies are sent to (lower case), e.g. ``helpdesk@example.com``."""
    address = settings.HELPDESK_MAIL_ADDRESS or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.strip().lower()


def mail_domain() -> str:
    """The right-hand side of our Message-IDs."""
    return (settings.HELPDESK_MAIL_DOMAIN or helpdesk_address().rpartition("@")[2] or "localhost").lower()


def is_helpdesk_address(address: str) -> bool:
    """Our own mailbox, plus-addressed or not (mail to it from us would be a loop)."""
    local, _, domain = (address or "").strip().lower().rpartition("@")
    ours_local, _, ours_domain = helpdesk_address().partition("@")
    return domain == ours_domain and local.split("+", 1)[0] == ours_local


def reply_token(ticket_pk: int) -> str:
    """``hd123-<20 hex>``: proves that a mail's writer was sent mail about ticket 123."""
    mac = salted_hmac(TOKEN_SALT, str(int(ticket_pk)), algorithm="sha256").hexdigest()[:20]
    return f"hd{int(ticket_pk)}-{mac}"


def reply_address(ticket_pk: int) -> str:
    """``helpdesk+hd123-<token>@domain``: the Reply-To of mail about ticket 123."""
    local, _, domain = helpdesk_address().partition("@")
    return f"{local}+{reply_token(ticket_pk)}@{domain}"


def ticket_from_token_address(address: str) -> int | None:
    """The ticket id in a plus-address carrying a valid reply token, else None (forged or absent)."""
    local, at, domain = (address or "").strip().lower().rpartition("@")
    if not at:
        return None
    base, plus, tag = local.partition("+")
    ours_local, _, ours_domain = helpdesk_address().partition("@")
    if not plus or base != ours_local or domain != ours_domain:
        return None
    match = TOKEN_RE.match(tag)
    if match is None:
        return None
    pk = int(match["pk"])
    return pk if constant_time_compare(reply_token(pk), tag) else None


def thread_root_id(ticket_pk: int) -> str:
    return f"<ticket-{int(ticket_pk)}@{mail_domain()}>"


def message_id_for(ticket_pk: int | None, key: str) -> str:
    """A Message-ID unique to ``key`` and the same for every try of that mail (clients drop repeats)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    if ticket_pk is None:
        return f"<helpdesk.{digest}@{mail_domain()}>"
    return f"<ticket-{int(ticket_pk)}.{digest}@{mail_domain()}>"


def ticket_from_message_id(message_id: str) -> int | None:
    """The ticket of one of *our* Message-IDs (our domain only), else None."""
    match = OUR_MESSAGE_ID_RE.match(message_id.strip())
    if match is None or match["domain"].lower() != mail_domain():
        return None
    return int(match["pk"])


def addresses_in(*values) -> list[tuple[str, str]]:
    """(name, address) pairs of header values; addresses lower-cased, empty ones dropped."""
    found = getaddresses([str(v) for v in values if v])
    return [(name, address.strip().lower()) for name, address in found if "@" in address]


def clean_header(value: str, *, max_length: int = 250) -> str:
    """One line of text safe for a mail header: no CR/LF or other control characters, spaces collapsed.

    Django refuses header values with newlines (BadHeaderError); cleaning first means a subject
    typed with a line break, or crafted to add a header, is sent as one harmless line.
    """
    return one_line(value)[:max_length].rstrip()
