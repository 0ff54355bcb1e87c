"""REST API of the knowledge base (``/api/kb/``): thin interfaces over ``knowledgebase.services``.

Readers (anyone signed in) list, read, search, vote and record deflections on the live
articles they may read (requesters and vendor contacts: public ones only). Writers (agents
and managers) also see every working copy with its status and run the workflow through
actions. Lookups start from the role's queryset, so a hidden article is a 404; services
raise ``PermissionDenied``/``ValidationError``, which the project's handler turns into 403/400 JSON.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from helpdesk.core.api import EMPTY_MEANS_ABSENT, StrictPageSize, ValidatedInput, error_responses, require
from helpdesk.core.models import User
from helpdesk.core.serializers import EmptyInput

from . import permissions, search, services
from .models import Article, ArticleStatus, ArticleVersion, Deflection
from .serializers import (
    ArticleInput,
    ArticleSerializer,
    DeflectionInput,
    DeflectionSerializer,
    FieldDiffSerializer,
    NoteInput,
    OptionalNoteInput,
    SearchResultSerializer,
    SuggestionSerializer,
    VersionBriefSerializer,
    VoteInput,
    VoteSerializer,
)

ERRORS = error_responses(
    invalid="Refused: invalid input or a rule of the workflow; `detail` says why.",
    forbidden="You may not do this with this article.",
    missing="No such article (or you may not see it).",
)
REFUSED = "You may not do that with this article."
Q_PARAMETER = OpenApiParameter("q", str, required=True, description="Words to look for (the last one as a prefix).")


class KbPagination(StrictPageSize, PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"


def _parsed_query(request) -> search.ParsedQuery:
    text = request.query_params.get("q", "").strip()[:200]
    parsed = search.parse(text)
    if parsed is None:
        raise DRFValidationError({"q": ["Give at least three letters to search for."]})
    return parsed


def with_live(articles: QuerySet[Article]) -> QuerySet[Article]:
    live = ArticleVersion.objects.filter(is_live=True).select_related("category", "author", "reviewer")
    return articles.select_related("category", "updated_by", "created_by").prefetch_related(
        Prefetch("versions", queryset=live, to_attr="live_list")
    )


@extend_schema_view(
    list=extend_schema(
        summary="Articles you may read",
        description="Readers: the published articles (public ones for requesters). Writers: every article, "
        "with its workflow status and working copy; filter with `status`.",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=ArticleStatus.values,
                description="Writers only; empty: every status.",
                extensions=EMPTY_MEANS_ABSENT,
            )
        ],
    ),
    retrieve=extend_schema(summary="One article", responses={200: ArticleSerializer, 404: ERRORS[404]}),
)
class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ValidatedInput, viewsets.GenericViewSet):
    serializer_class = ArticleSerializer
    pagination_class = KbPagination
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Article]:
        user = self.request.user
        # Signed in here (IsAuthenticated); the schema generator asks with an anonymous user.
        if isinstance(user, User) and permissions.can_write(user):
            articles = permissions.writable_articles(user)
            wanted = self.request.query_params.get("status")
            if self.action == "list" and wanted:
                if wanted not in ArticleStatus.values:
                    raise DRFValidationError({"status": [f"One of: {', '.join(ArticleStatus.values)}."]})
                articles = articles.filter(status=wanted)
        else:
            articles = Article.objects.filter(pk__in=permissions.live_versions(user).values("article_id"))
        return with_live(articles).order_by("-updated_at", "-pk")

    def get_object(self) -> Article:
        return generics.get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def _article_response(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        article = with_live(Article.objects.all()).get(pk=pk)
        return Response(ArticleSerializer(article, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(
        summary="Write a new draft (agents and managers)",
        request=ArticleInput,
        responses={201: ArticleSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def create(self, request):
        require(permissions.can_write(request.user), REFUSED)
        data = self.validated_input(ArticleInput)
        article = services.create_article(by=request.user, **data)
        response = self._article_response(article.pk, status.HTTP_201_CREATED)
        response["Location"] = response.data["url"]
        return response

    @extend_schema(
        summary="Change the working copy",
        description="Drafts change in place; a published article starts a revision in draft (the live "
        "version stays). Refused in review and when archived.",
        request=ArticleInput(partial=True),
        responses={200: ArticleSerializer, **ERRORS},
    )
    def partial_update(self, request, pk=None):
        article = self.get_object()
        require(permissions.can_write(request.user), REFUSED)
        data = self.validated_input(ArticleInput, partial=True)
        services.update_article(article_id=article.pk, by=request.user, **data)
        return self._article_response(article.pk)

    def _workflow(self, request, pk, run, input_class=EmptyInput):
        article = self.get_object()
        require(permissions.can_write(request.user), REFUSED)
        data = self.validated_input(input_class)
        run(article, data)
        return self._article_response(article.pk)

    @extend_schema(
        summary="Submit a draft for review", request=EmptyInput, responses={200: ArticleSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._workflow(request, pk, lambda a, d: services.submit_article(article_id=a.pk, by=request.user))

    @extend_schema(
        summary="Publish an article in review (a writer other than its last editor)",
        request=EmptyInput,
        responses={200: ArticleSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._workflow(request, pk, lambda a, d: services.publish_article(article_id=a.pk, by=request.user))

    @extend_schema(
        summary="Send an article in review back to draft, with a note",
        request=NoteInput,
        responses={200: ArticleSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        return self._workflow(
            request,
            pk,
            lambda a, d: services.send_back_article(article_id=a.pk, by=request.user, note=d["note"]),
            NoteInput,
        )

    @extend_schema(
        summary="Archive (managers)", request=OptionalNoteInput, responses={200: ArticleSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._workflow(
            request,
            pk,
            lambda a, d: services.archive_article(article_id=a.pk, by=request.user, note=d["note"]),
            OptionalNoteInput,
        )

    @extend_schema(
        summary="Restore an archived article to draft (managers)",
        request=EmptyInput,
        responses={200: ArticleSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._workflow(request, pk, lambda a, d: services.restore_article(article_id=a.pk, by=request.user))

    @extend_schema(summary="Published versions (writers)", responses={200: VersionBriefSerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, pk=None):
        article = self.get_object()
        require(permissions.can_see_history(request.user), REFUSED)
        versions = article.versions.select_related("author", "reviewer").defer("body", "workaround", "search_vector")
        return Response(VersionBriefSerializer(versions, many=True).data)

    @extend_schema(
        summary="Differences between two versions (writers)",
        parameters=[
            OpenApiParameter("from", int, required=True, description="Version number."),
            OpenApiParameter("to", str, required=True, description="Version number, or `draft` for the working copy."),
        ],
        responses={200: FieldDiffSerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def diff(self, request, pk=None):
        article = self.get_object()
        require(permissions.can_see_history(request.user), REFUSED)
        versions = {v.number: v for v in article.versions.select_related("category")}
        try:
            old = versions[int(request.query_params.get("from", ""))]
            to = request.query_params.get("to", "")
            new = article if to == "draft" else versions[int(to)]
        except (KeyError, ValueError):
            raise DRFValidationError({"detail": "Give `from` and `to` as version numbers of this article."}) from None
        diffs = [
            {"field": d.field, "label": d.label, "lines": [{"kind": k, "text": t} for k, t in d.lines]}
            for d in services.diff_versions(old, new)
            if d.changed
        ]
        return Response(FieldDiffSerializer(diffs, many=True).data)

    @extend_schema(
        summary="Was this helpful? (answering again replaces it)",
        request=VoteInput,
        responses={200: VoteSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        article = self.get_object()
        data = self.validated_input(VoteInput)
        if not permissions.live_versions(request.user).filter(article_id=article.pk).exists():
            raise DRFValidationError({"detail": "Only published articles take votes."})
        vote = services.vote_article(article_id=article.pk, by=request.user, **data)
        return Response(VoteSerializer(vote).data)


class SearchView(generics.GenericAPIView):
    """Full-text search of the published articles you may read, best first."""

    serializer_class = SearchResultSerializer
    pagination_class = KbPagination
    queryset = ArticleVersion.objects.none()  # for the schema; the rows come from search.search_versions

    @extend_schema(
        summary="Search the knowledge base",
        parameters=[Q_PARAMETER],
        responses={200: SearchResultSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request):
        parsed = _parsed_query(request)
        page = self.paginate_queryset(search.search_versions(request.user, parsed))
        assert page is not None  # pagination_class is set
        for version in page:
            version.title_html = search.highlight(version.title_marked)
            version.snippet_html = search.highlight(version.snippet_marked)
        return self.get_paginated_response(SearchResultSerializer(page, many=True).data)


class SuggestionsView(generics.GenericAPIView):
    """Articles for what someone is typing (any word, all words first), each with a deflection token."""

    serializer_class = SuggestionSerializer
    pagination_class = None
    queryset = ArticleVersion.objects.none()  # for the schema; the rows come from search.suggest_versions

    @extend_schema(
        summary="Suggestions while typing",
        parameters=[Q_PARAMETER],
        responses={200: SuggestionSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request):
        parsed = _parsed_query(request)
        text = request.query_params.get("q", "").strip()[:200]
        items = [
            {
                "version": version,
                "deflection_token": services.issue_deflection_token(
                    user=request.user, article_id=version.article_id, query=text
                ),
            }
            for version in search.suggest_versions(request.user, parsed)
        ]
        return Response(SuggestionSerializer(items, many=True).data)


class DeflectionView(ValidatedInput, generics.GenericAPIView):
    serializer_class = DeflectionSerializer
    queryset = Deflection.objects.none()  # for the schema

    @extend_schema(
        summary="This solved my problem: count a deflection",
        description="Idempotent per token: 201 the first time, 200 with the same deflection when repeated.",
        request=DeflectionInput,
        responses={201: DeflectionSerializer, 200: DeflectionSerializer, 400: ERRORS[400]},
    )
    def post(self, request):
        data = self.validated_input(DeflectionInput)
        deflection, created = services.record_deflection(user=request.user, token=data["token"])
        return Response(
            DeflectionSerializer(deflection).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
