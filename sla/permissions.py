"""Who may see and change SLA data. Written once; the HTML pages and the API both use it.

* Calendars and policies (the SLA administration) are for managers only; every other role,
  admins without the Manager group included, is refused (403).
* A ticket's clocks and recorded warnings/breaches are internal: staff readers (agents,
  managers, admins) who can see the ticket read them. A hidden ticket is a 404
  (``tickets.permissions.get_ticket_for``); a requester or vendor contact who can see the
  ticket is refused (403), as the ticket page shows them no SLA panel either.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from helpdesk.core.models import User
from tickets import permissions as ticket_permissions
from tickets import roles
from tickets.models import Ticket


def can_manage_sla(user: User | AnonymousUser) -> bool:
    """Managers administer calendars and policies (the role, not the Django admin flag).

    Anonymous visitors are refused. Reads the user's roles (one cached query); changes nothing.
    """
    return bool(user and user.is_authenticated) and roles.has_role(user, roles.Role.MANAGER)


def can_see_clocks(user: User, ticket: Ticket) -> bool:
    """Staff readers see the clocks of a ticket they can see (the caller fetched it through ``get_ticket_for``).

    Reads the user's roles (one cached query); changes nothing.
    """
    return ticket_permissions.is_staff_reader(user)


class IsSlaManager(BasePermission):
    """DRF adapter of :func:`can_manage_sla` (anonymous callers get 401 from the authentication first)."""

    message = "Only managers administer SLA calendars and policies."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return can_manage_sla(request.user)


__all__ = ["IsSlaManager", "can_manage_sla", "can_see_clocks"]
