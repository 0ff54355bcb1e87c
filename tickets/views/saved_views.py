"""Saved views: a named queue filter and sort, personal or shared with every agent.

The rules live here once and the page and the API (``tickets.api_workspace.SavedViewViewSet``) both use
them: agents and managers keep views (everyone else gets 403); a person sees their own views
and the shared ones, never another person's personal view; only managers share a view (an
agent's "shared" is refused, so a team list stays curated); only the owner deletes a view.
A view stores the queue's query string, cleaned to the queue, the sort and the filters.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from helpdesk.core.models import User

from .. import permissions, roles
from ..filters import QueueFilter
from ..models import SavedView
from ..queue_forms import SavedViewForm

QUERY_KEYS = frozenset({"queue", "sort", *QueueFilter.base_filters})


def clean_query(query: str) -> str:
    """``query`` (a queue query string) keeping only the queue, the sort and the filters, without empty values."""
    params = QueryDict(query.lstrip("?"))
    kept = QueryDict(mutable=True)
    for key in params:
        if key in QUERY_KEYS:
            values = [value for value in params.getlist(key) if value.strip()]
            if values:
                kept.setlist(key, values)
    return kept.urlencode()


def saved_views_for(user: User | AnonymousUser) -> QuerySet[SavedView]:
    """The views ``user`` may use: their own and the shared ones; none for people who keep no views."""
    if not permissions.may_keep_views(user):
        return SavedView.objects.none()
    return SavedView.objects.filter(Q(owner_id=user.pk) | Q(shared=True))


def save_view(*, by: User, name: str, query: str, shared: bool) -> SavedView:
    """Save the queue query ``query`` as ``by``'s view ``name``.

    Refuses (PermissionDenied) people who keep no views; refuses (ValidationError, nothing
    saved) a shared view by a non-manager, an empty name and a name ``by`` already uses.
    """
    if not permissions.may_keep_views(by):
        raise PermissionDenied("Only agents and managers keep saved views.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the view a name."]})
    if shared and not permissions.may_share_views(by):
        raise ValidationError({"shared": ["Only managers share views with every agent."]})
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=by, name=name, query=clean_query(query), shared=shared)
    except IntegrityError:
        raise ValidationError({"name": ["You already have a view of that name."]}) from None


def delete_view(*, view: SavedView, by: User) -> None:
    """Delete ``view``; PermissionDenied unless ``by`` owns it."""
    if not permissions.may_delete_view(by, view):
        raise PermissionDenied("Only its owner deletes a saved view.")
    view.delete()


def queue_url(query: str) -> str:
    """The queue page with the saved ``query``."""
    return reverse("tickets:queues") + ("?" + query if query else "")


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the queue's filters and sort (the form on the queue page) under a name, then show the view.

    A refusal saves nothing and returns to the queue as it was, with the reason.
    """
    user = request.user
    assert isinstance(user, User)  # role_required lets only signed-in people in
    form = SavedViewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            view = save_view(by=user, name=data["name"], query=data["query"], shared=data["shared"])
        except ValidationError as exc:
            messages.error(request, "The view was not saved: " + " ".join(exc.messages))
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return redirect(queue_url(view.query))
    else:
        errors = [str(message) for field_errors in form.errors.values() for message in field_errors]
        messages.error(request, "The view was not saved: " + " ".join(errors))
    return redirect(queue_url(clean_query(request.POST.get("query", ""))))


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the person's own views (404 for a view they cannot see, 403 for another's shared view)."""
    user = request.user
    assert isinstance(user, User)
    view = get_object_or_404(saved_views_for(user), pk=pk)
    delete_view(view=view, by=user)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(queue_url(clean_query(request.POST.get("query", ""))))


urlpatterns = [
    path("queues/views/", saved_view_create, name="saved_view_create"),
    path("queues/views/<int:pk>/delete/", saved_view_delete, name="saved_view_delete"),
]
