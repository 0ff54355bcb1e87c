"""Tier 0 for everyone signed in: the KB home, search, categories, articles, votes, suggestions, deflection.

Each page runs a fixed number of SQL queries whatever the number of articles (the lists
are sliced or paginated in SQL, and the highlights are computed for the page's rows only).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from tickets import roles

from .. import permissions, search, services
from ..forms import VoteForm
from ..models import Article, ArticleImage, ArticleStatus, Category, Vote

SEARCH_PAGE_SIZE = 10
CATEGORY_PAGE_SIZE = 20
HOME_LIST_SIZE = 5
LIST_DEFER = ("body", "workaround", "search_vector")


def _list(versions):
    return versions.select_related("category", "article").defer(*LIST_DEFER)


@require_safe
@login_required
def kb_home(request):
    """Search box, categories with their article counts, the most helpful and the newest articles."""
    user = request.user
    versions = permissions.live_versions(user)
    # Shelves with something this user may read: one index probe per category, no counting of rows.
    categories = list(
        Category.objects.filter(Exists(versions.filter(category=OuterRef("pk")))).order_by("position", "name")
    )
    most_helpful = list(
        _list(versions.filter(article__helpful_count__gt=0)).order_by(
            "-article__helpful_count", "article__not_helpful_count", "-pk"
        )[:HOME_LIST_SIZE]
    )
    newest = list(_list(versions).order_by("-published_at", "-pk")[:HOME_LIST_SIZE])
    context = {
        "categories": categories,
        "most_helpful": most_helpful,
        "newest": newest,
        "known_errors": [],
        "can_write": permissions.can_write(user),
        "in_review": 0,
    }
    if permissions.can_read_internal(user):
        context["known_errors"] = list(
            _list(versions.filter(is_known_error=True)).order_by("-published_at", "-pk")[:HOME_LIST_SIZE]
        )
    if context["can_write"]:
        context["in_review"] = Article.objects.filter(status=ArticleStatus.IN_REVIEW).count()
    return render(request, "knowledgebase/home.html", context)


@dataclass
class LookaheadPage:
    """A page found by reading one row more than it shows: no COUNT over every match."""

    object_list: list
    number: int
    has_next: bool

    @classmethod
    def of(cls, queryset, page: str | None, size: int) -> LookaheadPage:
        number = int(page) if page is not None and page.isdigit() and 0 < int(page) < 10_000 else 1
        rows = list(queryset[(number - 1) * size : number * size + 1])
        return cls(rows[:size], number, len(rows) > size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * SEARCH_PAGE_SIZE + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


@require_safe
@login_required
def kb_search(request):
    """Ranked results for every word of ``q`` (the last one as a prefix), with highlights, paginated."""
    text = request.GET.get("q", "").strip()[:200]
    parsed = search.parse(text)
    page = None
    if parsed is not None:
        number = request.GET.get("page")
        page = search.remembered(
            request.user,
            "page",
            f"{parsed.terms}|{parsed.prefix_index}|{number}",
            lambda: LookaheadPage.of(search.search_versions(request.user, parsed), number, SEARCH_PAGE_SIZE),
        )
        for version in page.object_list:
            version.title_html = search.highlight(version.title_marked)
            version.snippet_html = search.highlight(version.snippet_marked)
    return render(
        request,
        "knowledgebase/search.html",
        {"query": text, "page_obj": page, "too_short": bool(text) and parsed is None},
    )


@require_safe
@login_required
def kb_category(request, slug: str):
    """The readable articles of one category, by title, paginated."""
    category = get_object_or_404(Category, slug=slug)
    versions = _list(permissions.live_versions(request.user).filter(category=category)).order_by("title", "pk")
    page = Paginator(versions, CATEGORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "knowledgebase/category.html", {"category": category, "page_obj": page})


def render_article(request, pk: int, *, vote_form: VoteForm | None = None, status: int = 200):
    """The live version of article ``pk`` for ``request.user`` (404 if they may not read it)."""
    user = request.user
    try:
        version = permissions.get_live_version_for(user, pk)
    except Http404:
        # Writers opening a draft's address land on its editor page instead.
        if permissions.can_write(user) and Article.objects.filter(pk=pk).exists():
            return redirect("knowledgebase:manage_article", pk=pk)
        raise
    if status == 200:
        services.record_view(article_id=pk)
    my_vote = Vote.objects.filter(article_id=pk, user=user).only("helpful", "comment").first()
    offer_token = request.GET.get("s", "")
    if offer_token:
        try:
            offer = services.read_deflection_token(offer_token, user=user)
            if offer.article_id != version.article_id:
                offer_token = ""
        except ValidationError:
            offer_token = ""
    if vote_form is None:
        initial = {"helpful": "yes" if my_vote.helpful else "no", "comment": my_vote.comment} if my_vote else {}
        vote_form = VoteForm(initial=initial)
    context = {
        "version": version,
        "article": version.article,
        "my_vote": my_vote,
        "vote_form": vote_form,
        "deflection_token": offer_token,
        "can_write": permissions.can_write(user),
        "is_staff_reader": permissions.can_read_internal(user),
    }
    return render(request, "knowledgebase/article.html", context, status=status)


@require_safe
@login_required
def kb_article(request, pk: int):
    return render_article(request, pk)


@require_POST
@login_required
def kb_vote(request, pk: int):
    """Record "was this helpful?" (answering again replaces the answer)."""
    permissions.get_live_version_for(request.user, pk)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return render_article(request, pk, vote_form=form, status=400)
    try:
        services.vote_article(article_id=pk, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return render_article(request, pk, vote_form=form, status=400)
    messages.success(request, "Thank you for your feedback.")
    return redirect("knowledgebase:article", pk=pk)


@never_cache
@require_safe
@login_required
def kb_suggest(request):
    """htmx fragment: articles matching what the requester is typing, each with "This solved my problem"."""
    text = (request.GET.get("subject") or request.GET.get("q") or "").strip()[:200]
    parsed = search.parse(text)
    if parsed is None:
        return HttpResponse("")
    suggestions = [
        (
            version,
            services.issue_deflection_token(user=request.user, article_id=version.article_id, query=text),
        )
        for version in search.suggest_versions(request.user, parsed)
    ]
    return render(request, "knowledgebase/_suggestions.html", {"suggestions": suggestions, "query": text})


@require_POST
@login_required
def kb_deflect(request):
    """ "This solved my problem": count a deflection once per suggestion (the token is its idempotency key)."""
    htmx = request.headers.get("HX-Request") == "true"
    try:
        deflection, _ = services.record_deflection(user=request.user, token=request.POST.get("token", ""))
    except ValidationError as error:
        if htmx:
            return render(request, "knowledgebase/_deflected.html", {"error": " ".join(error.messages)})
        messages.error(request, " ".join(error.messages))
        return redirect("knowledgebase:home")
    if htmx:
        return render(request, "knowledgebase/_deflected.html", {"article_id": deflection.article_id})
    return redirect("knowledgebase:solved", pk=deflection.article_id)


@require_safe
@login_required
def kb_solved(request, pk: int):
    """Where "This solved my problem" lands without htmx: no ticket was created."""
    version = permissions.get_live_version_for(request.user, pk)
    return render(request, "knowledgebase/solved.html", {"version": version, "is_agent": roles.is_agent(request.user)})


@require_safe
@login_required
def kb_image(request, key):
    """An image of an article, for whoever may read the article (404 otherwise, as for the article).

    Served by the desk so pages keep ``img-src 'self'``; the type was read from the content at
    upload and is a raster type, sent with nosniff and a sandboxing policy if opened on its own.
    """
    image = ArticleImage.objects.filter(key=key).first()
    if image is None or not permissions.can_see_image(request.user, image):
        raise Http404("No such image.")
    try:
        handle = image.file.open("rb")
    except OSError:
        raise Http404("The file of this image is missing.") from None
    response = FileResponse(handle, content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
