"""Article Markdown as readers get it: HTML with the desk's own images, and the same as plain text.

Both go through ``tickets.markdown.render_markdown`` (one renderer, one sanitiser). Images
uploaded into articles (``/kb/images/<key>/``) stay images; any other image address
becomes a visible link. The plain text is what search indexes and quotes in snippets, so a
snippet reads like the article and never shows ``##``, ``1.``, ``**`` or link targets.
"""

from __future__ import annotations

import html
import re

from django.utils.html import strip_tags
from django.utils.safestring import SafeString

from tickets.markdown import render_markdown

# The address of an uploaded article image (``knowledgebase:image``), nothing else.
_LOCAL_IMAGE = re.compile(r"/kb/images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/")
_SPACE = re.compile(r"\s+")
# Ends of blocks and cells, and line breaks: a space there keeps neighbouring words apart.
_BREAK = re.compile(r"<br>|</(?:p|li|h[1-6]|td|th|pre|blockquote|tr|dd|dt)>")


def is_article_image(src: str) -> bool:
    """Whether ``src`` is the address of an image uploaded into an article (served by the desk)."""
    return _LOCAL_IMAGE.fullmatch(src or "") is not None


def render_article_markdown(text: str) -> SafeString:
    """Safe HTML of an article's Markdown, uploaded images included (see ``tickets.markdown``)."""
    return render_markdown(text, local_image=is_article_image)


def plain_text(text: str) -> str:
    """The words a reader sees in ``text`` (Markdown): rendered, tags removed, entities decoded, one line.

    Words of adjacent headings, list items, cells and paragraphs never run together.
    """
    rendered = _BREAK.sub(lambda m: f" {m.group(0)}", render_article_markdown(text))
    return _SPACE.sub(" ", html.unescape(strip_tags(rendered))).strip()
