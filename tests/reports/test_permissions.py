"""Who may read the KPI reports (``reports.permissions``): every page and endpoint, per role.

Managers read everything; agents only their own figures (the "mine" page, the ticket lists and
CSV behind them, ``/api/reports/me/``); requesters, vendor contacts and admins without the
Manager group read nothing. The pages and the API answer alike because both ask the same
predicates.
"""

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from reports import permissions
from tests import factories
from tickets import roles

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "requester", "vendor", "agent_t1", "agent_t3", "admin_group_only", "manager", "superuser"]
READS_OWN = {"agent_t1", "agent_t3", "manager", "superuser"}
READS_ALL = {"manager", "superuser"}


def make(role: str):
    if role == "anonymous":
        return None
    if role == "admin_group_only":
        # In the Admin group but neither superuser nor manager: the role, not the admin flag, counts.
        user = factories.UserFactory(is_staff=True)
        user.groups.add(factories.group(roles.GROUP_ADMIN))
        return user
    return {
        "requester": factories.make_requester,
        "vendor": factories.make_vendor_contact,
        "agent_t1": lambda: factories.make_agent(1),
        "agent_t3": lambda: factories.make_agent(3),
        "manager": factories.make_manager,
        "superuser": factories.make_admin,
    }[role]()


# (url, who gets 200); everyone else signed in gets 403.
PAGES = [
    ("/dashboard/", READS_ALL),
    ("/dashboard/mine/", READS_OWN),
    ("/dashboard/tickets/?figure=backlog", READS_OWN),
    ("/dashboard/tickets/?figure=backlog&mine=1", READS_OWN),
    ("/dashboard/csv/figures/", READS_OWN),
]
ENDPOINTS = [
    ("/api/reports/figures/", READS_ALL),
    ("/api/reports/figures/csat/", READS_ALL),
    ("/api/reports/tables/agents/", READS_ALL),
    ("/api/reports/tables/figures/", READS_ALL),
    ("/api/reports/me/", READS_OWN),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_pages_per_role(client, role, url, allowed):
    user = make(role)
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    if user is None:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("url", "allowed"), ENDPOINTS)
def test_endpoints_per_role(role, url, allowed):
    api = APIClient()
    user = make(role)
    if user is not None:
        api.force_authenticate(user)
    response = api.get(url)
    expected = 401 if user is None else 200 if role in allowed else 403
    assert response.status_code == expected
    if expected != 200:
        assert "detail" in response.json()


@pytest.mark.parametrize("role", ["agent_t1", "manager"])
def test_own_figures_are_scoped_to_the_caller(client, role):
    user = make(role)
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/reports/me/").json()["scope"] == {"agent": str(user.pk)}
    client.force_login(user)
    assert client.get("/dashboard/mine/").context["personal"] is True


def test_agents_get_their_own_lists_even_without_asking(client):
    agent = factories.make_agent(1)
    client.force_login(agent)
    assert client.get("/dashboard/tickets/?figure=backlog").context["personal"] is True
    # Their own figures have no per-agent table: the CSV of it does not exist for them.
    assert client.get("/dashboard/csv/agents/").status_code == 404
    manager = factories.make_manager()
    client.force_login(manager)
    assert client.get("/dashboard/tickets/?figure=backlog").context["personal"] is False
    assert client.get("/dashboard/tickets/?figure=backlog&mine=1").context["personal"] is True
    assert client.get("/dashboard/csv/agents/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_figures_agent_id_per_role(role):
    user = make(role)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    for mine in (False, True):
        if role not in READS_OWN:
            with pytest.raises(PermissionDenied):
                permissions.figures_agent_id(user, mine=mine)
        elif role in READS_ALL and not mine:
            assert permissions.figures_agent_id(user, mine=mine) is None
        else:
            assert permissions.figures_agent_id(user, mine=mine) == user.pk
    assert permissions.can_see_all_figures(user) is (role in READS_ALL)
    assert permissions.can_see_own_figures(user) is (role in READS_OWN)
