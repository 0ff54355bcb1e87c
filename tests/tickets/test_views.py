"""Every landing page: who may open it, who gets 403, who is sent to log in."""

import pytest

from tests import factories

PAGES = ["/portal/", "/queues/", "/vendor/", "/dashboard/"]

ROLE_MAKERS = {
    "requester": factories.make_requester,
    "agent_t1": lambda: factories.make_agent(1),
    "agent_t3": lambda: factories.make_agent(3),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}

# page -> roles allowed to open it
ALLOWED = {
    "/portal/": set(ROLE_MAKERS),
    "/queues/": {"agent_t1", "agent_t3", "manager"},
    "/vendor/": {"vendor"},
    "/dashboard/": {"manager"},
}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
@pytest.mark.parametrize("path", PAGES)
def test_page_permissions_per_role(client, db, role, path):
    client.force_login(ROLE_MAKERS[role]())
    response = client.get(path)
    assert response.status_code == (200 if role in ALLOWED[path] else 403)


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("requester", "/portal/"),
        ("agent_t1", "/queues/"),
        ("vendor", "/vendor/"),
        ("manager", "/dashboard/"),
    ],
)
def test_home_redirects_to_the_role_page(client, db, role, landing):
    client.force_login(ROLE_MAKERS[role]())
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == landing


def test_admin_lands_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/")["Location"] == "/admin/"


def test_navigation_follows_the_role(client, db):
    client.force_login(factories.make_requester())
    page = client.get("/portal/").content.decode()
    assert 'href="/portal/"' in page
    assert 'href="/queues/"' not in page
    assert 'href="/dashboard/"' not in page
    assert 'href="/admin/"' not in page

    client.force_login(factories.make_manager())
    page = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/"' in page
    assert 'href="/queues/"' in page
    assert 'href="/admin/"' not in page

    client.force_login(factories.make_admin())
    assert 'href="/admin/"' in client.get("/portal/").content.decode()


def test_queue_page_lists_only_the_agents_tiers(client, db):
    client.force_login(factories.make_agent(2, 3))
    page = client.get("/queues/").content.decode()
    assert "Tier 2 - Technicians" in page
    assert "Tier 3 - Specialists" in page
    assert "Tier 1 - Service desk" not in page


def test_landing_page_query_count_is_fixed(client, db, django_assert_max_num_queries):
    client.force_login(factories.make_agent(1, 2, 3))
    # session, user, roles, tab counts (one aggregate), filter and bulk options, paginator count
    with django_assert_max_num_queries(9):
        assert client.get("/queues/").status_code == 200


def test_footer_shows_the_version(client, requester):
    from helpdesk import __version__

    client.force_login(requester)
    assert f"Helpdesk {__version__}" in client.get("/portal/").content.decode()
