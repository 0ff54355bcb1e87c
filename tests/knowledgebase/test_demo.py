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


def test_bench_seeding_writes_searchable_articles(db):
    from bench import knowledgebase as bench

    bench.seed(_Out(StringIO()), 2000, vacuum=False)
    assert Article.objects.count() == 2000
    assert ArticleVersion.objects.filter(is_live=True, search_vector__isnull=False).count() == 2000
    assert bench.seeded()
    requester = factories.make_requester()
    found = list(search.search_versions(requester, search.parse(bench.SEARCH_QUERY)))
    assert found and all(v.visibility == Visibility.PUBLIC for v in found)
    assert search.suggest_versions(requester, search.parse(bench.SUGGEST_QUERY))


class _Out:
    """The bits of a management command's stdout that the bench sections use."""

    def __init__(self, buffer):
        self.buffer = buffer

    def write(self, text, ending="\n"):
        self.buffer.write(text + ending)

    def flush(self):
        pass
