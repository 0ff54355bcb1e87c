"""Workflow, versions and diffs, votes, views, deflections and ticket links (``knowledgebase.services``)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from knowledgebase import services
from knowledgebase.models import (
    Article,
    ArticleEvent,
    ArticleStatus,
    ArticleVersion,
    Deflection,
    EventKind,
    TicketArticle,
    Visibility,
    Vote,
)
from tests import factories
from tests.knowledgebase.conftest import content, publish
from tickets import services as ticket_services


def snapshot(article: Article) -> tuple:
    article.refresh_from_db()
    return (
        article.status,
        article.title,
        article.body,
        article.updated_by_id,
        list(article.versions.values_list("number", "is_live")),
        article.events.count(),
    )


def test_draft_review_publish_keeps_every_version_with_author_and_reviewer(people):
    agent, manager = people["agent"], people["manager"]
    article = services.create_article(by=agent, **content(title="VPN drops"))
    assert article.status == ArticleStatus.DRAFT
    services.submit_article(article_id=article.pk, by=agent)
    v1 = services.publish_article(article_id=article.pk, by=manager)
    assert (v1.number, v1.author, v1.reviewer, v1.is_live) == (1, agent, manager, True)

    # The manager revises it: readers keep version 1 while the revision is a draft, then in review.
    services.update_article(article_id=article.pk, by=manager, title="VPN drops every hour")
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    assert ArticleVersion.objects.get(article=article, is_live=True).title == "VPN drops"
    services.submit_article(article_id=article.pk, by=manager)
    v2 = services.publish_article(article_id=article.pk, by=agent)
    assert (v2.number, v2.author, v2.reviewer) == (2, manager, agent)
    assert list(article.versions.order_by("number").values_list("number", "title", "is_live")) == [
        (1, "VPN drops", False),
        (2, "VPN drops every hour", True),
    ]
    kinds = list(ArticleEvent.objects.filter(article=article).values_list("kind", flat=True))
    assert kinds == [
        EventKind.CREATED,
        EventKind.SUBMITTED,
        EventKind.PUBLISHED,
        EventKind.EDITED,
        EventKind.SUBMITTED,
        EventKind.PUBLISHED,
    ]


def test_diff_between_versions_shows_added_and_removed_lines(people):
    article = publish(people["agent"], people["manager"], body="Step one\nStep two\nStep three")
    services.update_article(article_id=article.pk, by=people["agent"], body="Step one\nStep 2\nStep three\nStep four")
    services.submit_article(article_id=article.pk, by=people["agent"])
    services.publish_article(article_id=article.pk, by=people["manager"])
    v1, v2 = ArticleVersion.objects.filter(article=article).order_by("number")
    diffs = {d.field: d for d in services.diff_versions(v1, v2)}
    assert not diffs["title"].changed
    body = diffs["body"].lines
    assert ("del", "Step two") in body
    assert ("add", "Step 2") in body
    assert ("add", "Step four") in body
    assert ("same", "Step one") in body


@pytest.mark.parametrize("role", ["requester", "vendor"])
def test_non_writers_cannot_write(people, role):
    with pytest.raises(PermissionDenied):
        services.create_article(by=people[role], **content())
    assert not Article.objects.exists()


def test_author_cannot_publish_own_text_and_nothing_changes(people):
    agent = people["agent"]
    article = services.create_article(by=agent, **content())
    services.submit_article(article_id=article.pk, by=agent)
    before = snapshot(article)
    with pytest.raises(PermissionDenied):
        services.publish_article(article_id=article.pk, by=agent)
    assert snapshot(article) == before
    assert not ArticleVersion.objects.exists()


def test_manager_editing_someone_elses_draft_becomes_its_last_editor(people):
    """Four eyes apply to the last editor: a manager who changed the text cannot publish it."""
    article = services.create_article(by=people["agent"], **content())
    services.update_article(article_id=article.pk, by=people["manager"], summary="Better summary.")
    services.submit_article(article_id=article.pk, by=people["agent"])
    with pytest.raises(PermissionDenied):
        services.publish_article(article_id=article.pk, by=people["manager"])
    version = services.publish_article(article_id=article.pk, by=people["agent"])
    assert (version.author, version.reviewer) == (people["manager"], people["agent"])


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ("draft", lambda a, p: services.publish_article(article_id=a.pk, by=p["manager"]), "submit it for review"),
        ("review", lambda a, p: services.update_article(article_id=a.pk, by=p["manager"], title="X"), "in review"),
        ("review", lambda a, p: services.submit_article(article_id=a.pk, by=p["agent"]), "Only a draft"),
        ("review", lambda a, p: services.send_back_article(article_id=a.pk, by=p["manager"], note=" "), "change"),
        ("draft", lambda a, p: services.send_back_article(article_id=a.pk, by=p["manager"], note="x"), "in review"),
        ("archived", lambda a, p: services.update_article(article_id=a.pk, by=p["agent"], title="X"), "restore"),
        ("archived", lambda a, p: services.archive_article(article_id=a.pk, by=p["manager"]), "already"),
        ("draft", lambda a, p: services.restore_article(article_id=a.pk, by=p["manager"]), "archived"),
        ("draft", lambda a, p: services.update_article(article_id=a.pk, by=p["agent"], title=""), "required"),
        (
            "draft",
            lambda a, p: services.update_article(article_id=a.pk, by=p["agent"], is_known_error=True, workaround=""),
            "workaround",
        ),
    ],
)
def test_workflow_refusals_write_nothing(people, setup, action, message):
    agent = people["agent"]
    article = services.create_article(by=agent, **content())
    if setup in ("review", "archived"):
        services.submit_article(article_id=article.pk, by=agent)
    if setup == "archived":
        services.archive_article(article_id=article.pk, by=people["manager"])
    before = snapshot(article)
    with pytest.raises(ValidationError) as error:
        action(article, people)
    assert message in " ".join(error.value.messages)
    assert snapshot(article) == before


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_only_managers_archive_and_restore(people, role):
    article = publish(people["agent"], people["manager"])
    before = snapshot(article)
    with pytest.raises(PermissionDenied):
        services.archive_article(article_id=article.pk, by=people[role])
    assert snapshot(article) == before


def test_archive_takes_the_live_version_down_and_restore_goes_back_through_review(people):
    article = publish(people["agent"], people["manager"])
    services.archive_article(article_id=article.pk, by=people["manager"], note="Printer replaced")
    assert not ArticleVersion.objects.filter(is_live=True).exists()
    services.restore_article(article_id=article.pk, by=people["manager"])
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    assert not ArticleVersion.objects.filter(is_live=True).exists()
    services.submit_article(article_id=article.pk, by=people["agent"])
    services.publish_article(article_id=article.pk, by=people["manager"])
    assert ArticleVersion.objects.get(is_live=True).number == 2


def test_tags_are_cleaned(people):
    article = services.create_article(by=people["agent"], **content(tags=" VPN, remote  work,vpn,, "))
    assert article.tags == ["vpn", "remote work"]


def test_votes_one_per_person_and_counts_follow(people):
    article = publish(people["agent"], people["manager"])
    services.vote_article(article_id=article.pk, by=people["requester"], helpful=True, comment="Worked")
    services.vote_article(article_id=article.pk, by=people["agent2"], helpful=False)
    services.vote_article(article_id=article.pk, by=people["requester"], helpful=False, comment="Came back")
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (0, 2)
    assert Vote.objects.get(user=people["requester"]).comment == "Came back"


def test_requester_cannot_vote_on_internal_article(people):
    article = publish(people["agent"], people["manager"], visibility=Visibility.INTERNAL)
    with pytest.raises(ValidationError):
        services.vote_article(article_id=article.pk, by=people["requester"], helpful=True)
    assert not Vote.objects.exists()


def test_views_are_counted(people):
    article = publish(people["agent"], people["manager"])
    services.record_view(article_id=article.pk)
    services.record_view(article_id=article.pk)
    article.refresh_from_db()
    assert article.view_count == 2


def test_deflection_counts_once_per_token(people):
    article = publish(people["agent"], people["manager"])
    requester = people["requester"]
    token = services.issue_deflection_token(user=requester, article_id=article.pk, query="printer jams")
    first, created = services.record_deflection(user=requester, token=token)
    again, created_again = services.record_deflection(user=requester, token=token)
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert Deflection.objects.get().query == "printer jams"
    # A new rendering of the suggestion is a new click.
    services.record_deflection(
        user=requester, token=services.issue_deflection_token(user=requester, article_id=article.pk, query="x")
    )
    assert Deflection.objects.count() == 2


def test_deflection_token_is_bound_to_user_and_signature(people):
    article = publish(people["agent"], people["manager"])
    token = services.issue_deflection_token(user=people["requester"], article_id=article.pk, query="q")
    for user, bad in ((people["agent"], token), (people["requester"], token[:-2] + "xx"), (people["requester"], "")):
        with pytest.raises(ValidationError):
            services.record_deflection(user=user, token=bad)
    assert not Deflection.objects.exists()


def test_no_deflection_on_an_article_the_requester_cannot_read(people):
    article = publish(people["agent"], people["manager"], visibility=Visibility.INTERNAL)
    token = services.issue_deflection_token(user=people["requester"], article_id=article.pk, query="q")
    with pytest.raises(ValidationError):
        services.record_deflection(user=people["requester"], token=token)
    assert not Deflection.objects.exists()


def _resolved_ticket(people, **kwargs):
    ticket = factories.make_ticket(people["requester"], subject="Outlook asks for password", **kwargs)
    ticket_services.resolve_ticket(
        ticket_id=ticket.pk, by=people["agent"], resolution_note="Removed the **stale** credential."
    )
    ticket.refresh_from_db()
    return ticket


def test_draft_from_ticket_once_internal_and_linked(people):
    ticket = _resolved_ticket(people)
    article, created = services.draft_from_ticket(ticket_id=ticket.pk, by=people["agent"])
    again, created_again = services.draft_from_ticket(ticket_id=ticket.pk, by=people["agent"])
    assert (created, created_again) == (True, False)
    assert again.pk == article.pk
    assert article.title == "Outlook asks for password"
    assert article.visibility == Visibility.INTERNAL
    assert "Removed the **stale** credential." in article.body
    assert article.source_ticket == ticket
    assert TicketArticle.objects.filter(ticket=ticket, article=article).exists()


def test_draft_from_ticket_needs_a_resolution_and_work_rights(people):
    ticket = factories.make_ticket(people["requester"])
    with pytest.raises(ValidationError):
        services.draft_from_ticket(ticket_id=ticket.pk, by=people["agent"])
    resolved = _resolved_ticket(people)
    with pytest.raises(Http404):
        services.draft_from_ticket(ticket_id=resolved.pk, by=people["agent2"])  # tier 2 does not see it
    with pytest.raises(PermissionDenied):
        services.draft_from_ticket(ticket_id=resolved.pk, by=people["requester"])  # sees it, does not work it
    assert not Article.objects.exists()


def test_link_requires_work_rights_and_a_linkable_article(people):
    ticket = factories.make_ticket(people["requester"])
    article = publish(people["agent"], people["manager"])
    services.link_article(ticket_id=ticket.pk, article_id=article.pk, by=people["agent"])
    services.link_article(ticket_id=ticket.pk, article_id=article.pk, by=people["agent"])
    assert TicketArticle.objects.count() == 1
    with pytest.raises(Http404):
        services.link_article(ticket_id=ticket.pk, article_id=article.pk, by=people["agent2"])
    with pytest.raises(PermissionDenied):
        services.link_article(ticket_id=ticket.pk, article_id=article.pk, by=people["requester"])
    with pytest.raises(ValidationError):
        services.link_article(ticket_id=ticket.pk, article_id=article.pk + 100, by=people["agent"])
    services.unlink_article(ticket_id=ticket.pk, article_id=article.pk, by=people["agent"])
    assert not TicketArticle.objects.exists()
