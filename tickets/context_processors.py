from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from helpdesk.core.models import User

from . import roles
from .views.queues import Workspace


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def _items_for(user: User) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if roles.is_manager(user):
        items.append(("Dashboard", "reports:dashboard"))
    if roles.is_agent(user) or roles.is_manager(user):
        items.append(("Queues", "tickets:queues"))
        items.append(("Macros", "tickets:macros"))
    if roles.is_agent(user) and not roles.is_manager(user):
        items.append(("My figures", "reports:mine"))  # a URL name only: tickets never imports reports
    if roles.is_manager(user):
        items.append(("SLA", "sla:policies"))  # a URL name only: tickets never imports sla
    if roles.is_vendor_contact(user):
        items.append(("Vendor tickets", "tickets:vendor_home"))
    items.append(("My tickets", "tickets:portal"))
    items.append(("Knowledge base", "knowledgebase:home"))
    if roles.is_admin(user) and user.is_staff:
        items.append(("Admin", "admin:index"))
    return items


def uses_app_layout(user: User) -> bool:
    """Agents, managers and vendor contacts work in the full-width layout; requesters keep the portal."""
    return roles.is_agent(user) or roles.is_manager(user) or roles.is_vendor_contact(user)


def navigation(request: HttpRequest) -> dict[str, object]:
    """Navigation that follows the user's role, the role's label and the version for the footer.

    ``app_layout``: base.html draws the agent layout (sidebar and top bar) instead of the
    portal's navigation bar. ``workspace``: the sidebar's queues and saved views, read only
    when the page renders them (a view may pass its own).
    """
    context: dict[str, object] = {
        "helpdesk_version": settings.HELPDESK_VERSION,
        "nav_items": [],
        "user_role_label": "",
        "app_layout": False,
        "workspace": None,
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    context["app_layout"] = uses_app_layout(user)
    context["workspace"] = Workspace(user)
    nav = []
    for label, name in _items_for(user):
        url = reverse(name)
        nav.append(NavItem(label=label, url=url, active=request.path.startswith(url)))
    context["nav_items"] = nav
    role = roles.primary_role(user)
    context["user_role_label"] = role.label if role is not None else ""
    return context
