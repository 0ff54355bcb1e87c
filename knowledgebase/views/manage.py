"""Writers' pages (agents and managers): the article list by status, the editor, the workflow and the history.

Views parse, check ``permissions``, call one service and render; a refusal from a service
comes back as a form error or a message on the page, and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from tickets.roles import Role, role_required

from .. import images, permissions, services
from ..forms import ArchiveForm, ArticleForm, ImageForm, SendBackForm
from ..models import Article, ArticleStatus, ArticleVersion, Vote

WRITERS = (Role.AGENT, Role.MANAGER)
PAGE_SIZE = 25
STATUS_TABS = [("", "All"), *ArticleStatus.choices]


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_safe
@role_required(*WRITERS)
def manage_home(request):
    """Working copies by status (the review queue is "In review"), optionally only mine."""
    status = request.GET.get("status", "")
    if status not in ArticleStatus.values:
        status = ""
    mine = request.GET.get("mine") == "1"
    articles = Article.objects.select_related("category", "updated_by").defer("body", "workaround")
    if mine:
        articles = articles.filter(Q(created_by=request.user) | Q(updated_by=request.user))
    counts = articles.aggregate(
        all=Count("pk"), **{value: Count("pk", filter=Q(status=value)) for value in ArticleStatus.values}
    )
    if status:
        articles = articles.filter(status=status)
    page = Paginator(articles.order_by("-updated_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [(value, label, counts[value or "all"]) for value, label in STATUS_TABS]
    return render(
        request,
        "knowledgebase/manage_home.html",
        {"page_obj": page, "status": status, "mine": mine, "tabs": tabs},
    )


@role_required(*WRITERS)
def article_new(request):
    """Write a new draft."""
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            try:
                article = services.create_article(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Draft saved. Submit it for review when it is ready.")
                return redirect(article.get_manage_url())
        return render(request, "knowledgebase/article_form.html", {"form": form, "article": None}, status=400)
    return render(request, "knowledgebase/article_form.html", {"form": ArticleForm(), "article": None})


@role_required(*WRITERS)
def article_edit(request, pk: int):
    """Edit a draft, or start a revision of a published article."""
    article = permissions.get_article_for_writer(request.user, pk)
    if not permissions.can_edit(request.user, article):
        messages.error(request, _edit_refusal(article))
        return redirect(article.get_manage_url())
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            try:
                services.update_article(article_id=article.pk, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Changes saved.")
                return redirect(article.get_manage_url())
        return render(request, "knowledgebase/article_form.html", {"form": form, "article": article}, status=400)
    return render(
        request, "knowledgebase/article_form.html", {"form": ArticleForm.for_article(article), "article": article}
    )


def _edit_refusal(article: Article) -> str:
    if article.status == ArticleStatus.IN_REVIEW:
        return "This article is in review: send it back to draft before changing it."
    return "This article is archived: a manager can restore it."


def render_manage(
    request, article: Article, *, send_back_form=None, archive_form=None, image_form=None, status: int = 200
):
    """The working copy, its workflow actions, versions, log and readers' comments."""
    user = request.user
    versions = list(article.versions.select_related("author", "reviewer").defer("body", "workaround", "search_vector"))
    live = next((v for v in versions if v.is_live), None)
    pending = None
    if live is not None and article.status in (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW):
        live_full = ArticleVersion.objects.select_related("category").get(pk=live.pk)
        pending = [d for d in services.diff_versions(live_full, article) if d.changed]
    context = {
        "article": article,
        "versions": versions,
        "live": live,
        "pending_changes": pending,
        "events": list(article.events.select_related("actor")),
        "comments": list(Vote.objects.filter(article=article).exclude(comment="").select_related("user")[:20]),
        "images": list(article.images.all()),
        "image_form": image_form or ImageForm(auto_id="image-%s"),
        "can": {
            "edit": permissions.can_edit(user, article),
            "add_image": permissions.can_add_image(user, article),
            "submit": permissions.can_submit(user, article),
            "publish": permissions.can_review(user, article),
            "send_back": permissions.can_send_back(user, article),
            "archive": permissions.can_archive(user, article),
            "restore": permissions.can_restore(user, article),
        },
        "own_text": article.updated_by_id == user.pk,
        "send_back_form": send_back_form or SendBackForm(auto_id="send-back-%s"),
        "archive_form": archive_form or ArchiveForm(auto_id="archive-%s"),
    }
    return render(request, "knowledgebase/manage_article.html", context, status=status)


@require_safe
@role_required(*WRITERS)
def manage_article(request, pk: int):
    return render_manage(request, permissions.get_article_for_writer(request.user, pk))


def _workflow_action(request, pk: int, action, success: str):
    article = permissions.get_article_for_writer(request.user, pk)
    try:
        action(article)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, success)
    return redirect(article.get_manage_url())


@require_POST
@role_required(*WRITERS)
def article_submit(request, pk: int):
    return _workflow_action(
        request,
        pk,
        lambda a: services.submit_article(article_id=a.pk, by=request.user),
        "Submitted for review: another writer can now publish it.",
    )


@require_POST
@role_required(*WRITERS)
def article_publish(request, pk: int):
    return _workflow_action(
        request, pk, lambda a: services.publish_article(article_id=a.pk, by=request.user), "Published."
    )


@require_POST
@role_required(*WRITERS)
def article_restore(request, pk: int):
    return _workflow_action(
        request, pk, lambda a: services.restore_article(article_id=a.pk, by=request.user), "Restored to draft."
    )


@role_required(*WRITERS)
def article_image_add(request, pk: int):
    """Upload an image into the article; the page then shows the Markdown line that places it."""
    article = permissions.get_article_for_writer(request.user, pk)
    if request.method != "POST":
        # Reloading the address of a refused upload lands on the article, not on a 405.
        return redirect(article.get_manage_url())
    if not permissions.can_add_image(request.user, article):
        messages.error(request, _edit_refusal(article))
        return redirect(article.get_manage_url())
    form = ImageForm(request.POST, request.FILES, auto_id="image-%s")
    if form.is_valid():
        try:
            image = images.add_article_image(article_id=article.pk, by=request.user, upload=form.cleaned_data["image"])
        except ValidationError as error:
            form.add_error("image", error)
        else:
            messages.success(request, f"Image added. Paste {image.markdown} into the body where it belongs.")
            return redirect(article.get_manage_url() + "#kb-images-heading")
    return render_manage(request, article, image_form=form, status=400)


@require_POST
@role_required(*WRITERS)
def article_send_back(request, pk: int):
    article = permissions.get_article_for_writer(request.user, pk)
    form = SendBackForm(request.POST, auto_id="send-back-%s")
    if form.is_valid():
        try:
            services.send_back_article(article_id=article.pk, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_error("note" if hasattr(error, "error_dict") else None, error)
        else:
            messages.success(request, "Sent back to draft.")
            return redirect(article.get_manage_url())
    return render_manage(request, article, send_back_form=form, status=400)


@require_POST
@role_required(*WRITERS)
def article_archive(request, pk: int):
    article = permissions.get_article_for_writer(request.user, pk)
    form = ArchiveForm(request.POST, auto_id="archive-%s")
    if form.is_valid():
        try:
            services.archive_article(article_id=article.pk, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Archived: readers no longer see it.")
            return redirect(article.get_manage_url())
    return render_manage(request, article, archive_form=form, status=400)


@require_safe
@role_required(*WRITERS)
def version_detail(request, pk: int, number: int):
    """One published version as it was, with who wrote and who reviewed it."""
    article = permissions.get_article_for_writer(request.user, pk)
    version = article.versions.select_related("author", "reviewer", "category").filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return render(request, "knowledgebase/version_detail.html", {"article": article, "version": version})


@require_safe
@role_required(*WRITERS)
def version_diff(request, pk: int):
    """Differences between two versions (``from`` and ``to`` numbers; ``to=draft`` is the working copy)."""
    article = permissions.get_article_for_writer(request.user, pk)
    versions = {v.number: v for v in article.versions.select_related("category")}
    if not versions:
        raise Http404("This article has no published version yet.")
    newest = max(versions)
    try:
        old_number = int(request.GET.get("from") or max(newest - 1, 1))
        to_param = request.GET.get("to") or str(newest)
        new = article if to_param == "draft" else versions[int(to_param)]
        old = versions[old_number]
    except (KeyError, ValueError):
        raise Http404("No such version.") from None
    diffs = services.diff_versions(old, new)
    return render(
        request,
        "knowledgebase/diff.html",
        {
            "article": article,
            "old": old,
            "new": new,
            "to_draft": new is article,
            "diffs": diffs,
            "changed": any(d.changed for d in diffs),
            "numbers": sorted(versions),
        },
    )
