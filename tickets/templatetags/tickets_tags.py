import functools

from django import template
from django.utils.safestring import SafeString

from ..markdown import render_markdown

register = template.Library()

# The same text always renders the same (no local images here), and messages are never edited:
# each worker keeps the HTML of the texts it rendered last, so a long conversation is not turned
# into HTML again on every view of the ticket page.
_rendered = functools.lru_cache(maxsize=4096)(render_markdown)


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """Render Markdown safely (see tickets.markdown)."""
    return _rendered(text or "")
