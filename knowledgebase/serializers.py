"""Serializers of the knowledge-base API. Input serializers check shape only (unknown keys are a 400
naming them); output serializers read what the view's queryset loaded and never query.
"""

from __future__ import annotations

from typing import ClassVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.core.models import User
from helpdesk.core.serializers import RequiredTextField, StrictSerializer
from tickets.serializers import UserBriefSerializer

from . import permissions
from .models import Article, ArticleStatus, ArticleVersion, Category, Visibility
from .services import MAX_TAG_LENGTH, MAX_TAGS

URL_NAMESPACE = "knowledgebase_api"


class ArticleCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class ArticleVersionSerializer(serializers.ModelSerializer):
    """A published version: what readers see."""

    category = ArticleCategorySerializer(read_only=True, allow_null=True)
    author = UserBriefSerializer(read_only=True)
    reviewer = UserBriefSerializer(read_only=True)

    class Meta:
        model = ArticleVersion
        fields = [
            "number",
            "title",
            "summary",
            "body",
            "tags",
            "category",
            "visibility",
            "is_known_error",
            "workaround",
            "author",
            "reviewer",
            "published_at",
        ]
        read_only_fields = fields


class VersionBriefSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True)
    reviewer = UserBriefSerializer(read_only=True)

    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "author", "reviewer", "published_at", "is_live"]
        read_only_fields = fields


class ArticleDraftSerializer(serializers.ModelSerializer):
    """The working copy (writers only)."""

    category = ArticleCategorySerializer(read_only=True, allow_null=True)
    updated_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = Article
        fields = [
            "title",
            "summary",
            "body",
            "tags",
            "category",
            "visibility",
            "is_known_error",
            "workaround",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields


class ArticleSerializer(serializers.ModelSerializer):
    """An article: its live version for everyone; the workflow status and working copy for writers."""

    WRITER_ONLY: ClassVar[frozenset[str]] = frozenset({"status", "draft", "created_by"})

    url = serializers.HyperlinkedIdentityField(view_name=f"{URL_NAMESPACE}:article-detail")
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)
    # A plain string in the schema: an enum named "status" would collide with the ticket statuses.
    status = serializers.CharField(
        read_only=True, required=False, help_text="Writers only. One of: " + ", ".join(ArticleStatus.values) + "."
    )
    live = ArticleVersionSerializer(
        source="live_version", read_only=True, allow_null=True, help_text="The published version; null if none."
    )
    draft = ArticleDraftSerializer(source="*", read_only=True, required=False, help_text="Writers only.")
    created_by = UserBriefSerializer(read_only=True, required=False, help_text="Writers only.")

    class Meta:
        model = Article
        fields = [
            "id",
            "url",
            "web_url",
            "status",
            "live",
            "draft",
            "created_by",
            "created_at",
            "helpful_count",
            "not_helpful_count",
            "view_count",
        ]
        read_only_fields = fields

    def _writer(self) -> bool:
        if not hasattr(self, "_is_writer"):
            request = self.context.get("request")
            user = request.user if request is not None else None
            self._is_writer = isinstance(user, User) and permissions.can_write(user)
        return self._is_writer

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._writer():
            for name in self.WRITER_ONLY:
                data.pop(name, None)
        return data


ARTICLE_READABLE = frozenset(
    {*ArticleSerializer.Meta.fields, *ArticleDraftSerializer.Meta.fields, "source_ticket", "updated_by"}
)


class ArticleInput(StrictSerializer):
    """Create a draft, or (PATCH, any subset) change the working copy."""

    readable = ARTICLE_READABLE

    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=300)
    body = serializers.CharField(help_text="Markdown.")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TAG_LENGTH), max_length=MAX_TAGS, required=False, default=list
    )
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)
    is_known_error = serializers.BooleanField(default=False)
    workaround = serializers.CharField(required=False, allow_blank=True, default="", help_text="Markdown.")


class NoteInput(StrictSerializer):
    note = RequiredTextField(help_text="What should change (required to send back).")


class OptionalNoteInput(StrictSerializer):
    note = serializers.CharField(allow_blank=True, required=False, default="")


class VoteInput(StrictSerializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(allow_blank=True, required=False, default="", max_length=1000)


class VoteSerializer(serializers.Serializer):
    helpful = serializers.BooleanField(read_only=True)
    comment = serializers.CharField(read_only=True)
    helpful_count = serializers.IntegerField(read_only=True, source="article.helpful_count")
    not_helpful_count = serializers.IntegerField(read_only=True, source="article.not_helpful_count")


class DeflectionInput(StrictSerializer):
    token = serializers.CharField(help_text="The deflection_token of the suggestion that solved the problem.")


class DeflectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    article = serializers.IntegerField(read_only=True, source="article_id")
    query = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class SearchResultSerializer(serializers.Serializer):
    article = serializers.IntegerField(source="article_id", read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)
    title = serializers.CharField(read_only=True)
    title_html = serializers.CharField(
        read_only=True, help_text="The title, HTML-escaped, matching words in <mark>; no other markup."
    )
    summary = serializers.CharField(read_only=True)
    snippet_html = serializers.CharField(
        read_only=True, help_text="Extract of the body, HTML-escaped, matching words in <mark>; no other markup."
    )
    rank = serializers.FloatField(read_only=True)
    category = ArticleCategorySerializer(read_only=True, allow_null=True)
    visibility = serializers.CharField(read_only=True)
    is_known_error = serializers.BooleanField(read_only=True)


class SuggestionSerializer(serializers.Serializer):
    article = serializers.IntegerField(source="version.article_id", read_only=True)
    web_url = serializers.SerializerMethodField()
    title = serializers.CharField(source="version.title", read_only=True)
    summary = serializers.CharField(source="version.summary", read_only=True)
    is_known_error = serializers.BooleanField(source="version.is_known_error", read_only=True)
    deflection_token = serializers.CharField(
        read_only=True, help_text="POST it to /api/kb/deflections/ when this article solved the problem."
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_web_url(self, item) -> str:
        return reverse("knowledgebase:article", args=[item["version"].article_id])


class DiffLineSerializer(serializers.Serializer):
    # A plain string in the schema: an enum named "kind" would collide with the ticket message kinds.
    kind = serializers.CharField(read_only=True, help_text="add, del, same (context) or hunk (a @@ header).")
    text = serializers.CharField(read_only=True)


class FieldDiffSerializer(serializers.Serializer):
    field = serializers.CharField(read_only=True)
    # The metaclass takes declared fields off the class, so this does not replace ``Field.label``
    # at run time; the stubs see a class attribute.
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    lines = DiffLineSerializer(many=True, read_only=True)
