"""The agent queue's rows, written out in Python, are exactly what the template used to write.

``tests/templates/tickets/_queue_rows_reference.html`` keeps the former template loop; every
kind of row (swarm, vendor reference, no assignee or category, each SLA due state, hostile
text) must come out byte for byte the same, escaped the same way.
"""

from datetime import UTC, datetime, timedelta

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
