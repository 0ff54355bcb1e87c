"""SLA changes when PostgreSQL aborts them with a deadlock: the sweep keeps its other batches and runs
the aborted one again; a configuration change that keeps failing says so and saves nothing."""

from datetime import timedelta

import pytest

from helpdesk.core.db import TransactionConflict
from sla import services as sla
from sla.models import BusinessCalendar, ClockEvent, Policy, SlaSettings, Target
from tests import db_faults
from tests.sla.test_sweep_and_rebuild import START, _p1_tickets
from tests.sla.test_views import _posts
from tests.tickets.ticket_page_helpers import flash
from tickets.models import EventKind, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)
inject_deadlock = db_faults.inject_deadlock  # the fixture, for this module's tests

NOW = START + timedelta(hours=12)  # every clock of the P1 tickets has crossed both lines


def test_an_aborted_batch_runs_again_and_the_others_are_kept(inject_deadlock):
    clocks = 3 * len(_p1_tickets(4))
    # The first crossing of the second batch aborts its batch once.
    inject_deadlock("sla_clockevent", when="n = 4", event="INSERT")
    assert sla.sweep(now=NOW, batch=3) == {"warning": clocks, "breached": clocks}
    assert ClockEvent.objects.count() == 2 * clocks  # each crossing once
    assert TicketEvent.objects.filter(kind=EventKind.SLA).count() == 2 * clocks


def test_a_batch_that_keeps_failing_loses_only_itself(inject_deadlock):
    clocks = 3 * len(_p1_tickets(4))
    inject_deadlock("sla_clockevent", when="n >= 4", event="INSERT")  # from the second batch on
    with pytest.raises(TransactionConflict):
        sla.sweep(now=NOW, batch=3)
    assert ClockEvent.objects.count() == 3  # the first batch is committed
    db_faults.remove("sla_clockevent")
    assert sla.sweep(now=NOW, batch=3) == {"warning": clocks - 3, "breached": clocks}
    assert ClockEvent.objects.count() == 2 * clocks


def _configuration() -> list:
    """Everything an SLA configuration change could write."""
    return [
        list(SlaSettings.objects.values_list("version", flat=True)),
        list(Policy.objects.order_by("pk").values_list("name", "position", "is_default")),
        list(BusinessCalendar.objects.order_by("pk").values_list("name", "timezone")),
        list(Target.objects.order_by("pk").values_list("metric", "priority", "seconds")),
    ]


@pytest.mark.parametrize("index", range(7))  # the manager pages' seven kinds of change (test_views._posts)
def test_a_configuration_change_that_keeps_deadlocking_is_refused_and_saves_nothing(
    client, manager, index, inject_deadlock
):
    path, data = _posts()[index]
    before = _configuration()
    inject_deadlock("sla_slasettings")  # every change ends by bumping the settings version
    client.force_login(manager)
    response = client.post(path, data)
    assert response.status_code in (302, 409)
    assert any("nothing was saved" in message for message in flash(response))
    assert _configuration() == before
