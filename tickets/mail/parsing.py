"""Any RFC 822 message to what a ticket needs: who, about what, the text, the files.

Written for mail as it is, not as the RFCs hope: charsets that lie or that Python does not
know, HTML-only bodies, broken base64, headers with raw 8-bit bytes, no Message-ID, forwarded
messages as attachments. Nothing here raises on bad input; what could not be read is noted in
``defects``. Pure functions, no database.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import Header, decode_header
from email.message import Message
from html.parser import HTMLParser

from .addresses import addresses_in

# Charset labels seen in the wild that Python does not know, or knows by another name.
CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "shift_jis",
    "sjis": "shift_jis",
    "windows-31j": "cp932",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "us-ascii": "utf-8",  # often mislabelled 8-bit text; UTF-8 decodes ASCII identically
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "latin1": "iso-8859-1",
    "iso-8859-1": "cp1252",  # what senders labelled Latin-1 usually is (curly quotes, euro sign)
}

# Lines that start the quoted part of a reply, or a signature (checked per line).
QUOTE_SENTINEL = "\u2063--quoted--\u2063"  # put by the HTML converter where a quote block starts
REPLY_MARKER_RE = re.compile(r"#+-?\s*please type your reply above this line", re.IGNORECASE)
ORIGINAL_MESSAGE_RE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$", re.I
)
FORWARD_RE = re.compile(r"^\s*-{2,}\s*forwarded message\s*-{2,}\s*$|^\s*begin forwarded message:\s*$", re.IGNORECASE)
ATTRIBUTION_RE = re.compile(
    r"^\s*(on|am|le|el|il|op|em|den|w dniu)\s.{4,300}"
    r"(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał)\s*:\s*$"
    r"|^\s*am\s.{4,100}\sschrieb\s.{1,300}:\s*$",
    re.IGNORECASE,
)
ATTRIBUTION_START_RE = re.compile(r"^\s*(on|am|le)\s.{4,200}$", re.IGNORECASE)
ATTRIBUTION_END_RE = re.compile(r"(wrote|schrieb|a écrit)\s*:\s*$", re.IGNORECASE)
OUTLOOK_FROM_RE = re.compile(r"^\s*\*?(from|von|de|van)\s*:\*?\s", re.IGNORECASE)
OUTLOOK_NEXT_RE = re.compile(r"^\s*\*?(sent|date|gesendet|envoyé|datum|to|an)\s*:\*?\s", re.IGNORECASE)
UNDERSCORE_RULE_RE = re.compile(r"^\s*_{10,}\s*$")
SIGNATURE_RE = re.compile(r"^-- ?$")
MOBILE_SIGNATURE_RE = re.compile(
    r"^\s*(sent from my (iphone|ipad|android|mobile|phone|galaxy|blackberry)|get outlook for (ios|android)|"
    r"sent from (mail|outlook) for)",
    re.IGNORECASE,
)


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str = ""
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    recipients: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reason: str = ""
    defects: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- decoding


def normalise_charset(label: str | None) -> str:
    label = (label or "").strip().strip("\"'").lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name if label else "utf-8"
    except LookupError:
        return "utf-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data``: the declared charset if it decodes cleanly, else UTF-8, else Windows-1252.

    Never raises: the last resort replaces what cannot be decoded.
    """
    declared = normalise_charset(charset)
    for candidate in dict.fromkeys([declared, "utf-8"]):
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("cp1252", errors="replace")


def decode_header_value(value) -> str:
    """A header as text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8 (or 1252), no newlines."""
    if value is None:
        return ""
    text = str(value) if not isinstance(value, Header) else ""
    try:
        # A Header object (compat32's way to hand over raw 8-bit bytes) keeps those bytes intact.
        parts = decode_header(value if isinstance(value, Header) else text)
    except Exception:  # a malformed encoded word: keep the header as it came
        parts = [(text or str(value), None)]
    out = []
    for data, charset in parts:
        if isinstance(data, bytes):
            if charset is None:
                # decode_header hands back the unencoded stretches as bytes too (ASCII or surrogates).
                out.append(data.decode("utf-8", errors="surrogateescape"))
            else:
                out.append(decode_bytes(data, charset))
        else:
            out.append(data)
    joined = "".join(out)
    # Raw 8-bit header bytes arrive as surrogate escapes: read them as UTF-8, else Windows-1252.
    if any("\udc80" <= ch <= "\udcff" for ch in joined):
        raw = joined.encode("utf-8", errors="surrogateescape")
        joined = decode_bytes(raw, "utf-8")
    return " ".join(joined.split())


class _HtmlToText(HTMLParser):
    """Readable text from an HTML mail body: block elements become lines, quotes are marked."""

    BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.stack: list[str] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self.skip_depth += 1
            return
        classes = (attrs.get("class") or "").lower()
        ident = (attrs.get("id") or "").lower()
        is_quote = (
            tag == "blockquote"
            or "gmail_quote" in classes
            or "yahoo_quoted" in classes
            or ident in {"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"}
        )
        if is_quote and tag != "br":
            if self.quote_depth == 0:
                self.parts.append(f"\n{QUOTE_SENTINEL}\n")
            self.quote_depth += 1
            self.stack.append("quote")
        elif tag not in {"br", "hr", "img", "meta", "link", "input"}:
            self.stack.append(tag)
        if tag in self.BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "img" and attrs.get("alt"):
            self.parts.append(f"[{attrs['alt']}]")
        if tag == "a":
            href = attrs.get("href") or ""
            self.links.append(href if href.startswith(("http://", "https://")) else None)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag in {"br", "hr", "img", "meta", "link", "input"}:
            return
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and href not in "".join(self.parts[-3:]):
                self.parts.append(f" ({href})")
        # Close up to the matching open tag (HTML in mail is rarely well nested).
        while self.stack:
            top = self.stack.pop()
            if top == "quote":
                self.quote_depth = max(0, self.quote_depth - 1)
            if top == tag or (top == "quote" and tag in {"blockquote", "div"}):
                break
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.skip_depth:
            return
        self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).replace("\xa0", " ").split("\n")]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    parser = _HtmlToText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser copes with almost anything; if not, strip the tags crudely
        return re.sub(r"<[^>]+>", " ", html)
    return parser.text()


# --------------------------------------------------------------------------- trimming


def _cut_index(lines: list[str], *, signatures: bool) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if QUOTE_SENTINEL in line or REPLY_MARKER_RE.search(line):
            return i
        if ORIGINAL_MESSAGE_RE.match(line) or ATTRIBUTION_RE.match(line):
            return i
        following = [x for x in lines[i + 1 : i + 6] if x.strip()]
        if ATTRIBUTION_START_RE.match(line) and following and ATTRIBUTION_END_RE.search(following[0]):
            return i  # "On Mon, 3 Jun 2024 at 10:00, Helpdesk" / "<helpdesk@...> wrote:" over two lines
        if UNDERSCORE_RULE_RE.match(line) and following and OUTLOOK_FROM_RE.match(following[0]):
            return i
        if OUTLOOK_FROM_RE.match(line) and any(OUTLOOK_NEXT_RE.match(x) for x in following[:3]):
            return i
        if signatures and (SIGNATURE_RE.match(line) or MOBILE_SIGNATURE_RE.match(stripped)):
            return i
    return len(lines)


def trim_reply(text: str) -> str:
    """The new words of a reply: quoted history, our reply marker and the signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = lines[: _cut_index(lines, signatures=True)]
    kept = [line for line in kept if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def trim_new_message(text: str) -> str:
    """A new request keeps forwarded and quoted content (it is often the point); only a trailing signature goes."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [line for line in lines if QUOTE_SENTINEL not in line]
    for i, line in enumerate(lines):
        if SIGNATURE_RE.match(line) or MOBILE_SIGNATURE_RE.match(line.strip()):
            rest = lines[i + 1 :]
            if not any(FORWARD_RE.match(x) or ORIGINAL_MESSAGE_RE.match(x) or OUTLOOK_FROM_RE.match(x) for x in rest):
                lines = lines[:i]
            break
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------- the message


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot represent
        return ""
    return decode_header_value(value)


def _all_headers(message: Message, name: str) -> list[str]:
    try:
        return [decode_header_value(v) for v in message.get_all(name) or []]
    except Exception:
        return []


def _filename(part: Message) -> str:
    name: str | None
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            param = part.get_param("name")
        except Exception:
            param = None
        name = param[2] if isinstance(param, tuple) else param  # RFC 2231 (charset, language, value)
    return decode_header_value(name) if name else ""


def _payload(part: Message, defects: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        defects.append(f"unreadable part {part.get_content_type()}: {exc}")
        return b""
    if not isinstance(data, bytes):  # None for a multipart part
        return b""
    return data


def _leaves(message: Message):
    """Every non-container part; a forwarded message (message/rfc822) is one leaf, not opened."""
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        for sub in message.get_payload() or []:
            if isinstance(sub, Message):
                yield from _leaves(sub)
    else:
        yield message


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    if disposition == "attachment":
        return True
    ctype = part.get_content_type()
    if ctype in {"text/plain", "text/html"}:
        return bool(_filename(part)) and disposition != "inline"
    return ctype not in {"multipart/alternative", "application/pgp-signature", "application/pkcs7-signature"}


def _extension_for(ctype: str) -> str:
    return {
        "message/rfc822": ".eml",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
        "text/calendar": ".ics",
    }.get(ctype, ".bin")


def _auto_reason(message: Message, from_address: str) -> str:
    """Why this looks machine-made (auto-reply, bounce, list mail), or ""."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Mail-Autoreply", "X-Autogenerated"):
        if message.get(name) is not None:
            return f"{name} header"
    if message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        return "mailing-list message"
    local = from_address.partition("@")[0]
    if local in {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}:
        return f"sent by {local}"
    if _header(message, "Return-Path").strip() == "<>":
        return "null sender (a bounce)"
    ctype = message.get_content_type()
    if ctype == "multipart/report" or any(
        p.get_content_type() in {"message/delivery-status", "message/disposition-notification"}
        for p in _leaves(message)
    ):
        return f"delivery or read report ({ctype})"
    return ""


def dedupe_key(message_id: str, raw: bytes) -> str:
    """The Message-ID when there is one, else a hash of the bytes (the same message seen twice matches)."""
    if message_id and len(message_id) <= 240:
        return f"mid:{message_id}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def parse(raw: bytes) -> ParsedMail:
    """Everything the inbound service needs from ``raw``; never raises on malformed input."""
    result = ParsedMail()
    try:
        message: Message = message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:  # practically unreachable: the parser is lenient
        result.defects.append(f"unparseable: {exc}")
        return result
    result.defects += [type(d).__name__ for d in getattr(message, "defects", [])]
    ids = re.findall(r"<([^<>\s]+)>", _header(message, "Message-ID"))
    result.message_id = ids[0] if ids else _header(message, "Message-ID").strip("<> ")[:240]
    result.subject = _header(message, "Subject")
    senders = addresses_in(_header(message, "From"))
    if senders:
        result.from_name, result.from_address = senders[0]
    recipient_headers = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
    result.recipients = [
        address for _, address in addresses_in(*(v for h in recipient_headers for v in _all_headers(message, h)))
    ]
    result.in_reply_to = re.findall(r"<[^<>\s]+>", _header(message, "In-Reply-To"))
    result.references = re.findall(r"<[^<>\s]+>", _header(message, "References"))
    result.headers = {
        name: _header(message, name) for name in ("Date", "Reply-To", "Auto-Submitted", "Precedence", "Content-Type")
    }
    result.auto_reason = _auto_reason(message, result.from_address)
    result.text, result.attachments = _body_and_files(message, result.defects)
    return result


def _body_and_files(message: Message, defects: list[str]) -> tuple[str, list[ParsedAttachment]]:
    plain: list[str] = []
    html: list[str] = []
    files: list[ParsedAttachment] = []
    for index, part in enumerate(_leaves(message)):
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            try:
                data = inner[0].as_bytes() if isinstance(inner, list) and inner else _payload(part, defects)
            except Exception:
                data = _payload(part, defects)
            files.append(ParsedAttachment(_filename(part) or "forwarded-message.eml", ctype, data))
            continue
        if _is_attachment(part):
            data = _payload(part, defects)
            if data:
                name = _filename(part) or f"attachment-{index + 1}{_extension_for(ctype)}"
                files.append(ParsedAttachment(name, ctype, data))
            continue
        if ctype in {"text/plain", "text/html"}:
            text = decode_bytes(_payload(part, defects), part.get_content_charset())
            (plain if ctype == "text/plain" else html).append(text)
    if plain:
        body = "\n\n".join(plain)
    elif html:
        body = "\n\n".join(html_to_text(h) for h in html)
    else:
        body = ""
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return body.strip(), files
