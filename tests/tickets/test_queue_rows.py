"""The agent queue's rows: what each kind of row shows on the page, and the ``values()`` read behind it.

Every kind of row (swarm, vendor reference, no assignee or category, each SLA due state,
hostile text) is rendered by ``tickets/_queue_table.html`` through the real queue page.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(\"x\")</script> & 'quotes'"


def _cells(page: str, ticket) -> list[str]:
    """The inner HTML of the cells of ``ticket``'s row on the queue page."""
    row = re.search(rf'<tr>\s*<td><input[^>]*value="{ticket.pk}".*?</tr>', page, re.S).group(0)
    return [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_each_kind_of_row_shows_on_the_queue_page(client, db):
    """Swarm, vendor reference, no assignee or category, each SLA due state, hostile text (escaped)."""
    from tests import factories
    from tickets.models import Status, Ticket, Tier
    from tickets.queue_forms import QUEUE_COLUMNS

    rita = factories.make_requester(first_name="Rita", last_name="Requester", email="rita@example.com")
    alice = factories.make_agent(1, first_name="Alice", last_name="Agent")
    printers = factories.CategoryFactory(name="Printers", parent=factories.CategoryFactory(name="Hardware"))
    hostile_requester = factories.make_requester(first_name=HOSTILE, last_name="")
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        plain = factories.make_ticket(
            rita, subject="Printer jams", category=printers, assignee=alice, priority=2, sla_due_at=None
        )
        swarm = factories.make_ticket(rita, subject="Mail is slow", is_swarm=True, sla_due_at=None)
        soon = factories.make_ticket(rita, sla_due_at=NOW + timedelta(minutes=35, seconds=5))
        later = factories.make_ticket(rita, sla_due_at=NOW + timedelta(hours=3))
        breached = factories.make_ticket(rita, sla_breached=True, sla_due_at=None)
        hostile = factories.make_ticket(
            hostile_requester, subject=HOSTILE, category=factories.CategoryFactory(name=HOSTILE)
        )
        vendor = factories.make_ticket(rita, tier=Tier.T4, vendor=factories.VendorFactory(), vendor_reference=HOSTILE)
    Ticket.objects.filter(pk=plain.pk).update(status=Status.OPEN, updated_at=NOW - timedelta(minutes=5))
    # Every column (the default set leaves out tier, category, created and channel).
    client.force_login(factories.make_manager(queue_columns=list(QUEUE_COLUMNS)))
    with time_machine.travel(NOW, tick=False):
        page = client.get("/queues/", {"queue": "tier1"}).content.decode()
        vendor_page = client.get("/queues/", {"queue": "tier4"}).content.decode()

    cells = _cells(page, plain)
    checkbox = f'<input class="form-check-input" type="checkbox" name="ids" value="{plain.pk}"'
    assert cells[0] == f'{checkbox} aria-label="Select {plain.reference}">'
    assert cells[1] == f'<a href="/tickets/{plain.pk}/">{plain.reference}</a>'
    assert cells[2:5] == [
        '<span class="queue-cut" title="Printer jams">Printer jams</span>',
        '<span class="queue-cut" title="rita@example.com">Rita Requester</span>',
        '<span class="badge text-bg-warning">P2 - High</span>',
    ]
    assert cells[5] == ""  # no SLA clock runs
    assert cells[6:] == [
        '<span class="badge text-bg-success">Open</span>',
        "Tier 1 - Service desk",
        '<span class="queue-cut" title="Alice Agent">Alice Agent</span>',
        '<span class="queue-cut" title="Hardware / Printers">Hardware / Printers</span>',
        # {% when %}: the one date/time style (relative, the exact time on hover).
        '<time datetime="2026-03-02T12:00:00+00:00" title="Mon 2 Mar 2026, 12:00 UTC">Mon 12:00</time>',
        '<time datetime="2026-03-04T11:55:00+00:00" title="Wed 4 Mar 2026, 11:55 UTC">5 minutes ago</time>',
        "Portal",
    ]
    cells = _cells(page, swarm)
    assert cells[2] == (
        '<span class="queue-cut" title="Mail is slow"><span class="badge text-bg-dark">Swarm</span> Mail is slow</span>'
    )
    assert cells[8:10] == [
        '<span class="text-body-secondary">Unassigned</span>',
        '<span class="text-body-secondary">None</span>',
    ]
    assert _cells(page, soon)[5] == (
        '<time datetime="2026-03-04T12:35:05+00:00" title="Due 2026-03-04 12:35 UTC" class="badge text-bg-warning">'
        "in 35 min</time>"
    )
    assert (
        _cells(page, later)[5]
        == '<time datetime="2026-03-04T15:00:00+00:00" title="Due 2026-03-04 15:00 UTC">in 3 h</time>'
    )
    assert (
        _cells(page, breached)[5]
        == '<span class="badge text-bg-danger" title="An SLA target was missed">breached</span>'
    )
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quotes&#x27;"
    cells = _cells(page, hostile)
    cut = f'<span class="queue-cut" title="{escaped}">{escaped}</span>'
    assert (cells[2], cells[9]) == (cut, cut)
    assert cells[3] == f'<span class="queue-cut" title="{hostile_requester.email}">{escaped}</span>'
    assert _cells(vendor_page, vendor)[7] == (
        f'Tier 4 - Vendors <small class="text-body-secondary" title="Vendor reference">{escaped}</small>'
    )
    assert "<script>" not in page + vendor_page


def test_the_default_columns_and_a_chosen_set(client, db):
    """Without a choice the default set; the person's choice (User.queue_columns) otherwise, in table order."""
    from tests import factories
    from tickets.queue_forms import DEFAULT_COLUMNS

    ticket = factories.make_ticket(subject="Printer jams")
    agent = factories.make_agent(1)
    client.force_login(agent)
    page = client.get("/queues/").content.decode()
    assert len(_cells(page, ticket)) == 3 + len(DEFAULT_COLUMNS)
    assert ">Channel</th>" not in page and ">Requester</th>" in page
    agent.queue_columns = ["channel", "status"]
    agent.save(update_fields=["queue_columns"])
    page = client.get("/queues/").content.decode()
    cells = _cells(page, ticket)
    assert len(cells) == 5
    assert cells[3].startswith('<span class="badge') and cells[4] == "Portal"
    assert ">Requester</th>" not in page


def test_an_empty_queue_says_so(client, db):
    from tests import factories

    client.force_login(factories.make_agent(1))
    page = client.get("/queues/").content.decode()
    assert "No tickets in this queue match." in page
    assert 'name="ids" value=' not in page


def _values_of(ticket, people: bool) -> dict:
    """The reference: ``ROW_FIELDS`` (and ``PEOPLE_FIELDS``) read from a ticket instance and its relations."""
    from tickets.views.queue_rows import ROW_FIELDS

    values = {name: getattr(ticket, name) for name in ROW_FIELDS}
    if people:
        requester, assignee, category = ticket.requester, ticket.assignee, ticket.category
        values |= {
            "requester__first_name": requester.first_name,
            "requester__last_name": requester.last_name,
            "requester__username": requester.username,
            "requester__email": requester.email,
            "assignee_id": ticket.assignee_id,
            "assignee__first_name": assignee.first_name if assignee else None,
            "assignee__last_name": assignee.last_name if assignee else None,
            "assignee__username": assignee.username if assignee else None,
            "category_id": ticket.category_id,
            "category__name": category.name if category else None,
            "category__parent__name": category.parent.name if category and category.parent_id else None,
        }
    return values


@pytest.mark.parametrize("people", [True, False])
def test_rows_read_with_values_equal_rows_of_ticket_instances(db, people):
    """A page read as ``values()`` (no model instances) gives the same rows as the tickets themselves."""
    from tests import factories
    from tickets.models import Status, Ticket, Tier
    from tickets.views.queue_rows import queue_rows, rows_from_values

    parent = factories.CategoryFactory(name="Hardware")
    nameless = factories.make_agent(1, first_name="", last_name="")
    factories.make_ticket(category=factories.CategoryFactory(name="Printers", parent=parent), assignee=nameless)
    factories.make_ticket(category=factories.CategoryFactory(name="Loose"), is_swarm=True, status=Status.OPEN)
    factories.make_ticket(
        tier=Tier.T4,
        vendor=factories.VendorFactory(),
        vendor_reference="V-1",
        sla_due_at=NOW,
        sla_breached=True,
        subject=HOSTILE,
    )
    factories.make_ticket(factories.make_requester(first_name="Only", last_name=""))
    queryset = Ticket.objects.select_related("requester", "assignee", "category__parent").order_by("-pk")
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        from_values = queue_rows(queryset[:25], people=people)
        from_instances = rows_from_values([_values_of(t, people) for t in queryset], people=people)
    assert from_values == from_instances
    assert len(from_values) == 4
    names = {r.assignee for r in from_values} | {r.requester_name for r in from_values}
    if people:
        assert {nameless.username, "Only", "Hardware / Printers"} <= names | {r.category for r in from_values}
    else:
        assert names == {""}
