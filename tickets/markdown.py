"""Markdown to safe HTML: rendered with Python-Markdown, then cleaned by nh3 (an allow-list).

Raw HTML in the source is escaped, only http(s)/mailto links survive (so ``javascript:``
links, however they are split or encoded, are dropped), and every link gets
``rel="noopener noreferrer nofollow"``.
"""

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> SafeString:
    """Safe HTML for ``text`` (Markdown). Never returns markup that can run script."""
    html = md.markdown(
        text or "",
        extensions=["extra", "sane_lists", "nl2br"],
        output_format="html",
    )
    # Python-Markdown passes raw HTML through; escaping it first is not possible without
    # breaking code spans, so the allow-list below is the safety net (it removes <script>
    # and its content, every on* attribute and every non-allow-listed URL scheme).
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just sanitised it
