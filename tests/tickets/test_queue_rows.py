"""The agent queue's rows, written out in Python, are exactly what the template used to write.

``tests/templates/tickets/_queue_rows_reference.html`` keeps the former template loop; every
kind of row (swarm, vendor reference, no assignee or category, each SLA due state, hostile
text) must come out byte for byte the same, escaped the same way.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string

from tickets.views.queue_rows import Due, QueueRow, moment, queue_table_rows

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(\"x\")</script> & 'quotes'"


def row(**changes) -> QueueRow:
    values = {
        "pk": 7,
        "url": "/tickets/7/",
        "reference": "HD-000007",
        "subject": "Printer jams",
        "is_swarm": False,
        "requester_name": "Rita Requester",
        "requester_email": "rita@example.com",
        "priority": "P2 High",
        "priority_badge": "text-bg-warning",
        "status": "Open",
        "status_badge": "text-bg-success",
        "tier": "Tier 1",
        "vendor_reference": "",
        "assignee": "Alice Agent",
        "category": "Hardware / Printers",
        "channel": "Portal",
        "created": moment(NOW - timedelta(days=2), NOW),
        "updated": moment(NOW - timedelta(minutes=5), NOW),
        "due": None,
    }
    return QueueRow(**{**values, **changes})


ROWS = [
    row(),
    row(pk=8, is_swarm=True, assignee="", category="", vendor_reference="VEND-42"),
    row(pk=9, due=Due("in 35 min", "text-bg-warning", "2026-03-04T12:35:00+00:00", "Due 2026-03-04 12:35 UTC")),
    row(pk=10, due=Due("in 3 h", "", "2026-03-04T15:00:00+00:00", "Due 2026-03-04 15:00 UTC")),
    row(pk=11, due=Due("breached", "text-bg-danger", "", "An SLA target was missed")),
    row(
        pk=12,
        subject=HOSTILE,
        requester_name=HOSTILE,
        requester_email=HOSTILE,
        assignee=HOSTILE,
        category=HOSTILE,
        vendor_reference=HOSTILE,
        reference=HOSTILE,
        url='/tickets/12/?a="b"',
    ),
]


def test_python_rows_equal_the_template_reference():
    expected = render_to_string("tickets/_queue_rows_reference.html", {"rows": ROWS})
    assert str(queue_table_rows(ROWS)) == expected
    assert "<script>" not in expected


def test_no_rows_is_empty():
    assert str(queue_table_rows([])) == ""


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
