"""Who may read, write, review and link knowledge-base articles. Written once; HTML views and the API use it.

Readers: every signed-in person reads the *live* version of published articles, requesters
and vendor contacts only the public ones, staff readers (agents, managers, admins) the
internal ones too. Anonymous visitors read nothing (the KB is the company's: sign in first).

Writers: agents and managers write drafts, submit them and review other people's text.
Only managers archive and restore. Linking articles to a ticket follows the ticket's own
rule (``tickets.permissions.can_work``). The services check the state rules again
(four eyes, drafts only...), with a message.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from helpdesk.core.models import User
from tickets import permissions as ticket_permissions
from tickets import roles
from tickets.models import Ticket

from .models import Article, ArticleImage, ArticleStatus, ArticleVersion, Visibility


def can_read_internal(user: User | AnonymousUser) -> bool:
    """Internal articles are for staff readers only (never requesters, vendor contacts or visitors)."""
    return user.is_authenticated and ticket_permissions.is_staff_reader(user)


def readable_q(user: User | AnonymousUser, prefix: str = "") -> Q:
    """Condition on ``ArticleVersion`` rows (through ``prefix``, e.g. ``"versions__"``): live and readable."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    condition = Q(**{f"{prefix}is_live": True})
    if not can_read_internal(user):
        condition &= Q(**{f"{prefix}visibility": Visibility.PUBLIC})
    return condition


def live_versions(user: User | AnonymousUser) -> QuerySet[ArticleVersion]:
    """The live versions ``user`` may read (the published knowledge base as they see it)."""
    if not user.is_authenticated:
        return ArticleVersion.objects.none()
    return ArticleVersion.objects.filter(readable_q(user))


def get_live_version_for(user: User | AnonymousUser, article_id: int | str) -> ArticleVersion:
    """The live version of article ``article_id`` if ``user`` may read it, else Http404 (never 403)."""
    try:
        return (
            live_versions(user).select_related("article", "category", "author", "reviewer").get(article_id=article_id)
        )
    except (ArticleVersion.DoesNotExist, ValueError, TypeError):
        raise Http404("No such article.") from None


def can_write(user: User) -> bool:
    """Write drafts, edit them and submit them for review: agents and managers."""
    return roles.is_agent(user) or roles.is_manager(user)


def writable_articles(user: User) -> QuerySet[Article]:
    """Working copies ``user`` may open in the editor: all of them for writers, none for others."""
    return Article.objects.all() if can_write(user) else Article.objects.none()


def get_article_for_writer(user: User, pk: int | str) -> Article:
    """Article ``pk`` for the editor pages, else Http404 (a requester learns nothing about drafts)."""
    try:
        return writable_articles(user).select_related("category", "created_by", "updated_by").get(pk=pk)
    except (Article.DoesNotExist, ValueError, TypeError):
        raise Http404("No such article.") from None


def can_edit(user: User, article: Article) -> bool:
    """Writers edit drafts, and published articles (which starts a revision). Not in review, not archived."""
    return can_write(user) and article.is_editable


def can_add_image(user: User, article: Article) -> bool:
    """Upload images into an article: whoever may edit its text now (writers; drafts and published ones)."""
    return can_edit(user, article)


def can_see_image(user: User, image: ArticleImage) -> bool:
    """An article's image goes with its text: readers of its live version, and writers (who see drafts).

    So a requester loads the images of the public, published articles they read, never those of
    a draft, an archived article or an internal one.
    """
    if can_write(user):
        return True
    return live_versions(user).filter(article_id=image.article_id).exists()


def can_submit(user: User, article: Article) -> bool:
    return can_write(user) and article.status == ArticleStatus.DRAFT


def can_review(user: User, article: Article) -> bool:
    """Publish or send back: a writer who is not the last editor of the text (four eyes).

    Authority only: the author may still withdraw their own submission (``can_send_back``).
    """
    return can_write(user) and article.status == ArticleStatus.IN_REVIEW and article.updated_by_id != user.pk


def can_send_back(user: User, article: Article) -> bool:
    """A reviewer sends an article in review back to draft; its author may withdraw it the same way."""
    return can_write(user) and article.status == ArticleStatus.IN_REVIEW


def can_archive(user: User, article: Article) -> bool:
    """Take an article off the knowledge base: managers only."""
    return roles.is_manager(user) and article.status != ArticleStatus.ARCHIVED


def can_restore(user: User, article: Article) -> bool:
    return roles.is_manager(user) and article.status == ArticleStatus.ARCHIVED


def can_see_history(user: User) -> bool:
    """Versions, diffs, the workflow log and readers' comments: writers."""
    return can_write(user)


def can_link(user: User, ticket: Ticket) -> bool:
    """Link or unlink articles on a ticket, or draft an article from its resolution: whoever works it."""
    return ticket_permissions.can_work(user, ticket)
