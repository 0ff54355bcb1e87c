"""The attention inbox: the person's notifications (``tickets.inbox``), the bell, read/unread.

Everything here is about the signed-in person's own notifications; another person's is a 404.
The bell is a small fragment the page loads (and refreshes every 30 s) on its own, so the pages
themselves spend no query on it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from helpdesk.core.models import User

from ..inbox import unread_count
from ..models import Notification

PAGE_SIZE = 30


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Newest first; ``?show=unread`` (the default) or ``all``."""
    person = _person(request)
    show = "all" if request.GET.get("show") == "all" else "unread"
    notes = (
        Notification.objects.filter(user=person)
        .select_related("ticket")
        .only("pk", "kind", "text", "created_at", "read_at", "ticket__id", "ticket__subject")
    )
    if show == "unread":
        notes = notes.filter(read_at__isnull=True)
    page = Paginator(notes.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/inbox.html",
        {"page": page, "show": show, "unread": unread_count(person), "nav": "inbox"},
    )


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell with the unread count (a fragment for the top bar)."""
    return render(request, "tickets/_bell.html", {"unread": unread_count(_person(request))})


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Mark one read and go to its ticket."""
    note = get_object_or_404(Notification, pk=pk, user=_person(request))
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    return redirect("tickets:detail", note.ticket_id)


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    Notification.objects.filter(pk=get_object_or_404(Notification, pk=pk, user=_person(request)).pk).update(
        read_at=timezone.now()
    )
    return HttpResponseRedirect(reverse("inbox:list"))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponseRedirect:
    done = Notification.objects.filter(user=_person(request), read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"Marked {done} notification{'' if done == 1 else 's'} as read.")
    return HttpResponseRedirect(reverse("inbox:list"))


app_name = "inbox"
urlpatterns = [
    path("", inbox, name="list"),
    path("bell/", bell, name="bell"),
    path("read-all/", mark_all_read, name="read_all"),
    path("<int:pk>/open/", open_notification, name="open"),
    path("<int:pk>/read/", mark_read, name="read"),
]
