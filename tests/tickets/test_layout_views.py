"""The agent layout (base.html) per role, and the queue page's toolbar: filter chips, columns, bulk bar, shortcuts."""

import re

import pytest
from django.urls import reverse

from tests import factories
from tickets.models import Category, Tier
from tickets.queue_forms import DEFAULT_COLUMNS

ROLE_MAKERS = {
    "requester": factories.make_requester,
    "agent": lambda: factories.make_agent(2),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}
HOME = {"requester": "/portal/", "agent": "/queues/", "vendor": "/vendor/", "manager": "/dashboard/"}


def sidebar(page: str) -> str:
    return re.search(r'<aside class="app-sidebar.*?</aside>', page, re.S).group(0)


# --------------------------------------------------------------------------- the layout per role


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_staff_get_the_agent_layout_and_requesters_keep_the_portal(client, db, role):
    client.force_login(ROLE_MAKERS[role]())
    page = client.get(HOME[role]).content.decode()
    staff = role != "requester"
    assert ('class="app-sidebar' in page) == staff
    assert ('action="/tickets/search/"' in page) == staff  # the top bar's search
    assert ("core/shortcuts.js" in page) == staff
    assert ('id="shortcuts-dialog"' in page) == staff
    assert ('class="navbar navbar-expand-lg navbar-dark bg-dark" aria-label="Main navigation"' in page) != staff
    # Everyone keeps the way to their preferences and out.
    assert 'href="/accounts/email/"' in page and 'action="/accounts/logout/"' in page
    assert "<script>" not in page and " style=" not in page and "onclick" not in page


def test_the_sidebar_lists_the_queues_without_counting_them_outside_the_queue_page(client, db):
    agent = factories.make_agent(2)
    factories.make_ticket(tier=Tier.T2)
    client.force_login(agent)
    side = sidebar(client.get("/kb/").content.decode())
    queues = re.search(r'<ul[^>]*aria-label="Your tier queues"[^>]*>(.*?)</ul>', side, re.S).group(1)
    assert 'href="/queues/?queue=tier2"' in queues and "Tier 2 - Technicians" in queues
    assert "Tier 1" not in queues and "open tickets" not in queues
    side = sidebar(client.get("/queues/").content.decode())
    assert '1<span class="visually-hidden"> open tickets</span>' in side
    assert 'aria-current="true"' in side  # the queue shown


def test_the_sidebar_follows_the_role(client, db):
    client.force_login(factories.make_manager())
    side = sidebar(client.get("/queues/").content.decode())
    for href in ("/dashboard/", "/queues/", "/sla/", "/kb/", "/portal/"):
        assert f'href="{href}"' in side, href
    client.force_login(factories.make_vendor_contact())
    side = sidebar(client.get("/vendor/").content.decode())
    assert 'href="/vendor/"' in side and 'href="/queues/"' not in side and "Saved views" not in side


def test_requester_pages_look_as_before(client, db):
    client.force_login(factories.make_requester())
    page = client.get("/portal/").content.decode()
    assert '<main id="main" class="container py-4" tabindex="-1">' in page
    assert "Signed in as" in page and "Preferences" in page


# --------------------------------------------------------------------------- filter chips


def test_each_active_filter_is_a_chip_that_removes_it(client, db):
    category = Category.objects.create(name="Printers")
    client.force_login(factories.make_agent(1))
    response = client.get(
        "/queues/",
        {"queue": "tier1", "status": ["open", "new"], "category": category.pk, "q": "jam", "page": "1", "sort": "-due"},
    )
    chips = {(c.label, c.value): c.remove_url for c in response.context["chips"]}
    assert chips == {
        ("Search", "“jam”"): f"?queue=tier1&status=open&status=new&category={category.pk}&sort=-due",
        ("Status", "Open"): f"?queue=tier1&status=new&category={category.pk}&q=jam&sort=-due",
        ("Status", "New"): f"?queue=tier1&status=open&category={category.pk}&q=jam&sort=-due",
        ("Category", "Printers"): "?queue=tier1&status=open&status=new&q=jam&sort=-due",
    }
    page = response.content.decode()
    assert page.count('class="queue-chip"') == 4
    assert "Filters (4)" in page


def test_chips_of_an_invalid_filter_show_the_value_as_typed(client, db):
    client.force_login(factories.make_agent(1))
    response = client.get("/queues/", {"priority": "9", "assignee": "none"})
    assert response.status_code == 400
    assert {(c.label, c.value) for c in response.context["chips"]} == {("Priority", "9"), ("Assignee", "Unassigned")}


def test_no_filter_no_chip(client, db):
    client.force_login(factories.make_agent(1))
    response = client.get("/queues/", {"sort": "due"})
    assert response.context["chips"] == []
    assert "No filters: open tickets of this queue." in response.content.decode()


# --------------------------------------------------------------------------- columns


def test_columns_are_kept_per_person_and_reset_to_the_default(client, db):
    agent = factories.make_agent(1)
    client.force_login(agent)
    response = client.post(reverse("tickets:queue_columns"), {"columns": ["channel", "tier"], "next": "/queues/?x=1"})
    assert response.status_code == 302 and response["Location"] == "/queues/?x=1"
    agent.refresh_from_db()
    assert agent.queue_columns == ["channel", "tier"]
    assert client.get("/queues/").context["columns"] == ["tier", "channel"]  # table order
    client.post(reverse("tickets:queue_columns"), {"reset": "1"})
    agent.refresh_from_db()
    assert agent.queue_columns == []
    assert client.get("/queues/").context["columns"] == DEFAULT_COLUMNS


@pytest.mark.parametrize("data", [{}, {"columns": ["secret"]}, {"columns": ["channel", "nope"]}])
def test_bad_columns_change_nothing(client, db, data):
    agent = factories.make_agent(1, queue_columns=["channel"])
    client.force_login(agent)
    response = client.post(reverse("tickets:queue_columns"), data, follow=True)
    assert "Columns not changed" in response.content.decode()
    agent.refresh_from_db()
    assert agent.queue_columns == ["channel"]


@pytest.mark.parametrize("role", ["requester", "vendor"])
def test_only_agents_and_managers_choose_columns(client, db, role):
    user = ROLE_MAKERS[role]()
    client.force_login(user)
    assert client.post(reverse("tickets:queue_columns"), {"columns": ["channel"]}).status_code == 403
    user.refresh_from_db()
    assert user.queue_columns == []


def test_columns_need_a_post(client, db):
    client.force_login(factories.make_agent(1))
    assert client.get(reverse("tickets:queue_columns")).status_code == 405


def test_unknown_stored_columns_fall_back_to_the_default(client, db):
    client.force_login(factories.make_agent(1, queue_columns=["gone"]))
    assert client.get("/queues/").context["columns"] == DEFAULT_COLUMNS


# --------------------------------------------------------------------------- bulk bar and shortcuts


def test_the_bulk_bar_and_the_shortcuts_are_plain_markup(client, db):
    factories.make_ticket()
    client.force_login(factories.make_agent(1))
    page = client.get("/queues/").content.decode()
    # Visible without JavaScript (queue.js hides it until a row is ticked).
    assert re.search(r'<div class="queue-bulk-bar" data-bulk-bar>', page)
    assert 'data-shortcut="t"' in page and 'data-shortcut="/"' in page
    assert "<tbody data-shortcut-rows>" in page
    assert 'title="Printer on floor 3 jams"' in page  # the full subject on a cut line


def test_chips_of_a_category_and_a_person_add_no_statement_per_ticket(client, db, django_assert_num_queries):
    """The chips read the names from the filter form the view validated: the count stays fixed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hardware = Category.objects.create(name="Hardware")
    printers = Category.objects.create(name="Printers", parent=hardware)
    alice = factories.make_agent(1, first_name="Alice", last_name="Agent")
    params = {"category": printers.pk, "assignee": alice.pk, "status": ["open", "new"]}
    factories.make_ticket(category=printers, assignee=alice)
    client.force_login(factories.make_agent(1))
    client.get("/queues/", params)  # warm the shared counts and the option lists
    with CaptureQueriesContext(connection) as few:
        response = client.get("/queues/", params)
    assert {(c.label, c.value) for c in response.context["chips"]} >= {
        ("Category", "Hardware / Printers"),
        ("Assignee", "Alice Agent"),
    }
    for _ in range(10):
        factories.make_ticket(category=printers, assignee=alice)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get("/queues/", params).context["rows"]) == 11
