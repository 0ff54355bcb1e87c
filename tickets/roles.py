"""Who is who. Every role check of every app goes through these functions.

A user's roles come from their groups (Requester, Agent, Manager, Admin, created by a data
migration), their tier memberships and their vendor link. They are read in one query and
cached on the user object for the rest of the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from psycopg2 import sql

from helpdesk.core import sqlnames
from helpdesk.core.models import User
from tickets.models import Ticket, TierMembership, VendorContact

GROUP_REQUESTER = "Requester"
GROUP_AGENT = "Agent"
GROUP_MANAGER = "Manager"
GROUP_ADMIN = "Admin"
ALL_GROUPS = (GROUP_REQUESTER, GROUP_AGENT, GROUP_MANAGER, GROUP_ADMIN)

# A function view, as ``role_required`` takes and returns it.
View = Callable[..., HttpResponseBase]


def group(name: str) -> Group:
    """The auth group ``name``; created if missing (a data migration creates all four up front)."""
    return Group.objects.get_or_create(name=name)[0]


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"
    VENDOR = "vendor", "Vendor contact"
    REQUESTER = "requester", "Requester"


@dataclass(frozen=True)
class RoleInfo:
    groups: frozenset[str]
    tiers: frozenset[int]
    vendor_id: int | None
    is_superuser: bool
    # Watches at least one ticket. Read with the roles because it shapes every ticket list:
    # without watched tickets, "requested or watched" is "requested", which PostgreSQL reads in
    # order from an index. A stale False can only hide a ticket, never show one.
    watches: bool = False


_NOBODY = RoleInfo(groups=frozenset(), tiers=frozenset(), vendor_id=None, is_superuser=False)
_CACHE_ATTR = "_helpdesk_role_info"
# The roles of the user ``u``: group names, tiers, vendor, whether they watch a ticket. Read
# the first time a request asks, after Django or DRF has loaded the signed-in user. The table
# and column names come from the models (``_role_statement``).
_ROLE_SQL = """
SELECT
    ARRAY(SELECT g.{g_name} FROM {user_groups} ug JOIN {group} g ON g.{g_id} = ug.{ug_group}
          WHERE ug.{ug_user} = u.{u_id} ORDER BY g.{g_name}),
    ARRAY(SELECT DISTINCT m.{m_tier} FROM {membership} m WHERE m.{m_user} = u.{u_id} ORDER BY m.{m_tier}),
    (SELECT v.{v_vendor} FROM {vendor_contact} v WHERE v.{v_user} = u.{u_id}),
    EXISTS (SELECT 1 FROM {watchers} w WHERE w.{w_user} = u.{u_id})
FROM {user} u WHERE u.{u_id} = %(user)s
"""


@cache
def _role_statement() -> sql.Composed:
    """``_ROLE_SQL`` with the names of the models' tables and columns, composed once per process."""
    user_groups = User.groups.through
    watchers = Ticket.watchers.through
    return sql.SQL(_ROLE_SQL).format(
        user=sqlnames.table(User),
        u_id=sqlnames.column(User, "id"),
        group=sqlnames.table(Group),
        g_id=sqlnames.column(Group, "id"),
        g_name=sqlnames.column(Group, "name"),
        user_groups=sqlnames.table(user_groups),
        ug_user=sqlnames.column(user_groups, "user"),
        ug_group=sqlnames.column(user_groups, "group"),
        membership=sqlnames.table(TierMembership),
        m_tier=sqlnames.column(TierMembership, "tier"),
        m_user=sqlnames.column(TierMembership, "user"),
        vendor_contact=sqlnames.table(VendorContact),
        v_vendor=sqlnames.column(VendorContact, "vendor"),
        v_user=sqlnames.column(VendorContact, "user"),
        watchers=sqlnames.table(watchers),
        w_user=sqlnames.column(watchers, "user"),
    )


def role_info(user: User | AnonymousUser | None) -> RoleInfo:
    """Groups, tiers and vendor of ``user`` (one query, then cached on the user object)."""
    if user is None or not user.is_authenticated:
        return _NOBODY
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # Plain SQL: this runs on every request of every signed-in user, and the ORM spent longer
    # compiling the equivalent aggregate than PostgreSQL spent running it.
    with connection.cursor() as cursor:
        cursor.execute(_role_statement(), {"user": user.pk})
        row = cursor.fetchone()
    if row is None:
        setattr(user, _CACHE_ATTR, _NOBODY)
        return _NOBODY
    groups, tiers, vendor_id, watches = row
    info = RoleInfo(
        groups=frozenset(groups),
        tiers=frozenset(tiers),
        vendor_id=vendor_id,
        is_superuser=user.is_superuser,
        watches=watches,
    )
    setattr(user, _CACHE_ATTR, info)
    return info


def forget_roles(user: User | AnonymousUser) -> None:
    """Drop the cached role info after changing a user's groups, tiers or vendor."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_admin(user: User | AnonymousUser | None) -> bool:
    info = role_info(user)
    return info.is_superuser or GROUP_ADMIN in info.groups


def is_manager(user: User | AnonymousUser | None) -> bool:
    info = role_info(user)
    return info.is_superuser or GROUP_MANAGER in info.groups


def is_agent(user: User | AnonymousUser | None) -> bool:
    """Member of the Agent group with at least one tier."""
    info = role_info(user)
    return GROUP_AGENT in info.groups and bool(info.tiers)


def is_vendor_contact(user: User | AnonymousUser | None) -> bool:
    return role_info(user).vendor_id is not None


def agent_tiers(user: User | AnonymousUser | None) -> frozenset[int]:
    """Tiers whose queues ``user`` works (empty for non-agents)."""
    return role_info(user).tiers if is_agent(user) else frozenset()


def roles_of(user: User | AnonymousUser) -> list[Role]:
    """Every role ``user`` holds, most powerful first; any signed-in user is at least a requester."""
    if not user.is_authenticated:
        return []
    checks = (
        (Role.ADMIN, is_admin),
        (Role.MANAGER, is_manager),
        (Role.AGENT, is_agent),
        (Role.VENDOR, is_vendor_contact),
    )
    found = [role for role, check in checks if check(user)]
    return [*found, Role.REQUESTER]


def primary_role(user: User | AnonymousUser) -> Role | None:
    roles = roles_of(user)
    return roles[0] if roles else None


def has_role(user: User | AnonymousUser, *roles: Role) -> bool:
    return bool(set(roles_of(user)) & set(roles))


def role_required(*roles: Role) -> Callable[[View], View]:
    """View decorator: signed in (else to the login page) and holding one of ``roles`` (else 403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
