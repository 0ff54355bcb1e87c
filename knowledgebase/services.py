"""Every state change of the knowledge base: writing, the review workflow, votes, views, deflections, links.

Workflow of an article (the working copy's ``status``)::

    draft --submit--> in_review --publish--> published --archive--> archived
      ^                  |                      |                      |
      +---- send back ---+                      |                      |
      +---- edit (starts a revision; readers keep the live version) ---+
      +---------------------------- restore --------------------------+

The rules, as a service desk would want them:

* Agents and managers write. Text is edited only in ``draft``; editing a published article
  starts a revision in ``draft`` while readers go on seeing the published version. An
  article in review is frozen (send it back first), an archived one must be restored.
* Publishing needs a *second pair of eyes*: the reviewer is a writer other than the last
  editor of the text, managers included (a database constraint holds it too). Each
  publication stores an immutable, numbered ``ArticleVersion`` (text, author, reviewer,
  time) and makes it the live one; older versions are kept for the history and the diffs.
* Sending back needs a note saying what to change (the author may withdraw their own
  submission the same way). Only managers archive (the live version goes down at once)
  and restore (back to draft; it is published again through review).
* A known error needs its workaround. Drafts made from a ticket's resolution are
  internal until someone decides otherwise (tickets hold personal details); one per
  ticket, so a double click makes one draft.

Every function runs in one transaction, locks the article row it changes, refuses with
a ``ValidationError`` (field errors as a dict) or ``PermissionDenied`` before writing
anything, and records an ``ArticleEvent``.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from helpdesk.core import ratelimit
from helpdesk.core.models import User
from tickets import roles
from tickets.models import Ticket
from tickets.permissions import get_ticket_for
from tickets.services import one_line

from . import permissions
from .markdown import plain_text
from .models import (
    Article,
    ArticleEvent,
    ArticleStatus,
    ArticleVersion,
    Category,
    Deflection,
    EventKind,
    TicketArticle,
    Visibility,
    Vote,
)
from .search import forget_results, strip_sentinels

CONTENT_FIELDS = ("title", "summary", "body", "tags", "category", "visibility", "is_known_error", "workaround")
MAX_TAGS = 10
MAX_TAG_LENGTH = 40
DEFLECTION_SALT = "knowledgebase.deflection"
DEFLECTION_TOKEN_MAX_AGE = 24 * 3600  # a suggestion can be acted on for a day


def _require(allowed: bool, message: str = "You may not do that with this article.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _lock(article_id: int) -> Article:
    try:
        return Article.objects.select_for_update(of=("self",)).get(pk=article_id)
    except (Article.DoesNotExist, ValueError, TypeError):
        raise ValidationError("That article does not exist.") from None


def _event(article: Article, by: User, kind: str, *, note: str = "", version: int | None = None) -> None:
    ArticleEvent.objects.create(article=article, actor=by, kind=kind, note=note, version=version)


def clean_tags(tags: Iterable[str] | str) -> list[str]:
    """Tags as a list: split on commas when given as text, trimmed, lower-cased, without repeats."""
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: list[str] = []
    for tag in tags or ():
        tag = " ".join(strip_sentinels(str(tag)).split()).lower()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def clean_content(data: dict[str, Any]) -> dict[str, Any]:
    """Checked and normalised article text; raises ``ValidationError`` with field errors, writes nothing."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, label, limit in (("title", "Title", 200), ("summary", "Summary", 300), ("body", "Body", None)):
        value = strip_sentinels(str(data.get(name) or "")).strip()
        if name == "title":
            value = one_line(value)  # a title is one line in lists, search results and mail alike
        if not value:
            errors.setdefault(name, []).append(f"{label} is required.")
        elif limit and len(value) > limit:
            errors.setdefault(name, []).append(f"{label} must be at most {limit} characters.")
        cleaned[name] = value
    tags = clean_tags(data.get("tags") or [])
    if len(tags) > MAX_TAGS:
        errors.setdefault("tags", []).append(f"At most {MAX_TAGS} tags.")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        errors.setdefault("tags", []).append(f"A tag is at most {MAX_TAG_LENGTH} characters.")
    cleaned["tags"] = tags
    visibility = data.get("visibility") or Visibility.PUBLIC
    if visibility not in Visibility.values:
        errors.setdefault("visibility", []).append("Choose public or internal.")
    cleaned["visibility"] = visibility
    category = data.get("category")
    if category is not None and not isinstance(category, Category):
        category = Category.objects.filter(pk=category).first()
        if category is None:
            errors.setdefault("category", []).append("No such category.")
    cleaned["category"] = category
    cleaned["is_known_error"] = bool(data.get("is_known_error"))
    cleaned["workaround"] = strip_sentinels(str(data.get("workaround") or "")).strip()
    if cleaned["is_known_error"] and not cleaned["workaround"]:
        errors.setdefault("workaround", []).append("A known error needs its workaround.")
    if errors:
        raise ValidationError(errors)
    return cleaned


# --------------------------------------------------------------------------- writing


def create_article(*, by: User, source_ticket: Ticket | None = None, **content: Any) -> Article:
    """A new draft written by ``by`` (an agent or manager). Records a CREATED event."""
    _require(permissions.can_write(by), "Only agents and managers write articles.")
    cleaned = clean_content(content)
    now = timezone.now()
    with transaction.atomic():
        article = Article.objects.create(
            **cleaned,
            status=ArticleStatus.DRAFT,
            created_by=by,
            updated_by=by,
            created_at=now,
            updated_at=now,
            source_ticket=source_ticket,
        )
        _event(article, by, EventKind.CREATED)
    return article


def update_article(*, article_id: int, by: User, **content: Any) -> Article:
    """Change the text of a draft, or of a published article (which starts a revision in draft).

    Refused in review (send it back first) and when archived (restore it first). ``by``
    becomes the last editor, so they cannot be the one who publishes it.
    """
    with transaction.atomic():
        article = _lock(article_id)
        _require(permissions.can_write(by), "Only agents and managers edit articles.")
        if article.status == ArticleStatus.IN_REVIEW:
            raise ValidationError("This article is in review: send it back to draft before changing it.")
        if article.status == ArticleStatus.ARCHIVED:
            raise ValidationError("This article is archived: restore it before changing it.")
        current = {name: getattr(article, name) for name in CONTENT_FIELDS}
        cleaned = clean_content({**current, **content})
        if cleaned == current:
            return article
        revising = article.status == ArticleStatus.PUBLISHED
        for name, value in cleaned.items():
            setattr(article, name, value)
        article.status = ArticleStatus.DRAFT
        article.updated_by = by
        article.updated_at = timezone.now()
        article.save(update_fields=[*CONTENT_FIELDS, "status", "updated_by", "updated_at"])
        _event(
            article,
            by,
            EventKind.EDITED,
            note="Revision started; the published version stays live." if revising else "",
        )
    return article


def submit_article(*, article_id: int, by: User) -> Article:
    """draft -> in_review. The text is frozen until it is published or sent back."""
    with transaction.atomic():
        article = _lock(article_id)
        _require(permissions.can_write(by), "Only agents and managers submit articles.")
        if article.status != ArticleStatus.DRAFT:
            raise ValidationError(
                f"Only a draft can be submitted for review; this article is {article.get_status_display().lower()}."
            )
        clean_content({name: getattr(article, name) for name in CONTENT_FIELDS})
        article.status = ArticleStatus.IN_REVIEW
        article.save(update_fields=["status"])
        _event(article, by, EventKind.SUBMITTED)
    return article


def publish_article(*, article_id: int, by: User) -> ArticleVersion:
    """in_review -> published, by a reviewer other than the last editor.

    Side effects: a new numbered ``ArticleVersion`` (a snapshot of the text and of its plain
    text for search, with its author and reviewer) becomes the live one; the previous live
    version stays in the history. The database counts the new version's search terms.
    """
    with transaction.atomic():
        article = _lock(article_id)
        _require(permissions.can_write(by), "Only agents and managers review articles.")
        if article.status != ArticleStatus.IN_REVIEW:
            raise ValidationError("Only an article in review can be published: submit it for review first.")
        if article.updated_by_id == by.pk:
            raise PermissionDenied("Someone else must review and publish your text (four eyes).")
        now = timezone.now()
        number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        article.versions.filter(is_live=True).update(is_live=False)
        version = ArticleVersion.objects.create(
            article=article,
            number=number,
            **{name: getattr(article, name) for name in CONTENT_FIELDS},
            body_text=plain_text(article.body),
            author_id=article.updated_by_id,
            reviewer=by,
            published_at=now,
            is_live=True,
        )
        article.status = ArticleStatus.PUBLISHED
        article.save(update_fields=["status"])
        _event(article, by, EventKind.PUBLISHED, version=number)
        forget_results()  # search results remembered before this version went live
    return version


def send_back_article(*, article_id: int, by: User, note: str) -> Article:
    """in_review -> draft with a note saying what to change (or why the author withdraws it)."""
    note = (note or "").strip()
    with transaction.atomic():
        article = _lock(article_id)
        _require(permissions.can_write(by), "Only agents and managers review articles.")
        if article.status != ArticleStatus.IN_REVIEW:
            raise ValidationError("Only an article in review can be sent back to draft.")
        if not note:
            raise ValidationError({"note": ["Say what should change."]})
        article.status = ArticleStatus.DRAFT
        article.save(update_fields=["status"])
        _event(article, by, EventKind.SENT_BACK, note=note)
    return article


def archive_article(*, article_id: int, by: User, note: str = "") -> Article:
    """Any status -> archived (managers). The live version goes down: readers and search lose it at once
    (remembered search results included)."""
    with transaction.atomic():
        article = _lock(article_id)
        _require(roles.is_manager(by), "Only managers archive articles.")
        if article.status == ArticleStatus.ARCHIVED:
            raise ValidationError("This article is already archived.")
        article.versions.filter(is_live=True).update(is_live=False)
        article.status = ArticleStatus.ARCHIVED
        article.save(update_fields=["status"])
        _event(article, by, EventKind.ARCHIVED, note=(note or "").strip())
        forget_results()
    return article


def restore_article(*, article_id: int, by: User) -> Article:
    """archived -> draft (managers); it goes live again only through review."""
    with transaction.atomic():
        article = _lock(article_id)
        _require(roles.is_manager(by), "Only managers restore articles.")
        if article.status != ArticleStatus.ARCHIVED:
            raise ValidationError("Only an archived article can be restored.")
        article.status = ArticleStatus.DRAFT
        article.save(update_fields=["status"])
        _event(article, by, EventKind.RESTORED)
    return article


# --------------------------------------------------------------------------- tickets


def draft_from_ticket(*, ticket_id: int, by: User) -> tuple[Article, bool]:
    """A draft article from a resolved ticket's subject, description and resolution note, linked to it.

    One per ticket: asking again returns the article already drafted (``created`` False).
    Internal by default: a ticket's text may hold personal details; the writer decides.
    """
    ticket = get_ticket_for(by, ticket_id)
    _require(permissions.can_link(by, ticket), "You may not do that on this ticket.")
    if not ticket.resolution_note.strip():
        raise ValidationError("This ticket has no resolution note yet: resolve it first.")
    existing = Article.objects.filter(source_ticket=ticket).first()
    if existing is not None:
        return existing, False
    summary = " ".join(ticket.resolution_note.split())
    body = f"## Symptoms\n\n{ticket.description.strip()}\n\n## Resolution\n\n{ticket.resolution_note.strip()}\n"
    try:
        with transaction.atomic():
            article = create_article(
                by=by,
                source_ticket=ticket,
                title=ticket.subject[:200],
                summary=summary[:297] + "..." if len(summary) > 300 else summary,
                body=body,
                visibility=Visibility.INTERNAL,
                category=None,
                tags=[],
            )
            TicketArticle.objects.get_or_create(ticket=ticket, article=article, defaults={"linked_by": by})
    except IntegrityError:
        # Two clicks at once: the other one made it (one article per source ticket).
        return Article.objects.get(source_ticket=ticket), False
    return article, True


def link_article(*, ticket_id: int, article_id: int, by: User) -> TicketArticle:
    """Link an article ``by`` can read (or write) to a ticket they work; linking twice is one link."""
    ticket = get_ticket_for(by, ticket_id)
    _require(permissions.can_link(by, ticket), "You may not do that on this ticket.")
    visible = Q(pk__in=permissions.live_versions(by).values("article_id"))
    if permissions.can_write(by):
        visible |= ~Q(status=ArticleStatus.ARCHIVED)
    article = Article.objects.filter(visible, pk=article_id).first()
    if article is None:
        raise ValidationError({"article": [f"There is no article {article_id} you can link."]})
    link, _ = TicketArticle.objects.get_or_create(ticket=ticket, article=article, defaults={"linked_by": by})
    return link


def unlink_article(*, ticket_id: int, article_id: int, by: User) -> None:
    ticket = get_ticket_for(by, ticket_id)
    _require(permissions.can_link(by, ticket), "You may not do that on this ticket.")
    TicketArticle.objects.filter(ticket=ticket, article_id=article_id).delete()


# --------------------------------------------------------------------------- readers


def record_view(*, article_id: int) -> None:
    """Count one reading of the article (one UPDATE, no lock: concurrent views all count)."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


def vote_article(*, article_id: int, by: User, helpful: bool, comment: str = "") -> Vote:
    """Record ``by``'s "was this helpful?" answer (answering again replaces it) and refresh the counts.

    The article must be live and readable by ``by``; past ``by``'s rate limit for feedback the
    answer is refused (``RateLimited``) before anything is written.
    """
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ValidationError({"comment": ["At most 1000 characters."]})
    if not permissions.live_versions(by).filter(article_id=article_id).exists():
        raise ValidationError("That article does not exist.")
    ratelimit.enforce(ratelimit.KB_FEEDBACK, user=by, staff=permissions.can_write(by))
    with transaction.atomic():
        article = _lock(article_id)
        vote, created = Vote.objects.get_or_create(
            article=article, user=by, defaults={"helpful": helpful, "comment": comment}
        )
        if not created:
            vote.helpful = helpful
            vote.comment = comment
            vote.updated_at = timezone.now()
            vote.save(update_fields=["helpful", "comment", "updated_at"])
        counts = article.votes.aggregate(
            yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
        )
        article.helpful_count, article.not_helpful_count = counts["yes"], counts["no"]
        article.save(update_fields=["helpful_count", "not_helpful_count"])
    return vote


@dataclass(frozen=True)
class DeflectionOffer:
    """What a rendered suggestion carries: which article, what was typed, and a fresh idempotency key."""

    token: uuid.UUID
    article_id: int
    user_id: int
    query: str


def issue_deflection_token(*, user: User, article_id: int, query: str) -> str:
    """A signed token for one rendering of one suggestion to ``user`` (the idempotency key of its click)."""
    payload = {"n": uuid.uuid4().hex, "a": article_id, "u": user.pk, "q": (query or "")[:200]}
    return signing.dumps(payload, salt=DEFLECTION_SALT, compress=True)


def read_deflection_token(token: str, *, user: User) -> DeflectionOffer:
    """The offer behind ``token``; ValidationError if it is forged, expired or someone else's."""
    try:
        payload = signing.loads(token or "", salt=DEFLECTION_SALT, max_age=DEFLECTION_TOKEN_MAX_AGE)
        offer = DeflectionOffer(uuid.UUID(payload["n"]), int(payload["a"]), int(payload["u"]), str(payload["q"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError("This suggestion has expired: search again.") from None
    if offer.user_id != user.pk:
        raise ValidationError("This suggestion has expired: search again.")
    return offer


def record_deflection(*, user: User, token: str) -> tuple[Deflection, bool]:
    """Count a deflection: ``user`` says the suggested article solved their problem, so no ticket.

    Idempotent per token (a unique constraint): the second submission of the same click
    returns the first row with ``created`` False. The article must still be readable.
    """
    offer = read_deflection_token(token, user=user)
    if not permissions.live_versions(user).filter(article_id=offer.article_id).exists():
        raise ValidationError("That article is no longer available.")
    return Deflection.objects.get_or_create(
        token=offer.token, defaults={"user": user, "article_id": offer.article_id, "query": offer.query}
    )


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    lines: list[tuple[str, str]]  # (kind: "add" | "del" | "same" | "hunk", text)

    @property
    def changed(self) -> bool:
        return any(kind in ("add", "del") for kind, _ in self.lines)


DIFF_FIELDS = (
    ("title", "Title"),
    ("summary", "Summary"),
    ("tags", "Tags"),
    ("category", "Category"),
    ("visibility", "Visibility"),
    ("is_known_error", "Known error"),
    ("body", "Body"),
    ("workaround", "Workaround"),
)


def _text_of(obj: Article | ArticleVersion, field: str) -> str:
    value = getattr(obj, field)
    if field == "tags":
        return ", ".join(value)
    if field == "category":
        return str(value) if value is not None else "(none)"
    if field == "is_known_error":
        return "yes" if value else "no"
    return str(value or "")


def diff_versions(old: Article | ArticleVersion, new: Article | ArticleVersion, *, context: int = 3) -> list[FieldDiff]:
    """Line diff, field by field, from ``old`` to ``new`` (versions or a version and the working copy).

    Pure: reads the two objects, writes nothing. Unchanged fields come back with no lines.
    """
    diffs = []
    for field, label in DIFF_FIELDS:
        before, after = _text_of(old, field).splitlines(), _text_of(new, field).splitlines()
        lines: list[tuple[str, str]] = []
        if before != after:
            for line in list(difflib.unified_diff(before, after, lineterm="", n=context))[2:]:
                if line.startswith("@@"):
                    lines.append(("hunk", line))
                elif line.startswith("+"):
                    lines.append(("add", line[1:]))
                elif line.startswith("-"):
                    lines.append(("del", line[1:]))
                else:
                    lines.append(("same", line[1:]))
        diffs.append(FieldDiff(field, label, lines))
    return diffs
