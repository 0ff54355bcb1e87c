"""Who is who. Every role check of every app goes through these functions.

A user's roles come from their groups (Requester, Agent, Manager, Admin, created by a data
migration), their tier memberships and their vendor link. They are read in one query and
cached on the user object for the rest of the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection, models

GROUP_REQUESTER = "Requester"
GROUP_AGENT = "Agent"
GROUP_MANAGER = "Manager"
GROUP_ADMIN = "Admin"
ALL_GROUPS = (GROUP_REQUESTER, GROUP_AGENT, GROUP_MANAGER, GROUP_ADMIN)


def group(name: str):
    """The auth group ``name``; created if missing (a data migration creates all four up front)."""
    from django.contrib.auth.models import Group

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
# the first time a request asks, after Django or DRF has loaded the signed-in user.
_ROLE_SQL = """
SELECT
    ARRAY(SELECT g.name FROM core_user_groups ug JOIN auth_group g ON g.id = ug.group_id
          WHERE ug.user_id = u.id ORDER BY g.name),
    ARRAY(SELECT DISTINCT m.tier FROM tickets_tiermembership m WHERE m.user_id = u.id ORDER BY m.tier),
    (SELECT v.vendor_id FROM tickets_vendorcontact v WHERE v.user_id = u.id),
    EXISTS (SELECT 1 FROM tickets_ticket_watchers w WHERE w.user_id = u.id)
FROM core_user u WHERE u.id = %(user)s
"""


def role_info(user) -> RoleInfo:
    """Groups, tiers and vendor of ``user`` (one query, then cached on the user object)."""
    if user is None or not user.is_authenticated:
        return _NOBODY
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # Plain SQL: this runs on every request of every signed-in user, and the ORM spent longer
    # compiling the equivalent aggregate than PostgreSQL spent running it.
    with connection.cursor() as cursor:
        cursor.execute(_ROLE_SQL, {"user": user.pk})
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


def forget_roles(user) -> None:
    """Drop the cached role info after changing a user's groups, tiers or vendor."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_admin(user) -> bool:
    info = role_info(user)
    return info.is_superuser or GROUP_ADMIN in info.groups


def is_manager(user) -> bool:
    info = role_info(user)
    return info.is_superuser or GROUP_MANAGER in info.groups


def is_agent(user) -> bool:
    """Member of the Agent group with at least one tier."""
    info = role_info(user)
    return GROUP_AGENT in info.groups and bool(info.tiers)


def is_vendor_contact(user) -> bool:
    return role_info(user).vendor_id is not None


def agent_tiers(user) -> frozenset[int]:
    """Tiers whose queues ``user`` works (empty for non-agents)."""
    return role_info(user).tiers if is_agent(user) else frozenset()


def roles_of(user) -> list[Role]:
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


def primary_role(user) -> Role | None:
    roles = roles_of(user)
    return roles[0] if roles else None


def has_role(user, *roles: Role) -> bool:
    return bool(set(roles_of(user)) & set(roles))


def role_required(*roles: Role) -> Callable:
    """View decorator: signed in (else to the login page) and holding one of ``roles`` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
