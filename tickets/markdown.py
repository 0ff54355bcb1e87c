"""Markdown to safe HTML: rendered with Python-Markdown, then cleaned by nh3 (an allow-list).

Raw HTML in the source is escaped, only http(s)/mailto links survive (so ``javascript:``
links, however they are split or encoded, are dropped), and every link gets
``rel="noopener noreferrer nofollow"``.

Images: the CSP allows only the desk's own images (``img-src 'self'``), so a Markdown image
``![alt](src)`` stays an image only when the caller names ``src`` as one the desk serves
(``local_image``); any other image becomes a visible link to its address, labelled with its
alt text, instead of vanishing.
"""

import re
from collections.abc import Callable
from xml.etree.ElementTree import Element

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

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
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


class _Images(Treeprocessor):
    """Keeps the images ``local_image`` accepts; turns every other one into a link to it."""

    def __init__(self, md_instance, local_image: Callable[[str], bool]):
        super().__init__(md_instance)
        self.local_image = local_image

    def run(self, root: Element) -> None:
        for element in root.iter("img"):
            src = element.get("src", "")
            if self.local_image(src):
                continue
            alt = element.get("alt", "").strip()
            element.tag = "a"
            element.attrib = {"href": src}
            # The address is shown when there is no alt text, so the reader sees where it points.
            element.text = f"Image: {alt}" if alt else f"Image: {src}"


class _ImagesExtension(Extension):
    def __init__(self, local_image: Callable[[str], bool]):
        super().__init__()
        self.local_image = local_image

    def extendMarkdown(self, md_instance) -> None:  # Python-Markdown names it
        # After the inline patterns (priority 20) have made the <img> elements.
        md_instance.treeprocessors.register(_Images(md_instance, self.local_image), "helpdesk_images", 15)


def _no_image(src: str) -> bool:
    return False


def render_markdown(text: str, *, local_image: Callable[[str], bool] = _no_image) -> SafeString:
    """Safe HTML for ``text`` (Markdown). Never returns markup that can run script.

    ``local_image(src)`` says whether an image address is one the desk serves itself (the
    knowledge base's uploaded images); those stay ``<img>``, every other image becomes a
    link. Raw ``<img>`` tags in the source keep their ``src`` only when it passes the same test.
    """
    html = md.markdown(
        text or "",
        extensions=["extra", "sane_lists", "nl2br", _ImagesExtension(local_image)],
        output_format="html",
    )

    def keep_local_images(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            return value if local_image(value) else None
        return value

    # Python-Markdown passes raw HTML through; escaping it first is not possible without
    # breaking code spans, so the allow-list below is the safety net (it removes <script>
    # and its content, every on* attribute and every non-allow-listed URL scheme).
    cleaned = nh3.clean(
        html,
        # <img> only where the caller serves images; then a raw tag's foreign src is dropped too.
        tags=ALLOWED_TAGS | {"img"} if local_image is not _no_image else ALLOWED_TAGS,
        attributes={**ALLOWED_ATTRIBUTES, "img": {"src", "alt", "title"}},
        attribute_filter=keep_local_images,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
        strip_comments=True,
    )
    # A raw <img> whose address was dropped above would show as an empty box: remove it. nh3's
    # output is serialised HTML, so an <img> without a src attribute is found reliably.
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just sanitised it
