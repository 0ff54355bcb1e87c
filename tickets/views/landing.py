"""Landing pages per role. The ticket pages themselves arrive with the tickets capability."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from helpdesk.core.models import User

from .. import roles
from ..models import Tier, Vendor

LANDING_URL_NAMES = {
    roles.Role.ADMIN: "admin:index",
    roles.Role.MANAGER: "reports:dashboard",
    roles.Role.AGENT: "tickets:queues",
    roles.Role.VENDOR: "tickets:vendor_home",
    roles.Role.REQUESTER: "tickets:portal",
}


def landing_url(user: User) -> str:
    """Where ``user`` lands after logging in: the page of their most powerful role."""
    # Every signed-in user is at least a requester (roles.roles_of); only visitors hold no role.
    return reverse(LANDING_URL_NAMES[roles.primary_role(user) or roles.Role.REQUESTER])


@login_required
def home(request):
    return redirect(landing_url(request.user))


@login_required
def portal(request):
    """Requester portal: the tickets the user submitted."""
    return render(request, "tickets/portal_home.html")


@roles.role_required(roles.Role.AGENT, roles.Role.MANAGER)
def queues(request):
    """Agent workspace: one queue per tier the agent works (managers see every tier)."""
    tier_numbers = sorted(roles.agent_tiers(request.user))
    if roles.is_manager(request.user):
        tier_numbers = [t.value for t in Tier if t != Tier.SELF_SERVICE]
    return render(request, "tickets/queue_home.html", {"tiers": [Tier(n) for n in tier_numbers]})


@roles.role_required(roles.Role.VENDOR)
def vendor_home(request):
    """Vendor contacts: the tickets escalated to their vendor."""
    vendor_id = roles.role_info(request.user).vendor_id
    if vendor_id is None:  # not reached: role_required lets only vendor contacts in
        raise PermissionDenied
    vendor = Vendor.objects.get(pk=vendor_id)
    return render(request, "tickets/vendor_home.html", {"vendor": vendor})
