"""Reading real-world-shaped mail: charsets, HTML, attachments, machine mail, quotes and signatures."""

import pytest

from tickets.mail.addresses import (
    clean_header,
    reply_address,
    thread_root_id,
    ticket_from_message_id,
    ticket_from_token_address,
)
from tickets.mail.parsing import decode_bytes, html_to_text, parse, trim_new_message, trim_reply

from .conftest import CORPUS, corpus

HUMAN = {
    # file: (sender, subject, words the text must contain)
    "plain_utf8.eml": ("anna.schmidt@customer.example", "VPN drops every 10 minutes", "Grüße aus Köln"),
    "multipart_alternative.eml": ("bob.jones@customer.example", "Printer on floor 2", 'says "paper jam"'),
    "html_only.eml": ("carla@customer.example", "New laptop request", "- 16 GB RAM"),
    "base64_body.eml": ("juergen@customer.example", "Passwort läuft ab", "Lohnportal läuft morgen ab"),
    "quoted_printable.eml": ("elodie@customer.example", "Serveur de fichiers très lent", "échouent avec une erreur"),
    "iso_8859_1.eml": ("francois@customer.example", "Problème d'accès à l'imprimante", "café du 2e étage"),
    "windows_1252.eml": ("sean.obrien@customer.example", "Licence renewal “overdue”", "says “paid” but the €"),
    "shift_jis.eml": ("yamada@customer.example", "プロジェクター故障", "会議室のプロジェクターが映りません"),
    "forwarded.eml": ("dana@customer.example", "Fwd: Suspicious e-mail", "Is this phishing?"),
    "inline_image.eml": ("erik@customer.example", "Error dialog when opening the CRM", "this dialog appears"),
    "unknown_charset.eml": ("frank@customer.example", "Monitor flickers", "flickers \u2013 since Monday"),
    "attachment_rfc2231.eml": ("gisela@customer.example", "Invoice cannot be opened", "invoice “cannot be opened”"),
    "huge_body.eml": ("henrik@customer.example", "App log attached inline", "attempt 23999"),
    "malformed_headers.eml": (
        "zoe@customer.example",
        "Drucker kaputt \u2013 bitte helfen",
        "this line is not a header",
    ),
}
MACHINE = {
    "auto_reply.eml": "Auto-Submitted",
    "bounce.eml": "mailer-daemon",
    "read_receipt.eml": "report",
    "precedence_bulk.eml": "Precedence: bulk",
}


def test_every_corpus_file_is_covered():
    assert {p.name for p in CORPUS.glob("*.eml")} == set(HUMAN) | set(MACHINE) | {
        "outlook_reply.eml",
        "gmail_reply.eml",
    }


@pytest.mark.parametrize("name", sorted(HUMAN))
def test_human_mail_is_read_whatever_its_encoding(name):
    sender, subject, words = HUMAN[name]
    mail = parse(corpus(name))
    assert mail.from_address == sender
    assert subject in mail.subject
    assert words in mail.text
    assert "\ufffd" not in mail.text + mail.subject  # nothing decoded with the wrong charset
    assert not mail.auto_reason


@pytest.mark.parametrize("name", sorted(MACHINE))
def test_machine_mail_is_recognised(name):
    assert MACHINE[name].lower() in parse(corpus(name)).auto_reason.lower()


def test_html_only_mail_drops_scripts_styles_and_keeps_links():
    text = parse(corpus("html_only.eml")).text
    assert "alert" not in text and "color: red" not in text and "ignored title" not in text
    assert "approval #42 (https://intranet.example/approval/42)" in text


def test_attachments_inline_images_and_forwarded_messages_are_files():
    assert [(a.filename, a.content_type) for a in parse(corpus("inline_image.eml")).attachments] == [
        ("image001.png", "image/png")
    ]
    pdf = parse(corpus("attachment_rfc2231.eml")).attachments
    assert [(a.filename, a.data[:5]) for a in pdf] == [("Rechnung März.pdf", b"%PDF-")]
    forwarded = parse(corpus("forwarded.eml")).attachments
    assert forwarded[0].filename == "Verify your account.eml"
    assert b"Subject: Verify your account" in forwarded[0].data


def test_malformed_headers_do_not_crash_and_fall_back_to_a_hash_key():
    mail = parse(corpus("malformed_headers.eml"))
    assert mail.message_id == ""
    assert mail.defects  # noted, not fatal
    assert "helpdesk@helpdesk.example" in mail.recipients


@pytest.mark.parametrize(
    ("garbage"),
    [b"", b"\x00\xff\xfe", b"Subject: only a header", b"\r\n\r\n\r\n", b"From: <<<>>>\n\nbody", bytes(range(256)) * 20],
)
def test_garbage_never_raises(garbage):
    parse(garbage)


def test_outlook_reply_keeps_only_the_new_words():
    assert trim_reply(parse(corpus("outlook_reply.eml")).text) == (
        "Restarting the router fixed it, thank you! It has been stable for two hours now.\n\nKind regards\nAnna"
    )


def test_gmail_reply_drops_signature_attribution_and_quote():
    assert trim_reply(parse(corpus("gmail_reply.eml")).text) == "It dropped again at 14:55, sorry."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes, works.\n\nOn Tue, 4 Jun 2024 at 10:00, Helpdesk\n<helpdesk@x.example> wrote:\n> old", "Yes, works."),
        ("Danke!\n\nAm 04.06.2024 um 10:00 schrieb Helpdesk <helpdesk@x.example>:\n> alt", "Danke!"),
        ("Fixed.\n-----Original Message-----\nFrom: Helpdesk\nSent: today", "Fixed."),
        ("Thanks\n\nSent from my iPhone", "Thanks"),
        ("Top\n> quoted line\nbottom", "Top\nbottom"),
        ("Answer\n##- Please type your reply above this line -##\nold stuff", "Answer"),
    ],
)
def test_reply_trimming(text, expected):
    assert trim_reply(text) == expected


def test_a_new_request_keeps_forwarded_content_but_not_a_plain_signature():
    assert "Your mailbox is full" in trim_new_message(parse(corpus("forwarded.eml")).text)
    assert trim_new_message("Printer broken.\n-- \nBob\nACME Corp") == "Printer broken."


def test_html_quotes_are_cut_from_replies():
    html = '<div>Works now</div><div class="gmail_quote"><div>On Mon wrote:</div><blockquote>old</blockquote></div>'
    assert trim_reply(html_to_text(html)) == "Works now"


def test_charset_fallbacks():
    assert decode_bytes("Grüße".encode(), "x-unknown-charset") == "Grüße"
    assert decode_bytes("Grüße".encode("latin-1"), "utf-8") == "Grüße"  # mislabelled: falls back
    assert decode_bytes("“quoted” €".encode("cp1252"), "iso-8859-1") == "“quoted” €"


def test_header_injection_is_impossible():
    assert clean_header("Printer\r\nBcc: victim@example.com") == "Printer Bcc: victim@example.com"
    assert clean_header("a\nb\u2028c\x00d\u202eevil") == "a b c devil"


def test_reply_tokens_and_message_ids(mail_settings):
    address = reply_address(42)
    assert address.startswith("helpdesk+hd42-") and address.endswith("@helpdesk.example")
    assert ticket_from_token_address(address) == 42
    assert ticket_from_token_address(address.upper()) == 42  # some servers change the case
    forged = address.replace("hd42-", "hd43-")
    assert ticket_from_token_address(forged) is None
    assert ticket_from_token_address("helpdesk+hd42-0000000000aaaaaaaaaa@helpdesk.example") is None
    assert ticket_from_token_address(address.replace("helpdesk.example", "evil.example")) is None
    assert thread_root_id(42) == "<ticket-42@helpdesk.example>"
    assert ticket_from_message_id("<ticket-42.abc123@helpdesk.example>") == 42
    assert ticket_from_message_id("<ticket-42@evil.example>") is None
