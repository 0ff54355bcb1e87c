"""SLA in the ticket lists: the queue's "Due" column, "breaching soonest" sort and SLA filter, and the
same fields, ordering and filter in the ticket API.

The tickets' SLA summary fields (``sla_due_at``, ``sla_breached``) are set directly here: the
lists only read them, and ``sla`` keeps them current (tested with the engine).
"""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.tickets.test_api_support import api
from tickets.models import Ticket
from tickets.views.queue_rows import due


def ticket_with(due_in: timedelta | None, breached: bool = False, **fields) -> Ticket:
    ticket = factories.make_ticket(**fields)
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_due_at=None if due_in is None else now + due_in, sla_breached=breached
    )
    ticket.refresh_from_db()
    return ticket


def refs(response) -> list[str]:
    return [t.reference for t in response.context["page_obj"]]


def due_cell(page: str, ticket: Ticket) -> str:
    """The "Due" cell of ``ticket``'s row (the column after the priority)."""
    row = re.search(rf'<tr>\s*<td><input[^>]*value="{ticket.pk}".*?</tr>', page, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return cells[5]


# --------------------------------------------------------------------------- the words


@pytest.mark.parametrize(
    ("offset", "breached", "text", "badge"),
    [
        (timedelta(minutes=35, seconds=20), False, "in 35 min", "text-bg-warning"),
        (timedelta(minutes=60), False, "in 1 h", "text-bg-warning"),
        (timedelta(minutes=61), False, "in 1 h", ""),
        (timedelta(hours=5, minutes=59), False, "in 5 h", ""),
        (timedelta(days=3, hours=2), False, "in 3 d", ""),
        (timedelta(seconds=20), False, "in under 1 min", "text-bg-warning"),
        (-timedelta(hours=2, minutes=10), False, "overdue 2 h", "text-bg-danger"),
        (-timedelta(minutes=5), True, "overdue 5 min", "text-bg-danger"),
        (timedelta(hours=3), True, "in 3 h, breached", "text-bg-danger"),
    ],
)
def test_due_words_and_colours(offset, breached, text, badge):
    now = timezone.now()
    shown = due(now + offset, breached, now)
    assert (shown.text, shown.badge) == (text, badge)
    assert shown.iso and shown.title.startswith("Due ")


def test_no_due_time_shows_nothing_unless_a_clock_breached():
    now = timezone.now()
    assert due(None, False, now) is None
    shown = due(None, True, now)
    assert (shown.text, shown.badge) == ("breached", "text-bg-danger")


# --------------------------------------------------------------------------- the queue page


@pytest.fixture
def agent_client(client, db):
    client.force_login(factories.make_agent(1))
    return client


def test_queue_shows_the_due_column(agent_client):
    soon = ticket_with(timedelta(minutes=35, seconds=30))
    late = ticket_with(-timedelta(hours=2, minutes=5), breached=True)
    later = ticket_with(timedelta(hours=6, minutes=1))
    none = ticket_with(None)
    page = agent_client.get("/queues/").content.decode()
    assert re.search(r'<th scope="col"[^>]*>\s*<a [^>]*>Due</a>', page)
    assert 'class="badge text-bg-warning">in 35 min</time>' in due_cell(page, soon)
    assert 'class="badge text-bg-danger">overdue 2 h</time>' in due_cell(page, late)
    assert ">in 6 h</time>" in due_cell(page, later) and "badge" not in due_cell(page, later)
    assert due_cell(page, none).strip() == ""


def test_sort_breaching_soonest_puts_tickets_without_a_clock_last(agent_client):
    a = ticket_with(timedelta(hours=2))
    b = ticket_with(None)
    c = ticket_with(-timedelta(minutes=10), breached=True)
    d = ticket_with(timedelta(minutes=20))
    e = ticket_with(None)
    Ticket.objects.filter(pk=d.pk).update(sla_due_at=Ticket.objects.get(pk=a.pk).sla_due_at)  # a tie: pk decides
    response = agent_client.get("/queues/", {"sort": "due"})
    assert refs(response) == [c.reference, a.reference, d.reference, b.reference, e.reference]
    page = response.content.decode()
    assert 'aria-sort="ascending"' in page and "Sorted by breaching soonest" in page
    response = agent_client.get("/queues/", {"sort": "-due"})
    assert refs(response) == [d.reference, a.reference, c.reference, e.reference, b.reference]
    assert "Sort by breaching soonest" in response.content.decode()


def test_sla_filter(agent_client):
    breached_flag = ticket_with(timedelta(hours=3), breached=True)
    overdue = ticket_with(-timedelta(minutes=1))
    soon = ticket_with(timedelta(minutes=50))
    later = ticket_with(timedelta(minutes=70))
    none = ticket_with(None)
    everyone = {t.reference for t in (breached_flag, overdue, soon, later, none)}
    assert set(refs(agent_client.get("/queues/", {"sla": "breached"}))) == {breached_flag.reference, overdue.reference}
    assert refs(agent_client.get("/queues/", {"sla": "due_soon"})) == [soon.reference]
    assert set(refs(agent_client.get("/queues/", {"sla": ""}))) == everyone
    response = agent_client.get("/queues/", {"sla": "whenever"})
    assert response.status_code == 400 and refs(response) == []
    page = agent_client.get("/queues/").content.decode()
    assert '<label class="form-label" for="id_sla">SLA</label>' in page
    assert '<option value="due_soon">Due within 1 hour</option>' in page


def test_filter_and_sort_keep_the_query_count_fixed(agent_client, django_assert_num_queries):
    params = {"sort": "due", "sla": "breached"}
    for _ in range(2):
        ticket_with(-timedelta(minutes=5), breached=True, category=factories.CategoryFactory())
    agent_client.get("/queues/", params)  # warm the shared tab counts
    with CaptureQueriesContext(connection) as few:
        assert len(refs(agent_client.get("/queues/", params))) == 2
    expected = len(few.captured_queries)  # read now: each request clears the connection's query log
    for i in range(20):
        ticket_with(-timedelta(minutes=i), breached=True, assignee=factories.make_agent(1), status="open")
    agent_client.get("/queues/", params)  # the new agents changed the cached option lists: render them once
    with django_assert_num_queries(expected):
        assert len(refs(agent_client.get("/queues/", params))) == 22


# --------------------------------------------------------------------------- the ticket API


def _all(client, params) -> list[dict]:
    rows, response = [], client.get("/api/tickets/", params)
    while True:
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


def test_api_list_shows_the_sla_fields_to_staff_only(db):
    requester = factories.make_requester()
    ticket = ticket_with(-timedelta(minutes=5), breached=True, requester=requester)
    row = api(factories.make_agent(1)).get("/api/tickets/").json()["results"][0]
    assert row["sla_breached"] is True
    assert row["sla_due_at"] is not None
    assert datetime.fromisoformat(row["sla_due_at"]) == ticket.sla_due_at
    own = api(requester).get(f"/api/tickets/{ticket.pk}/").json()
    assert "sla_due_at" not in own and "sla_breached" not in own


def test_api_ordering_breaching_soonest_pages_with_nulls_last(db):
    agent = factories.make_agent(1)
    tickets = [
        ticket_with(timedelta(hours=2)),
        ticket_with(None),
        ticket_with(-timedelta(minutes=10), breached=True),
        ticket_with(timedelta(minutes=20)),
        ticket_with(None),
        ticket_with(timedelta(hours=2)),
    ]
    Ticket.objects.filter(pk=tickets[5].pk).update(sla_due_at=Ticket.objects.get(pk=tickets[0].pk).sla_due_at)
    rows = _all(api(agent), {"ordering": "sla_due_at", "page_size": 2})
    expected = [tickets[i].pk for i in (2, 3, 0, 5, 1, 4)]
    assert [r["id"] for r in rows] == expected


def test_api_sla_filter(db):
    agent = factories.make_agent(1)
    breached = ticket_with(timedelta(hours=3), breached=True)
    overdue = ticket_with(-timedelta(minutes=1))
    soon = ticket_with(timedelta(minutes=30))
    ticket_with(timedelta(hours=5))
    ticket_with(None)
    client = api(agent)
    assert {r["id"] for r in _all(client, {"sla": "breached"})} == {breached.pk, overdue.pk}
    assert [r["id"] for r in _all(client, {"sla": "due_soon"})] == [soon.pk]
    response = client.get("/api/tickets/", {"sla": "late"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid filter value: sla."


@pytest.mark.parametrize("params", [{"sla": "breached"}, {"ordering": "sla_due_at"}])
def test_requesters_cannot_filter_or_sort_by_sla(db, params):
    requester = factories.make_requester()
    ticket_with(-timedelta(minutes=1), breached=True, requester=requester)
    response = api(requester).get("/api/tickets/", params)
    assert response.status_code == 400
    assert response.json()["detail"] == "Only staff filter or sort tickets by SLA state."


@pytest.mark.parametrize("who", ["requester", "agent"])
def test_patching_the_sla_fields_is_a_400_naming_them(db, who):
    requester = factories.make_requester()
    ticket = ticket_with(timedelta(hours=1), requester=requester)
    user = requester if who == "requester" else factories.make_agent(1)
    before = Ticket.objects.filter(pk=ticket.pk).values("sla_due_at", "sla_breached", "updated_at").get()
    response = api(user).patch(f"/api/tickets/{ticket.pk}/", {"sla_due_at": None, "sla_breached": True}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["read_only"] == ["sla_breached", "sla_due_at"]
    assert body["detail"] == "These fields are read-only: sla_breached, sla_due_at"
    assert Ticket.objects.filter(pk=ticket.pk).values("sla_due_at", "sla_breached", "updated_at").get() == before
