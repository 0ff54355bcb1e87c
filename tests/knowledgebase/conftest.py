"""Fixtures of the knowledge-base tests: the people of each role and published articles."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from knowledgebase import services
from knowledgebase.models import Article, Category, Visibility
from tests import factories

ROLES = ["anonymous", "requester", "agent", "manager", "vendor"]
STAFF_ROLES = {"agent", "manager"}


@pytest.fixture
def people(db):
    return {
        "anonymous": AnonymousUser(),
        "requester": factories.make_requester(username="rita"),
        "agent": factories.make_agent(1, username="alex"),
        "agent2": factories.make_agent(2, username="bea"),
        "manager": factories.make_manager(username="maya"),
        "vendor": factories.make_vendor_contact(username="victor"),
    }


def content(**overrides) -> dict:
    data = {
        "title": "Printer on floor 3 jams",
        "summary": "Paper jams on every second page.",
        "body": "Open tray 2 and remove the paper.",
        "tags": [],
        "visibility": Visibility.PUBLIC,
        "category": None,
        "is_known_error": False,
        "workaround": "",
    }
    data.update(overrides)
    return data


def publish(author, reviewer, **overrides) -> Article:
    """A published article written by ``author`` and reviewed by ``reviewer`` (through the services)."""
    article = services.create_article(by=author, **content(**overrides))
    services.submit_article(article_id=article.pk, by=author)
    services.publish_article(article_id=article.pk, by=reviewer)
    article.refresh_from_db()
    return article


@pytest.fixture
def category(db):
    return Category.objects.create(name="Network", slug="network", description="VPN, Wi-Fi and cables")


@pytest.fixture
def publish_as(people):
    """``publish_as(**content)``: a published article by the tier-1 agent, reviewed by the manager."""

    def make(**overrides) -> Article:
        return publish(people["agent"], people["manager"], **overrides)

    return make
