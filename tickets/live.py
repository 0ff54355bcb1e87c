"""Live pages: what changed since the page was drawn, and who else is on a ticket.

Open pages poll every few seconds (``static/core/live.js``), each asking one cheap question:

* ``GET /live/desk/`` (staff): the desk's change counter, bumped after every committed batch of
  ticket events. A queue page that sees it move redraws its rows (or, while the agent is busy
  on the page, says so in a banner instead).
* ``GET /live/tickets/<pk>/?state=viewing|replying`` (anyone who may see the ticket): when the
  ticket last changed (``updated_at``, moved by every change, replies included) and its
  ``version`` and, for staff only, the other staff on the page ("Bea is viewing", "Bea is
  replying"), from short-lived presence entries in the cache.

Both answer with an ETag, and ``If-None-Match`` gets a bodiless 304, so an unchanged page costs
a request of a few statements and no rendering. Presence is advisory: with Redis out of reach
the cache misses and nobody is shown, and the pages keep working.
"""

from __future__ import annotations

import hashlib
import json
import time

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from helpdesk.core.models import User

from . import permissions
from .models import Ticket, TicketEvent

DESK_KEY = "live:desk"
PRESENCE_SECONDS = 15  # an entry outlives two missed polls, then the person is gone
STATES = ("viewing", "replying")


def desk_version() -> int:
    return int(cache.get(DESK_KEY) or 0)


def _bump_desk() -> None:
    try:
        cache.incr(DESK_KEY)
    except ValueError:  # not there yet (or evicted): start it
        cache.set(DESK_KEY, 1, timeout=None)


def on_ticket_events(sender: type[Ticket], events: list[TicketEvent], **kwargs: object) -> None:
    """``ticket_events`` receiver: once the change is committed, open pages may see it."""
    transaction.on_commit(_bump_desk)


def _answer(request: HttpRequest, body: dict[str, object]) -> HttpResponse:
    text = json.dumps(body, sort_keys=True)
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'
    if request.headers.get("If-None-Match") == etag:
        answer: HttpResponse = HttpResponseNotModified()
    else:
        answer = JsonResponse(body)
    answer["ETag"] = etag
    return answer


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


@login_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    if not permissions.is_staff_reader(_person(request)):
        raise PermissionDenied("The desk's activity is for staff.")
    return _answer(request, {"desk": desk_version()})


def _presence_key(ticket_id: int) -> str:
    return f"live:presence:{ticket_id}"


def others_on(ticket_id: int, me: User, state: str) -> list[dict[str, str]]:
    """Record ``me`` on the ticket in ``state``; the other staff there now, by name."""
    key, now = _presence_key(ticket_id), time.time()
    present: dict[str, list] = cache.get(key) or {}
    present = {who: entry for who, entry in present.items() if entry[2] > now}
    present[str(me.pk)] = [me.display_name, state, now + PRESENCE_SECONDS]
    cache.set(key, present, timeout=PRESENCE_SECONDS)
    return sorted(
        ({"name": name, "state": what} for who, (name, what, _) in present.items() if who != str(me.pk)),
        key=lambda entry: entry["name"],
    )


@login_required
@require_GET
def ticket(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    found = permissions.get_ticket_for(person, pk, Ticket.objects.only("pk", "version", "updated_at"))
    body: dict[str, object] = {"version": found.version, "changed": found.updated_at.isoformat()}
    if permissions.is_staff_reader(person):
        state = request.GET.get("state", "viewing")
        body["others"] = others_on(found.pk, person, state if state in STATES else "viewing")
    return _answer(request, body)


app_name = "live"
urlpatterns = [
    path("desk/", desk, name="desk"),
    path("tickets/<int:pk>/", ticket, name="ticket"),
]
