"""The sweep when PostgreSQL aborts one of its batches: the other batches are kept, the batch runs again."""

from datetime import timedelta

import pytest

from helpdesk.core.db import TransactionConflict
from sla import services as sla
from sla.models import ClockEvent
from tests import db_faults
from tests.sla.test_sweep_and_rebuild import START, _p1_tickets
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
