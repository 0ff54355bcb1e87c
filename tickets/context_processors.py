from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from helpdesk.core.models import User

from . import roles


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


def navigation(request: HttpRequest) -> dict[str, object]:
    """Navigation that follows the user's role, the role's label and the version for the footer."""
    context: dict[str, object] = {"helpdesk_version": settings.HELPDESK_VERSION, "nav_items": [], "user_role_label": ""}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    nav = []
    for label, name in _items_for(user):
        url = reverse(name)
        nav.append(NavItem(label=label, url=url, active=request.path.startswith(url)))
    context["nav_items"] = nav
    role = roles.primary_role(user)
    context["user_role_label"] = role.label if role is not None else ""
    return context
