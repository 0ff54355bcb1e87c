"""Saved queue views: saving and deleting on the queue page, and ``/api/saved-views/``, with their permissions.

Agents and managers keep views; an agent never sees another person's personal view; only
managers share; only the owner deletes; requesters and vendor contacts get 403 everywhere.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.tickets.test_api_support import api
from tickets.models import SavedView
from tickets.views.saved_views import clean_query

ROLE_MAKERS = {
    "requester": factories.make_requester,
    "agent": lambda: factories.make_agent(1),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}
KEEPS_VIEWS = {"agent", "manager"}


@pytest.fixture
def views(db):
    """An agent's personal view, a colleague's personal view and a manager's shared view."""
    agent = factories.make_agent(1, username="bea")
    colleague = factories.make_agent(1, username="carl")
    manager = factories.make_manager(username="maya")
    return {
        "agent": agent,
        "colleague": colleague,
        "manager": manager,
        "mine": SavedView.objects.create(owner=agent, name="My P1s", query="queue=tier1&priority=1"),
        "theirs": SavedView.objects.create(owner=colleague, name="Carl's mail", query="channel=email"),
        "shared": SavedView.objects.create(owner=manager, name="Breached", query="sla=breached", shared=True),
    }


def snapshot() -> list[tuple]:
    return list(SavedView.objects.order_by("pk").values_list("pk", "owner_id", "name", "shared", "query"))


# --------------------------------------------------------------------------- the query kept


def test_the_query_keeps_the_queue_the_sort_and_the_filters_only():
    assert clean_query("?queue=tier2&sort=-due&page=3&csrfmiddlewaretoken=x&status=open&status=new&q=&evil=1") == (
        "queue=tier2&sort=-due&status=open&status=new"
    )
    assert clean_query("") == ""


# --------------------------------------------------------------------------- the queue page


def test_an_agent_saves_the_current_filters_and_sees_them_in_the_sidebar(client, views):
    client.force_login(views["agent"])
    response = client.post(
        reverse("tickets:saved_view_create"), {"name": " Printers ", "query": "queue=tier1&q=printer&page=2"}
    )
    view = SavedView.objects.get(owner=views["agent"], name="Printers")
    assert (view.query, view.shared) == ("queue=tier1&q=printer", False)
    assert response["Location"] == "/queues/?queue=tier1&q=printer"
    page = client.get(response["Location"]).content.decode()
    assert 'href="/queues/?queue=tier1&amp;q=printer"' in page and "Printers" in page
    assert "My P1s" in page and "Breached" in page  # own and shared
    assert "Carl&#x27;s mail" not in page and "Carl's mail" not in page  # another's personal view


def test_the_sidebar_shows_saved_views_on_other_pages_in_a_fixed_number_of_statements(
    client, views, django_assert_num_queries
):
    client.force_login(views["agent"])
    client.get("/kb/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/kb/").content.decode()
    assert "My P1s" in page and "Breached" in page and "Carl" not in page
    for n in range(10):
        SavedView.objects.create(owner=views["agent"], name=f"View {n}", query=f"priority={n % 4 + 1}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert "View 9" in client.get("/kb/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "query": "sla=breached"}, "This field is required."),
        ({"name": "My P1s", "query": "priority=1"}, "You already have a view of that name."),
        ({"name": "Team view", "query": "sla=breached", "shared": "on"}, "Only managers share views"),
        ({"name": "x" * 81, "query": ""}, "at most 80 characters"),
    ],
)
def test_a_refused_view_saves_nothing_and_says_why(client, views, data, message):
    client.force_login(views["agent"])
    before = snapshot()
    response = client.post(reverse("tickets:saved_view_create"), data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before


def test_a_manager_shares_a_view_with_every_agent(client, views):
    client.force_login(views["manager"])
    client.post(
        reverse("tickets:saved_view_create"),
        {"name": "Unassigned P1", "query": "queue=unassigned&priority=1", "shared": "on"},
    )
    assert SavedView.objects.get(name="Unassigned P1").shared
    client.force_login(views["colleague"])
    assert "Unassigned P1" in client.get("/queues/").content.decode()


def test_the_owner_deletes_their_view(client, views):
    client.force_login(views["agent"])
    page = client.get("/queues/").content.decode()
    assert f'action="/queues/views/{views["mine"].pk}/delete/"' in page
    assert f'action="/queues/views/{views["shared"].pk}/delete/"' not in page  # not theirs
    response = client.post(reverse("tickets:saved_view_delete", args=[views["mine"].pk]))
    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=views["mine"].pk).exists()


@pytest.mark.parametrize(("whose", "status"), [("theirs", 404), ("shared", 403)])
def test_nobody_deletes_another_persons_view(client, views, whose, status):
    client.force_login(views["agent"])
    before = snapshot()
    response = client.post(reverse("tickets:saved_view_delete", args=[views[whose].pk]))
    assert response.status_code == status
    assert snapshot() == before


@pytest.mark.parametrize("role", ["requester", "vendor"])
def test_requesters_and_vendors_keep_no_views(client, views, role):
    client.force_login(ROLE_MAKERS[role]())
    before = snapshot()
    assert client.post(reverse("tickets:saved_view_create"), {"name": "Mine", "query": ""}).status_code == 403
    assert client.post(reverse("tickets:saved_view_delete", args=[views["shared"].pk])).status_code == 403
    assert snapshot() == before


def test_saving_needs_a_signed_in_post(client, views):
    assert client.post(reverse("tickets:saved_view_create"), {"name": "x"}).status_code == 302  # to log in
    client.force_login(views["agent"])
    assert client.get(reverse("tickets:saved_view_create")).status_code == 405


# --------------------------------------------------------------------------- the API


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_api_list_per_role(views, role):
    user = ROLE_MAKERS[role]()
    response = api(user).get("/api/saved-views/")
    if role not in KEEPS_VIEWS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Breached"]  # shared only: they own none


def test_api_an_agent_sees_their_own_and_the_shared_views_never_anothers(views):
    rows = api(views["agent"]).get("/api/saved-views/").json()
    assert {(row["name"], row["mine"], row["shared"]) for row in rows} == {
        ("Breached", False, True),
        ("My P1s", True, False),
    }
    assert api(views["agent"]).get(f"/api/saved-views/{views['theirs'].pk}/").status_code == 404
    assert api(views["agent"]).get(f"/api/saved-views/{views['shared'].pk}/").json()["query"] == "sla=breached"


def test_api_anonymous_is_refused(views):
    assert api().get("/api/saved-views/").status_code == 401


def test_api_create_and_delete(views):
    client = api(views["agent"])
    response = client.post("/api/saved-views/", {"name": "Email", "query": "channel=email&page=4"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["query"] == "channel=email" and response.json()["mine"] is True
    pk = response.json()["id"]
    assert client.delete(f"/api/saved-views/{pk}/").status_code == 204
    assert not SavedView.objects.filter(pk=pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "My P1s"}, "name"),
        ({"name": "Team", "shared": True}, "shared"),
        ({"name": "   "}, "name"),
        ({"query": "sla=breached"}, "name"),
        ({"name": "x", "owner": 1}, "owner"),
    ],
)
def test_api_refusals_are_400_and_save_nothing(views, body, field):
    before = snapshot()
    response = api(views["agent"]).post("/api/saved-views/", body, format="json")
    assert response.status_code == 400
    assert field in response.content.decode()
    assert snapshot() == before


def test_api_a_manager_shares(views):
    response = api(views["manager"]).post("/api/saved-views/", {"name": "Team", "shared": True}, format="json")
    assert response.status_code == 201 and response.json()["shared"] is True


@pytest.mark.parametrize(("whose", "status"), [("theirs", 404), ("shared", 403)])
def test_api_nobody_deletes_another_persons_view(views, whose, status):
    before = snapshot()
    assert api(views["agent"]).delete(f"/api/saved-views/{views[whose].pk}/").status_code == status
    assert snapshot() == before


@pytest.mark.parametrize("role", ["requester", "vendor"])
def test_api_requesters_and_vendors_cannot_write(views, role):
    client = api(ROLE_MAKERS[role]())
    before = snapshot()
    assert client.post("/api/saved-views/", {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"/api/saved-views/{views['shared'].pk}/").status_code == 403
    assert snapshot() == before


def test_api_list_query_count_does_not_grow(views, django_assert_num_queries):
    client = api(views["agent"])
    client.get("/api/saved-views/")  # the roles are read once and kept on the user
    with CaptureQueriesContext(connection) as few:
        client.get("/api/saved-views/")
    for n in range(10):
        SavedView.objects.create(owner=views["agent"], name=f"View {n}", query=f"priority={n % 4 + 1}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/saved-views/").json()) == 12
