"""HTML pages of the knowledge base: visibility per role, inert markup, forms, deflection, fixed query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledgebase import services
from knowledgebase.models import Article, ArticleStatus, ArticleVersion, Category, Deflection, TicketArticle, Visibility
from tests import factories
from tests.knowledgebase.conftest import ROLES, STAFF_ROLES, content, publish
from tickets import services as ticket_services
from tickets.models import Ticket

PUBLIC_TITLE = "Reset your VPN password"
INTERNAL_TITLE = "VPN concentrator failover runbook"


@pytest.fixture
def two_articles(people, category):
    public = publish(
        people["agent"], people["manager"], title=PUBLIC_TITLE, summary="Self-service VPN reset.", category=category
    )
    internal = publish(
        people["agent"],
        people["manager"],
        title=INTERNAL_TITLE,
        summary="Switch the VPN to the standby node.",
        body="Secret internal VPN steps.",
        visibility=Visibility.INTERNAL,
        category=category,
        is_known_error=True,
        workaround="Fail over the VPN by hand.",
    )
    return public, internal


def login(client, people, role):
    if role != "anonymous":
        client.force_login(people[role])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_internal_articles_never_reach_non_staff_in_html(client, people, two_articles, role):
    public, internal = two_articles
    login(client, people, role)
    pages = {
        "home": reverse("knowledgebase:home"),
        "search": reverse("knowledgebase:search") + "?q=vpn",
        "category": reverse("knowledgebase:category", args=["network"]),
        "suggest": reverse("knowledgebase:suggest") + "?subject=vpn",
    }
    for name, url in pages.items():
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
            continue
        html = response.content.decode()
        assert response.status_code == 200, name
        assert f"/kb/articles/{public.pk}/" in html, name
        assert (f"/kb/articles/{internal.pk}/" in html) == (role in STAFF_ROLES), name
        assert ("runbook" in html) == (role in STAFF_ROLES), name
        if role not in STAFF_ROLES:
            assert "Secret internal" not in html, name
    internal_page = client.get(reverse("knowledgebase:article", args=[internal.pk]))
    public_page = client.get(reverse("knowledgebase:article", args=[public.pk]))
    if role == "anonymous":
        assert internal_page.status_code == public_page.status_code == 302
    elif role in STAFF_ROLES:
        assert internal_page.status_code == 200
        assert "Fail over the VPN by hand." in internal_page.content.decode()
    else:
        assert internal_page.status_code == 404
        assert INTERNAL_TITLE not in internal_page.content.decode()
        assert public_page.status_code == 200


@pytest.mark.parametrize("role", ["requester", "vendor"])
def test_drafts_are_invisible_to_non_writers(client, people, role):
    draft = services.create_article(by=people["agent"], **content(title="Unreviewed draft"))
    client.force_login(people[role])
    assert client.get(reverse("knowledgebase:article", args=[draft.pk])).status_code == 404
    assert client.get(reverse("knowledgebase:manage_article", args=[draft.pk])).status_code == 403
    assert client.get(reverse("knowledgebase:manage")).status_code == 403
    assert "Unreviewed" not in client.get(reverse("knowledgebase:search") + "?q=unreviewed").content.decode()


def test_writer_opening_a_draft_lands_on_its_editor_page(client, people):
    draft = services.create_article(by=people["agent"], **content())
    client.force_login(people["agent2"])
    response = client.get(reverse("knowledgebase:article", args=[draft.pk]))
    assert response["Location"] == reverse("knowledgebase:manage_article", args=[draft.pk])


XSS_BODY = """[click me](javascript:alert(1)) [also](JaVaScRiPt:alert(2))
<script>alert("body")</script><img src=x onerror=alert(3)>
<a href="javascript:alert(4)">html link</a> printer"""
XSS_TITLE = '<script>alert("title")</script> printer'


def test_markup_in_articles_and_queries_is_inert(client, people):
    article = publish(people["agent"], people["manager"], title=XSS_TITLE, body=XSS_BODY, summary="<b>bold?</b>")
    client.force_login(people["requester"])
    pages = [
        client.get(reverse("knowledgebase:article", args=[article.pk])),
        client.get(reverse("knowledgebase:search"), {"q": 'printer <script>alert("q")</script>'}),
        client.get(reverse("knowledgebase:search"), {"q": "printer"}),
        client.get(reverse("knowledgebase:suggest"), {"subject": "<img src=x onerror=alert(9)> printer"}),
        client.get(reverse("knowledgebase:home")),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in html
        assert "onerror=" not in html.replace("onerror=alert(3)&gt;", "").replace("onerror=alert(9)", "") or (
            "<img" not in html
        )
        assert "<img" not in html
        assert not re.search(r"href=\"\s*javascript:", html, re.IGNORECASE)
        assert "<b>bold?</b>" not in html
    assert "<mark>printer</mark>" in pages[2].content.decode()


def test_search_page_pages_and_empty_states(client, people):
    for i in range(12):
        publish(people["agent"], people["manager"], title=f"Printer problem {i:02d}")
    client.force_login(people["requester"])
    first = client.get(reverse("knowledgebase:search"), {"q": "printer"}).content.decode()
    assert "Best matches first, page 1" in first and 'rel="next"' in first
    second = client.get(reverse("knowledgebase:search"), {"q": "printer", "page": 2}).content.decode()
    assert second.count('class="mb-4 kb-result"') == 2 and 'rel="next"' not in second
    assert "No articles found" in client.get(reverse("knowledgebase:search"), {"q": "zebra"}).content.decode()
    assert "at least three letters" in client.get(reverse("knowledgebase:search"), {"q": "a"}).content.decode()
    assert "Type a few words" in client.get(reverse("knowledgebase:search")).content.decode()


def test_empty_knowledge_base_home(client, people):
    client.force_login(people["agent"])
    html = client.get(reverse("knowledgebase:home")).content.decode()
    assert "There are no articles yet" in html and "Write the first one" in html


def _grow(people, category, start: int, count: int) -> None:
    for i in range(start, start + count):
        article = publish(
            people["agent"],
            people["manager"],
            title=f"Printer problem {i}",
            category=category,
            is_known_error=i % 2 == 0,
            workaround="Turn it off.",
            visibility=Visibility.INTERNAL if i % 3 == 0 else Visibility.PUBLIC,
        )
        if i % 3:
            services.vote_article(article_id=article.pk, by=people["requester"], helpful=True)
        Category.objects.create(name=f"Shelf {i}", slug=f"shelf-{i}")


COUNTED_PAGES = [
    (role, page)
    for role in ("requester", "agent", "manager")
    for page in ("home", "search", "suggest", "category", "manage")
    if not (page == "manage" and role == "requester")  # writers only
]


@pytest.mark.parametrize(("role", "page"), COUNTED_PAGES)
def test_query_counts_are_fixed(client, people, category, role, page, django_assert_num_queries):
    urls = {
        "home": reverse("knowledgebase:home"),
        "search": reverse("knowledgebase:search") + "?q=printer+prob",
        "suggest": reverse("knowledgebase:suggest") + "?subject=printer+problem",
        "category": reverse("knowledgebase:category", args=[category.slug]),
        "manage": reverse("knowledgebase:manage") + "?status=published",
    }
    _grow(people, category, 0, 3)
    client.force_login(people[role])
    client.get(urls[page])
    with CaptureQueriesContext(connection) as few:
        assert client.get(urls[page]).status_code == 200
    _grow(people, category, 3, 9)
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get(urls[page]).content.decode()
    assert html.count("/kb/articles/") + html.count("/kb/manage/") >= 3


def test_article_page_counts_views_and_takes_votes(client, people, two_articles):
    public, _ = two_articles
    client.force_login(people["requester"])
    url = reverse("knowledgebase:article", args=[public.pk])
    client.get(url)
    client.get(url)
    response = client.post(
        reverse("knowledgebase:vote", args=[public.pk]), {"helpful": "no", "comment": "Still broken"}
    )
    assert response.status_code == 302
    public.refresh_from_db()
    assert (public.view_count, public.not_helpful_count) == (2, 1)
    assert "Your answer: <strong>no</strong>" in client.get(url).content.decode()
    bad = client.post(reverse("knowledgebase:vote", args=[public.pk]), {"helpful": "maybe"})
    assert bad.status_code == 400
    assert "Select a valid choice" in bad.content.decode()


def test_suggestions_and_deflection_count_once_per_click(client, people, two_articles):
    public, _ = two_articles
    client.force_login(people["requester"])
    fragment = client.get(reverse("knowledgebase:suggest"), {"subject": "vpn password"}).content.decode()
    assert PUBLIC_TITLE in fragment and "This solved my problem" in fragment
    tokens = re.findall(r"hx-vals='\{&quot;token&quot;: &quot;([^&]+)&quot;\}'", fragment) or re.findall(
        r"hx-vals='\{\"token\": \"([^\"]+)\"\}'", fragment
    )
    assert len(tokens) == 1
    for _ in range(2):  # a double-submitted click
        response = client.post(reverse("knowledgebase:deflect"), {"token": tokens[0]}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert "No ticket was created" in response.content.decode()
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_id, deflection.query) == (
        people["requester"],
        public.pk,
        "vpn password",
    )
    assert not Ticket.objects.exists()
    # The same suggestion opened as a page offers the same click, which still counts once.
    link = re.search(r'href="(/kb/articles/\d+/\?s=[^"]+)"', fragment).group(1)
    page = client.get(link.replace("&amp;", "&")).content.decode()
    assert "Did this solve your problem?" in page
    response = client.post(reverse("knowledgebase:deflect"), {"token": tokens[0]})
    assert response["Location"] == reverse("knowledgebase:solved", args=[public.pk])
    assert Deflection.objects.count() == 1


def test_forged_or_foreign_deflection_tokens_count_nothing(client, people, two_articles):
    public, _ = two_articles
    token = services.issue_deflection_token(user=people["agent"], article_id=public.pk, query="q")
    client.force_login(people["requester"])
    assert client.post(reverse("knowledgebase:deflect"), {"token": token}).status_code == 302
    response = client.post(reverse("knowledgebase:deflect"), {"token": "forged"}, HTTP_HX_REQUEST="true")
    assert "expired" in response.content.decode()
    page = client.get(reverse("knowledgebase:article", args=[public.pk]) + "?s=" + token).content.decode()
    assert "Did this solve your problem?" not in page
    assert not Deflection.objects.exists()


def test_deflect_needs_post_and_csrf(people, two_articles):
    from django.test import Client

    public, _ = two_articles
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["requester"])
    token = services.issue_deflection_token(user=people["requester"], article_id=public.pk, query="q")
    assert client.get(reverse("knowledgebase:deflect"), {"token": token}).status_code == 405
    assert client.post(reverse("knowledgebase:deflect"), {"token": token}).status_code == 403
    assert not Deflection.objects.exists()


def test_new_ticket_page_loads_the_suggestion_script(client, people):
    client.force_login(people["requester"])
    html = client.get(reverse("tickets:new")).content.decode()
    assert 'src="/static/knowledgebase/suggest.js"' in html
    assert f'data-suggest-url="{reverse("knowledgebase:suggest")}"' in html


# --------------------------------------------------------------------------- writers' pages


def test_new_article_form_shows_errors_in_the_page_and_writes_nothing(client, people):
    client.force_login(people["agent"])
    data = {"title": "", "summary": "s", "body": "b", "visibility": "public", "is_known_error": "on"}
    response = client.post(reverse("knowledgebase:article_new"), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert 'for="id_title"' in html
    # The service's rule comes back as an error on its field, with the input kept.
    response = client.post(reverse("knowledgebase:article_new"), {**data, "title": "Kept title"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "A known error needs its workaround." in html
    assert 'value="Kept title"' in html
    assert not Article.objects.exists()


def test_write_submit_publish_through_the_pages(client, people, category):
    client.force_login(people["agent"])
    response = client.post(
        reverse("knowledgebase:article_new"),
        {
            "title": "Wi-Fi drops in meeting rooms",
            "summary": "Join the Corp-5G network.",
            "body": "Forget **Corp-Guest**.",
            "tags": "wifi, Meeting Rooms",
            "category": category.pk,
            "visibility": "public",
        },
    )
    article = Article.objects.get()
    assert response["Location"] == article.get_manage_url()
    assert article.tags == ["wifi", "meeting rooms"]
    client.post(reverse("knowledgebase:article_submit", args=[article.pk]))
    page = client.get(article.get_manage_url()).content.decode()
    assert "another writer reviews and publishes it" in page
    refused = client.post(reverse("knowledgebase:article_publish", args=[article.pk]), follow=True)
    assert "Someone else must review" in refused.content.decode() or refused.status_code == 403
    assert not ArticleVersion.objects.exists()

    client.force_login(people["manager"])
    response = client.post(reverse("knowledgebase:article_send_back", args=[article.pk]), {"note": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    client.post(reverse("knowledgebase:article_publish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert ArticleVersion.objects.get(article=article, is_live=True).reviewer == people["manager"]

    # A revision: readers keep version 1, the manage page shows the pending changes, then the diff.
    client.force_login(people["agent"])
    edit = reverse("knowledgebase:article_edit", args=[article.pk])
    assert "Saving starts a new revision" in client.get(edit).content.decode()
    client.post(
        edit,
        {
            "title": "Wi-Fi drops in meeting rooms",
            "summary": "Join the Corp-5G network.",
            "body": "Forget **Corp-Guest**.\nThen reconnect.",
            "tags": "wifi",
            "visibility": "public",
        },
    )
    manage_page = client.get(article.get_manage_url()).content.decode()
    assert "Changes not yet published (since version 1)" in manage_page
    assert "Then reconnect." in manage_page
    client.force_login(people["requester"])
    assert "Then reconnect" not in client.get(reverse("knowledgebase:article", args=[article.pk])).content.decode()
    client.force_login(people["agent"])
    client.post(reverse("knowledgebase:article_submit", args=[article.pk]))
    client.force_login(people["agent2"])
    client.post(reverse("knowledgebase:article_publish", args=[article.pk]))
    diff = client.get(reverse("knowledgebase:diff", args=[article.pk]), {"from": 1, "to": 2}).content.decode()
    assert '<span class="kb-diff-add">+ Then reconnect.</span>' in diff
    assert '<span class="kb-diff-del">- wifi, meeting rooms</span>' in diff
    version = client.get(reverse("knowledgebase:version", args=[article.pk, 1])).content.decode()
    assert "reviewed and published by" in version


def test_only_managers_see_and_use_archive(client, people):
    article = publish(people["agent"], people["manager"])
    client.force_login(people["agent"])
    assert "Archive" not in client.get(article.get_manage_url()).content.decode().replace("Archived", "")
    assert client.post(reverse("knowledgebase:article_archive", args=[article.pk]), {"note": ""}).status_code == 403
    client.force_login(people["manager"])
    client.post(reverse("knowledgebase:article_archive", args=[article.pk]), {"note": "Obsolete"})
    article.refresh_from_db()
    assert article.status == ArticleStatus.ARCHIVED


# --------------------------------------------------------------------------- the ticket page panel


def _ticket_page(client, ticket):
    return client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()


def test_ticket_panel_shows_known_errors_links_and_drafts(client, people, two_articles):
    public, internal = two_articles
    ticket = factories.make_ticket(people["requester"], subject="VPN keeps failing over")
    client.force_login(people["agent"])
    page = _ticket_page(client, ticket)
    assert "Matching known errors" in page and INTERNAL_TITLE in page
    response = client.post(reverse("knowledgebase:ticket_link", args=[ticket.pk]), {"article": public.pk})
    assert response["Location"] == ticket.get_absolute_url()
    assert TicketArticle.objects.filter(ticket=ticket, article=public).exists()
    client.post(reverse("knowledgebase:ticket_link", args=[ticket.pk]), {"article": internal.pk})
    assert INTERNAL_TITLE in _ticket_page(client, ticket)  # (also shows the flash messages)

    client.force_login(people["requester"])
    page = _ticket_page(client, ticket)
    assert "Articles that may help" in page and PUBLIC_TITLE in page
    assert INTERNAL_TITLE not in page
    assert (
        client.post(reverse("knowledgebase:ticket_link", args=[ticket.pk]), {"article": public.pk}).status_code == 403
    )

    client.force_login(people["agent2"])  # tier 2 does not see a tier-1 ticket
    assert (
        client.post(reverse("knowledgebase:ticket_link", args=[ticket.pk]), {"article": public.pk}).status_code == 404
    )

    client.force_login(people["agent"])
    assert "Draft an article from the resolution" not in _ticket_page(client, ticket)
    ticket_services.resolve_ticket(ticket_id=ticket.pk, by=people["agent"], resolution_note="Pinned the VPN node.")
    assert "Draft an article from the resolution" in _ticket_page(client, ticket)
    response = client.post(reverse("knowledgebase:ticket_draft", args=[ticket.pk]))
    draft = Article.objects.get(source_ticket=ticket)
    assert response["Location"] == reverse("knowledgebase:article_edit", args=[draft.pk])
    client.post(reverse("knowledgebase:ticket_draft", args=[ticket.pk]))
    assert Article.objects.filter(source_ticket=ticket).count() == 1
    page = _ticket_page(client, ticket)
    assert "Article drafted from this ticket" in page
    client.post(reverse("knowledgebase:ticket_unlink", args=[ticket.pk, public.pk]))
    assert not TicketArticle.objects.filter(ticket=ticket, article=public).exists()


def test_ticket_panel_is_hidden_from_a_requester_with_nothing_linked(client, people):
    ticket = factories.make_ticket(people["requester"])
    client.force_login(people["requester"])
    assert 'id="kb-panel"' not in _ticket_page(client, ticket)


@pytest.mark.parametrize("role", ["requester", "agent"])
def test_ticket_panel_query_count_is_fixed(client, people, role, django_assert_num_queries):
    ticket = factories.make_ticket(people["requester"], subject="Printer problem on floor 3")
    category = Category.objects.create(name="Printing", slug="printing")

    def link(start, count):
        for i in range(start, start + count):
            article = publish(
                people["agent"],
                people["manager"],
                title=f"Printer problem {i}",
                is_known_error=True,
                workaround="Power-cycle.",
                category=category,
            )
            services.link_article(ticket_id=ticket.pk, article_id=article.pk, by=people["agent"])

    link(0, 2)
    client.force_login(people[role])
    _ticket_page(client, ticket)
    with CaptureQueriesContext(connection) as few:
        _ticket_page(client, ticket)
    link(2, 8)
    with django_assert_num_queries(len(few.captured_queries)):
        page = _ticket_page(client, ticket)
    assert "Printer problem 9" in page
