"""The open statuses are one list (``tickets.models.OPEN_STATUSES``) that queries, rows and pages read."""

import pytest
from django.utils import timezone

from tests import factories
from tickets.models import OPEN_STATUSES, Status, Ticket


def _ticket_in(status: Status) -> Ticket:
    """A ticket put straight into ``status``, with the times and note the table's constraints ask for."""
    ticket = factories.make_ticket(factories.make_requester())
    done = status not in OPEN_STATUSES
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status,
        resolved_at=timezone.now() if done else None,
        closed_at=timezone.now() if status == Status.CLOSED else None,
        resolution_note="Replaced the power supply." if done else "",
    )
    ticket.refresh_from_db()
    return ticket


@pytest.mark.parametrize("status", list(Status))
def test_open_queryset_and_row_predicate_agree_with_the_list(db, status):
    ticket = _ticket_in(status)
    assert ticket.is_open == (status in OPEN_STATUSES)
    assert Ticket.objects.open().filter(pk=ticket.pk).exists() == (status in OPEN_STATUSES)


@pytest.mark.parametrize("status", list(Status))
def test_ticket_page_shows_the_resolution_once_the_ticket_is_not_open(client, db, status):
    ticket = _ticket_in(status)
    client.force_login(factories.make_manager())
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    shown = 'id="resolution-heading"' in page.content.decode()
    assert shown == (status in (Status.RESOLVED, Status.CLOSED))
    if shown:
        assert "Replaced the power supply." in page.content.decode()
