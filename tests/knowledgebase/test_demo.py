"""The demo knowledge base (``manage.py seed_kb``): published through the workflow, idempotent."""

from io import StringIO

from django.core.management import call_command

from knowledgebase import search
from knowledgebase.models import Article, ArticleStatus, ArticleVersion, Visibility
from tests import factories


def test_seed_kb_publishes_realistic_articles_once(db):
    out = StringIO()
    call_command("seed_kb", stdout=out)
    assert "created: 11" in out.getvalue()
    call_command("seed_kb", stdout=out)
    assert "created: 0" in out.getvalue()
    assert Article.objects.count() == 11
    assert not Article.objects.exclude(status=ArticleStatus.PUBLISHED).exists()
    live = ArticleVersion.objects.filter(is_live=True)
    assert live.filter(is_known_error=True).exclude(workaround="").exists()
    assert live.filter(visibility=Visibility.INTERNAL).exists()
    requester = factories.make_requester()
    found = search.suggest_versions(requester, search.parse("vpn keeps disconnecting"))
    assert found[0].title == "VPN disconnects every hour"
