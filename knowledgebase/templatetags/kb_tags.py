"""Template filters of the knowledge base."""

from django import template
from django.utils.safestring import SafeString

from ..markdown import render_article_markdown

register = template.Library()


@register.filter(name="article_markdown")
def article_markdown(text: str) -> SafeString:
    """An article's Markdown as safe HTML, with the images uploaded into articles (see knowledgebase.markdown)."""
    return render_article_markdown(text)
