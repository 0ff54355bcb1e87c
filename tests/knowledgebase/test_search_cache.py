"""Remembered search results (KB_SEARCH_CACHE_SECONDS): a repeated query costs no SQL, a reader never
gets results remembered for readers who see other articles, and publishing or archiving shows at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledgebase import search, services
from knowledgebase.models import Visibility


@pytest.fixture
def remembering(settings):
    settings.KB_SEARCH_CACHE_SECONDS = 60
    search.forget_results()  # nothing remembered by another test run against other rows


def titles(user, text: str) -> list[str]:
    return [v.title for v in search.suggest_versions(user, search.parse(text))]


def test_a_repeated_suggestion_costs_no_sql(people, publish_as, remembering):
    publish_as(title="VPN drops every hour")
    requester = people["requester"]
    with CaptureQueriesContext(connection) as first:
        assert titles(requester, "vpn drops") == ["VPN drops every hour"]
    assert len(first) >= 2  # the word weights, then the articles (and the reader's roles)
    with CaptureQueriesContext(connection) as again:
        assert titles(requester, "vpn drops") == ["VPN drops every hour"]
    assert len(again) == 0


def test_publishing_and_archiving_show_at_once(people, publish_as, remembering):
    publish_as(title="VPN drops every hour")
    requester = people["requester"]
    assert titles(requester, "vpn drops") == ["VPN drops every hour"]
    second = publish_as(title="VPN drops on the guest network")
    assert set(titles(requester, "vpn drops")) == {"VPN drops every hour", "VPN drops on the guest network"}
    services.archive_article(article_id=second.pk, by=people["manager"])
    assert titles(requester, "vpn drops") == ["VPN drops every hour"]


def test_readers_of_internal_articles_never_share_remembered_results(people, publish_as, remembering):
    publish_as(title="VPN drops every hour")
    publish_as(title="VPN drops: concentrator runbook", visibility=Visibility.INTERNAL)
    assert titles(people["requester"], "vpn drops") == ["VPN drops every hour"]
    assert len(titles(people["agent"], "vpn drops")) == 2
    assert titles(people["vendor"], "vpn drops") == ["VPN drops every hour"]


def test_the_search_page_remembers_its_rows_not_its_reader(client, people, publish_as, remembering):
    article = publish_as(title="Printer shows offline", body="Restart the spooler.")
    client.force_login(people["requester"])
    with CaptureQueriesContext(connection) as first:
        page = client.get("/kb/search/", {"q": "printer spooler"}).content.decode()
    with CaptureQueriesContext(connection) as again:
        assert client.get("/kb/search/", {"q": "printer spooler"}).content.decode().count("Printer shows offline") == (
            page.count("Printer shows offline")
        )
    assert len(again) == len(first) - 1  # the search statement, and only it, is saved
    assert "<mark>spooler</mark>" in page
    services.archive_article(article_id=article.pk, by=people["manager"])
    assert "Printer shows offline" not in client.get("/kb/search/", {"q": "printer spooler"}).content.decode()
