"""Who may read the KPI reports. Written once; the pages (``reports.views``) and the API
(``reports.api``) both use it.

* The dashboard with every figure, the per-agent and per-tier tables and their CSV and API
  forms are for managers (the role: an admin without the Manager group is refused).
* Agents see only their own figures: the tickets assigned to them, on "My figures", the
  ticket lists behind those figures and their CSV, and ``/api/reports/me/``. A manager may
  look at their own figures too (``mine=1``).
* Requesters and vendor contacts read no reports (403); anonymous visitors of a page are sent
  to the login page, anonymous API callers get 401 from the authentication first.

The ticket lists are further limited to the tickets the user may see
(``tickets.permissions.visible_tickets``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from helpdesk.core.models import User
from tickets import roles


def can_see_all_figures(user: User) -> bool:
    """Managers read every figure and table, for any scope and any agent.

    Pure: reads the user's roles (one cached query), changes nothing.
    """
    return roles.is_manager(user)


def can_see_own_figures(user: User) -> bool:
    """Agents and managers read the figures of the tickets assigned to them, and the lists behind them.

    Pure: reads the user's roles (one cached query), changes nothing.
    """
    return roles.is_agent(user) or roles.is_manager(user)


def figures_agent_id(user: User, *, mine: bool) -> int | None:
    """Whose figures ``user`` reads: ``None`` for everyone's (a manager), else the user's own id.

    Agents always get their own figures whatever they ask for; a manager gets their own only
    when asking (``mine``). Raises ``PermissionDenied`` for anyone who may read no figures, so
    a caller cannot forget the check. Changes nothing.
    """
    if not can_see_own_figures(user):
        raise PermissionDenied
    if can_see_all_figures(user) and not mine:
        return None
    return user.pk


def page_allowed(predicate: Callable[[User], bool]) -> Callable:
    """View decorator: signed in (else to the login page) and ``predicate(request.user)`` (else 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            # ``login_required`` below sends a visitor to the login page before this runs.
            if not user.is_authenticated or not predicate(user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


class CanSeeAllFigures(BasePermission):
    """DRF adapter of :func:`can_see_all_figures`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return user.is_authenticated and can_see_all_figures(user)


class CanSeeOwnFigures(BasePermission):
    """DRF adapter of :func:`can_see_own_figures`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return user.is_authenticated and can_see_own_figures(user)


__all__ = [
    "CanSeeAllFigures",
    "CanSeeOwnFigures",
    "can_see_all_figures",
    "can_see_own_figures",
    "figures_agent_id",
    "page_allowed",
]
