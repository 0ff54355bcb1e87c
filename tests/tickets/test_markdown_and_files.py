from html.parser import HTMLParser
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tickets.markdown import render_markdown
from tickets.models import Attachment, Ticket
from tickets.services import clean_filename, download_content_type, store_attachments
from tickets.services.attachments import sniff_content_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class ActiveContentFinder(HTMLParser):
    """Collects anything in HTML that could run script."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed", "style"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in {"href", "src"} and value and value.strip().lower().startswith(("javascript:", "data:")):
                self.found.append(f"{tag}[{name}={value}]")


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html)
    return finder.found


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](java\nscript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<svg onload=alert(1)>",
        "![x](javascript:alert(1))",
        "<iframe src=https://evil.example></iframe>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_markdown_never_renders_active_content(source):
    assert active_content(render_markdown(source)) == []


def test_markdown_keeps_ordinary_formatting():
    html = render_markdown("**bold**, `code` and [docs](https://example.com)\n\n- one\n- two")
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("evil\x00.exe.txt", "evil.exe.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("", "attachment"),
        ("...", "attachment"),
    ],
)
def test_clean_filename(name, expected):
    assert clean_filename(name) == expected


def test_clean_filename_shortens_keeping_the_extension():
    cleaned = clean_filename("a" * 300 + ".pdf")
    assert len(cleaned) <= 150
    assert cleaned.endswith(".pdf")


def test_type_comes_from_content_not_name():
    assert sniff_content_type(SimpleUploadedFile("notes.txt", PNG, content_type="text/plain")) == "image/png"
    assert sniff_content_type(SimpleUploadedFile("x.png", "héllo".encode(), content_type="image/png")) == "text/plain"
    assert sniff_content_type(SimpleUploadedFile("x", b"\xff\xfe\x00\x01\x80", content_type="")) == (
        "application/octet-stream"
    )


def test_active_types_download_as_bytes(db):
    html = Attachment(content_type="text/html")
    svg = Attachment(content_type="image/svg+xml")
    png = Attachment(content_type="image/png")
    assert download_content_type(html) == download_content_type(svg) == "application/octet-stream"
    assert download_content_type(png) == "image/png"


def test_attachments_are_stored_under_generated_keys(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = factories.make_ticket()
    [attachment] = store_attachments(
        ticket=ticket, by=ticket.requester, uploads=[SimpleUploadedFile("../../evil\u202e.html", b"<b>hi</b>")]
    )
    assert ".." not in attachment.file.name and "evil" not in attachment.file.name
    assert attachment.filename == "evil.html"
    assert attachment.content_type == "text/plain"
    assert attachment.file.read() == b"<b>hi</b>"


def test_oversize_upload_leaves_no_ticket_rows_or_files(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ATTACHMENT_MAX_BYTES = 1000
    requester = factories.make_requester()
    from tickets.services import create_ticket

    small = SimpleUploadedFile("a.txt", b"a" * 10)
    big = SimpleUploadedFile("b.bin", BytesIO(b"b" * 1001).read())
    with pytest.raises(ValidationError, match="limit"):
        create_ticket(requester=requester, by=requester, subject="s", description="d", uploads=[small, big])
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
