"""Knowledge base (tier 0): articles with a review workflow, published versions, votes, deflections.

An ``Article`` is the *working copy* that writers edit, with its workflow ``status``. What
readers see is never the working copy: it is the article's *live* ``ArticleVersion``, an
immutable snapshot taken when a reviewer published it. So a published article can be
revised (its working copy goes back to draft and through review) while readers keep
seeing the last published version, and every published version is kept for the history
and the diffs.

Search runs on the live versions only: each version stores a weighted ``tsvector``
(title A, summary and tags B, body text and workaround C) that a database trigger computes on
every INSERT and on every UPDATE of the text columns, whatever wrote the row (services,
admin, bulk SQL of the benchmark seeding). A partial GIN index covers the live rows.
``SearchTerm`` counts, per lexeme, the live versions holding it (kept by triggers too), so
a search can tell a rare, telling word from a common one.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

# Text-search configuration of the vectors (the trigger in migration 0002) and of every query.
# One constant, no setting: changing it means a migration that redefines the trigger and
# recomputes the vectors.
SEARCH_CONFIG = "english"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: requesters and staff"
    INTERNAL = "internal", "Internal: agents and managers only"


class ArticleStatus(models.TextChoices):
    """Workflow of the working copy (see ``knowledgebase.services``)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Category(models.Model):
    """A shelf of the knowledge base (Accounts and passwords, Network, Printing...)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=100, help_text="Lower comes first on the KB home.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "article category"
        verbose_name_plural = "article categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("knowledgebase:category", args=[self.slug])


class Article(models.Model):
    """The working copy of an article and its place in the workflow; readers see its live version."""

    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, help_text="One or two sentences: the problem this article solves.")
    body = models.TextField(help_text="Markdown.")
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True, size=10)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    is_known_error = models.BooleanField(default=False, help_text="A known error: a fault with a workaround.")
    workaround = models.TextField(blank=True, help_text="Markdown; required for a known error.")
    status = models.CharField(max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Last editor of the text."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    source_ticket = models.OneToOneField(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The ticket whose resolution this article was drafted from.",
    )
    view_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    not_helpful_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="kb_article_status_idx"),
            models.Index(fields=["-helpful_count", "not_helpful_count", "-id"], name="kb_article_helpful_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ArticleStatus]), name="kb_article_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=[v.value for v in Visibility]), name="kb_article_visibility_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledgebase:article", args=[self.pk])

    def get_manage_url(self) -> str:
        return reverse("knowledgebase:manage_article", args=[self.pk])

    @property
    def live_version(self) -> ArticleVersion | None:
        """The live version; reads ``live_list`` when the queryset prefetched it (see ``with_live``)."""
        if hasattr(self, "live_list"):
            return self.live_list[0] if self.live_list else None
        return self.versions.filter(is_live=True).first()

    @property
    def is_editable(self) -> bool:
        return self.status in (ArticleStatus.DRAFT, ArticleStatus.PUBLISHED)


class ArticleVersion(models.Model):
    """A published version: an immutable snapshot of the article's text, with its author and reviewer.

    At most one version of an article is live (what readers see and search); archiving an
    article takes its live version down, publishing a new one replaces it.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    body = models.TextField()
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True, size=10)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="versions")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    is_known_error = models.BooleanField(default=False)
    workaround = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Who wrote this text."
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Who reviewed and published it."
    )
    published_at = models.DateTimeField(default=timezone.now)
    is_live = models.BooleanField(default=True)
    # What a reader sees of ``body``: the rendered Markdown as plain text (``knowledgebase.markdown``),
    # written with the version. Searched and quoted in snippets, so they never show Markdown syntax.
    body_text = models.TextField(blank=True, default="", db_default="", editable=False)
    # Computed by the database trigger (migrations 0002 and 0003); never written by Django code.
    search_vector = SearchVectorField(null=True, editable=False)
    # Not columns: the search pages set these on the rows they show (``search.highlight``).
    title_html: SafeString
    snippet_html: SafeString

    class Meta:
        ordering = ["article", "-number"]
        indexes = [
            GinIndex(fields=["search_vector"], name="kb_version_search_idx", condition=Q(is_live=True)),
            # The known errors a ticket's subject matches (the ticket page's panel): a few among many
            # live articles, found without reading every live version that holds a common word.
            GinIndex(
                fields=["search_vector"],
                name="kb_version_known_error_idx",
                condition=Q(is_live=True, is_known_error=True),
            ),
            models.Index(fields=["-published_at", "-id"], name="kb_version_newest_idx", condition=Q(is_live=True)),
            models.Index(fields=["category", "title"], name="kb_version_category_idx", condition=Q(is_live=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_number_unique"),
            models.UniqueConstraint(fields=["article"], condition=Q(is_live=True), name="kb_version_one_live"),
            # Four eyes: nobody publishes their own text.
            models.CheckConstraint(condition=~Q(reviewer=F("author")), name="kb_version_reviewer_not_author"),
            models.CheckConstraint(
                condition=Q(visibility__in=[v.value for v in Visibility]), name="kb_version_visibility_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

    def get_absolute_url(self) -> str:
        return reverse("knowledgebase:article", args=[self.article_id])


class SearchTerm(models.Model):
    """How many live versions hold a lexeme: the document frequency that weights search words.

    Written only by the statement triggers of migration 0003 (every insert, update and delete
    of versions, whatever wrote them); the row with the empty lexeme counts the live versions.
    """

    ALL_DOCUMENTS = ""

    lexeme = models.TextField(primary_key=True)
    documents = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["lexeme"], opclasses=["text_pattern_ops"], name="kb_term_prefix_idx")]

    def __str__(self) -> str:
        return f"{self.lexeme}: {self.documents}"


def image_key(instance, filename: str) -> str:
    """Storage key of an article image: generated, never derived from the uploaded name."""
    return f"kb-images/{timezone.now():%Y/%m}/{instance.key.hex}"


class ArticleImage(models.Model):
    """A picture uploaded into an article (screenshots), served by the desk to whoever may read the article.

    Addressed by a random ``key`` (``/kb/images/<key>/``), so the Markdown of any version can
    point at it; its type was read from its content and is one of ``IMAGE_TYPES``.
    """

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=image_key, max_length=200)
    filename = models.CharField(max_length=255, help_text="Cleaned-up name shown to writers.")
    content_type = models.CharField(max_length=100, help_text="Decided from the content.")
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("knowledgebase:image", args=[self.key])

    @property
    def markdown(self) -> str:
        """What a writer pastes into the article to show this image."""
        alt = self.filename.rsplit(".", 1)[0].replace("[", "").replace("]", "")
        return f"![{alt}]({self.get_absolute_url()})"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    SUBMITTED = "submitted", "Submitted for review"
    SENT_BACK = "sent_back", "Sent back to draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"
    RESTORED = "restored", "Restored to draft"


class ArticleEvent(models.Model):
    """One step of an article's workflow, with who did it and their note."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(null=True, blank=True, help_text="Version number published, if any.")
    at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["article", "at"], name="kb_event_article_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.article_id}"


class Vote(models.Model):
    """ "Was this helpful?": one answer per person and article (answering again changes it)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="kb_vote_one_per_user")]

    def __str__(self) -> str:
        return f"{'+' if self.helpful else '-'} #{self.article_id} by #{self.user_id}"


class Deflection(models.Model):
    """A request that never became a ticket: the requester said a suggested article solved it.

    ``token`` is the idempotency key of one suggestion as it was rendered: a double-submitted
    click finds the row already there and counts nothing more.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="deflections")
    query = models.CharField(max_length=200, blank=True, help_text="What the requester had typed.")
    token = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="kb_deflection_created_idx")]
        constraints = [models.UniqueConstraint(fields=["token"], name="kb_deflection_token_unique")]

    def __str__(self) -> str:
        return f"Deflection by #{self.user_id} with #{self.article_id}"


class TicketArticle(models.Model):
    """An article linked to a ticket by an agent (shown on the ticket page)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="kb_ticket_article_unique")]

    def __str__(self) -> str:
        return f"#{self.article_id} on #{self.ticket_id}"
