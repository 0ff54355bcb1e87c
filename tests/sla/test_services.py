"""SLA clocks driven by real ticket services, with a frozen clock (time-machine).

The default policy (migration 0002) runs P1 around the clock and P2-P4 on office hours,
Monday-Friday 09:00-17:00 in the test time zone (UTC).
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from sla import services as sla
from sla.models import BusinessCalendar, Clock, ClockEvent, ClockState, Metric, Policy, Target
from tests import factories
from tickets import services
from tickets.models import EventKind, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, no DST in UTC


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day_offset, hours=hour, minutes=minute)


def clocks(ticket) -> dict[tuple[str, int, int], Clock]:
    return {(c.metric, c.scope, c.cycle): c for c in Clock.objects.filter(ticket=ticket)}


@pytest.fixture
def people(db):
    return {
        "requester": factories.make_requester(),
        "t1": factories.make_agent(1),
        "t2": factories.make_agent(2),
        "manager": factories.make_manager(),
    }


def create(people, when: datetime, impact="medium", urgency="medium") -> Ticket:
    with time_machine.travel(when, tick=False):
        return factories.make_ticket(people["requester"], impact=impact, urgency=urgency)


def test_p1_starts_first_response_resolution_and_tier_1_ola_around_the_clock(people):
    ticket = create(people, at(5, 22), impact="high", urgency="high")  # Saturday 22:00
    assert ticket.priority == 1
    found = clocks(ticket)
    assert set(found) == {("first_response", 0, 1), ("resolution", 0, 1), ("ola", 1, 1)}
    assert found[("first_response", 0, 1)].due_at == at(5, 22, 15)
    assert found[("first_response", 0, 1)].warn_at == at(5, 22, 11) + timedelta(seconds=15)
    assert found[("resolution", 0, 1)].due_at == at(6, 2)
    assert found[("ola", 1, 1)].due_at == at(5, 23)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(5, 22, 15) and ticket.sla_breached is False


def test_p3_counts_office_hours_only(people):
    ticket = create(people, at(4, 16))  # Friday 16:00, P3: 4 business hours to respond
    found = clocks(ticket)
    assert found[("first_response", 0, 1)].due_at == at(7, 12)  # Monday 12:00
    assert found[("resolution", 0, 1)].due_at == at(9, 16)  # 3 business days: Wednesday 16:00


def test_holiday_moves_the_due_time(people):
    office = BusinessCalendar.objects.get(name="Office hours")
    office.holidays.create(day=at(7, 0).date(), name="Spring holiday")
    sla.bump_settings_version()
    ticket = create(people, at(4, 16))
    assert clocks(ticket)[("first_response", 0, 1)].due_at == at(8, 12)  # Tuesday instead of Monday


def test_first_public_agent_reply_meets_first_response_but_a_note_does_not(people):
    ticket = create(people, at(0, 9))
    with time_machine.travel(at(0, 10), tick=False):
        services.add_note(ticket_id=ticket.pk, by=people["t1"], body="Looking into it")
    assert clocks(ticket)[("first_response", 0, 1)].state == ClockState.RUNNING
    with time_machine.travel(at(0, 11), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["t1"], body="Please restart it")
    first = clocks(ticket)[("first_response", 0, 1)]
    assert first.state == ClockState.MET and first.ended_at == at(0, 11)
    assert first.accrued_seconds == 2 * 3600 and first.due_at is None


def test_waiting_for_the_requester_pauses_and_the_due_time_moves_out(people):
    ticket = create(people, at(0, 9))  # P3 resolution: 24 business hours -> Wednesday at closing
    assert clocks(ticket)[("resolution", 0, 1)].due_at == at(2, 17)
    with time_machine.travel(at(0, 10), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["t1"], body="Which printer?")
        services.change_status(ticket_id=ticket.pk, by=people["t1"], status=Status.PENDING_REQUESTER)
    paused = clocks(ticket)[("resolution", 0, 1)]
    assert paused.state == ClockState.PAUSED and paused.due_at is None
    assert paused.pause_reason == "Waiting for requester" and paused.accrued_seconds == 3600
    ticket.refresh_from_db()
    assert ticket.sla_due_at == clocks(ticket)[("ola", 1, 1)].due_at or ticket.sla_due_at is None
    with time_machine.travel(at(1, 10), tick=False):  # a business day later the requester answers
        services.add_reply(ticket_id=ticket.pk, by=people["requester"], body="The one on floor 3")
    resumed = clocks(ticket)[("resolution", 0, 1)]
    assert resumed.state == ClockState.RUNNING
    assert resumed.due_at == at(3, 17)  # moved out by exactly the 8 paused business hours


def test_pending_vendor_pauses_the_sla_but_not_the_vendor_clock(people):
    vendor = factories.VendorFactory(name="Contoso")
    t3 = factories.make_agent(3)
    ticket = create(people, at(0, 9))
    with time_machine.travel(at(0, 10), tick=False):
        services.escalate_ticket(ticket_id=ticket.pk, by=people["t1"], reason="Hardware fault", to_tier=3)
        services.escalate_ticket(
            ticket_id=ticket.pk, by=t3, reason="Send to vendor", vendor=vendor, vendor_reference="CT-1"
        )
        services.change_status(ticket_id=ticket.pk, by=people["manager"], status=Status.PENDING_VENDOR)
    found = clocks(ticket)
    assert found[("resolution", 0, 1)].state == ClockState.PAUSED
    assert found[("uc", vendor.pk, 1)].state == ClockState.RUNNING
    assert found[("ola", 3, 1)].state == ClockState.MET


def test_escalation_gives_the_receiving_tier_its_own_full_ola(people):
    ticket = create(people, at(0, 9))  # P3: tier 1 holds it 1 business day
    with time_machine.travel(at(0, 15), tick=False):
        services.escalate_ticket(ticket_id=ticket.pk, by=people["t1"], reason="Needs a technician")
    found = clocks(ticket)
    assert found[("ola", 1, 1)].state == ClockState.MET and found[("ola", 1, 1)].accrued_seconds == 6 * 3600
    tier2 = found[("ola", 2, 1)]
    assert tier2.state == ClockState.RUNNING and tier2.started_at == at(0, 15)
    assert tier2.target_seconds == 2 * 8 * 3600 and tier2.due_at == at(2, 15)  # two business days from now
    # The requester's resolution clock kept running throughout, its due time untouched.
    resolution = found[("resolution", 0, 1)]
    assert resolution.state == ClockState.RUNNING and resolution.due_at == at(2, 17)


def test_priority_change_keeps_accrued_time_and_retargets(people):
    ticket = create(people, at(0, 9))  # P3 resolution 24 business hours
    with time_machine.travel(at(0, 13), tick=False):
        services.change_priority(ticket_id=ticket.pk, by=people["t1"], impact="medium", urgency="high", reason="")
    ticket.refresh_from_db()
    assert ticket.priority == 2
    resolution = clocks(ticket)[("resolution", 0, 1)]
    assert resolution.accrued_seconds == 4 * 3600
    assert resolution.target_seconds == 8 * 3600
    assert resolution.due_at == at(0, 17)  # 4 hours already spent, 4 left


def test_reopen_starts_a_new_resolution_cycle_and_next_response_follows_the_requester(people):
    ticket = create(people, at(0, 9))
    with time_machine.travel(at(0, 10), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["t1"], body="Try this")
    with time_machine.travel(at(0, 11), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["requester"], body="Did not help")
    assert clocks(ticket)[("next_response", 0, 1)].state == ClockState.RUNNING
    with time_machine.travel(at(0, 12), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["t1"], body="Then this")
        services.resolve_ticket(ticket_id=ticket.pk, by=people["t1"], resolution_note="Replaced the toner")
    assert clocks(ticket)[("next_response", 0, 1)].state == ClockState.MET
    assert clocks(ticket)[("resolution", 0, 1)].state == ClockState.MET
    with time_machine.travel(at(1, 9), tick=False):
        services.reopen_ticket(ticket_id=ticket.pk, by=people["requester"], reason="It jams again")
    found = clocks(ticket)
    assert found[("resolution", 0, 2)].state == ClockState.RUNNING
    assert found[("resolution", 0, 2)].started_at == at(1, 9)
    assert found[("ola", 1, 2)].state == ClockState.RUNNING


# --------------------------------------------------------------------------- the sweep


def test_sweep_records_warning_then_breach_exactly_once_each(people):
    ticket = create(people, at(0, 9), impact="high", urgency="high")  # P1: first response due 09:15
    assert sla.sweep(now=at(0, 9, 10)) == {"warning": 0, "breached": 0}
    assert sla.sweep(now=at(0, 9, 12)) == {"warning": 1, "breached": 0}
    assert sla.sweep(now=at(0, 9, 12)) == {"warning": 0, "breached": 0}
    assert sla.sweep(now=at(0, 9, 16)) == {"warning": 0, "breached": 1}
    assert sla.sweep(now=at(0, 9, 30)) == {"warning": 0, "breached": 0}
    events = ClockEvent.objects.filter(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert sorted(events.values_list("kind", flat=True)) == ["breached", "warning"]
    assert events.get(kind="breached").at == at(0, 9, 15)
    history = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA)
    assert history.count() == 2 and all(e.internal for e in history)
    from helpdesk.core.models import OutboxMessage

    assert OutboxMessage.objects.filter(task=sla.CLOCK_EVENT_TASK).count() == 2
    ticket.refresh_from_db()
    assert ticket.sla_breached is True


def test_a_clock_met_late_is_still_recorded_as_breached(people):
    ticket = create(people, at(0, 9), impact="high", urgency="high")
    with time_machine.travel(at(0, 9, 40), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["t1"], body="Sorry for the wait")
    assert sla.sweep(now=at(0, 9, 41))["breached"] == 1
    first = ClockEvent.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE, kind="breached")
    assert first.at == at(0, 9, 15)


def test_breach_action_escalates_once_and_starts_the_tier_2_ola(people, mailoutbox):
    Policy.objects.filter(is_default=True).update(escalate_on_breach=True)
    sla.bump_settings_version()
    ticket = create(people, at(0, 9), impact="high", urgency="high")  # tier-1 OLA for P1: 1 h
    sla.sweep(now=at(0, 10, 30))
    from sla.notifications import act_on_clock_event

    results = []
    with time_machine.travel(at(0, 10, 31), tick=False):
        for event in ClockEvent.objects.filter(ticket=ticket, kind="breached").order_by("pk"):
            results.append(act_on_clock_event(event.pk))
            results.append(act_on_clock_event(event.pk))  # a repeat changes nothing
    assert sum(r["escalated"] for r in results) == 1
    ticket.refresh_from_db()
    assert ticket.tier == 2
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED).count() == 1
    tier2 = clocks(ticket)[("ola", 2, 1)]
    assert tier2.state == ClockState.RUNNING and tier2.started_at == at(0, 10, 31)
    manager_mails = [m for m in mailoutbox if people["manager"].email in m.to]
    assert manager_mails and all("breached" in m.subject for m in manager_mails)


# --------------------------------------------------------------------------- rebuild


def test_recompute_command_rebuilds_what_was_lost(people):
    ticket = create(people, at(0, 9))
    with time_machine.travel(at(0, 10), tick=False):
        services.add_reply(ticket_id=ticket.pk, by=people["t1"], body="Hello")
        services.escalate_ticket(ticket_id=ticket.pk, by=people["t1"], reason="Over to tier 2")
    before = {key: (c.state, c.accrued_seconds, c.due_at) for key, c in clocks(ticket).items()}
    Clock.objects.filter(ticket=ticket).delete()
    call_command("sla_recompute", ticket.reference, stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = {key: (c.state, c.accrued_seconds, c.due_at) for key, c in clocks(ticket).items()}
    assert after == before and len(after) == 4


def test_target_without_a_row_starts_no_clock(people):
    Target.objects.filter(metric=Metric.OLA, tier=1).delete()
    sla.bump_settings_version()
    ticket = create(people, at(0, 9))
    assert ("ola", 1, 1) not in clocks(ticket)


def test_a_target_edit_retargets_open_tickets_keeping_accrued_time(people):
    from helpdesk.core.models import OutboxMessage
    from sla.tasks import recompute_open_task

    ticket = create(people, at(0, 9))  # P3 resolution 24 business hours
    with time_machine.travel(at(0, 10), tick=False):
        services.change_status(ticket_id=ticket.pk, by=people["t1"], status=Status.PENDING_REQUESTER)
    with time_machine.travel(at(0, 11), tick=False):
        Target.objects.filter(metric=Metric.RESOLUTION, priority=3, tier=0).update(seconds=2 * 3600)
        sla.bump_settings_version()
        message = OutboxMessage.objects.filter(task=sla.RECOMPUTE_TASK).latest("pk")
        assert recompute_open_task(**message.kwargs) == 1
        services.change_status(ticket_id=ticket.pk, by=people["t1"], status=Status.OPEN)
    resolution = clocks(ticket)[("resolution", 0, 1)]
    assert resolution.target_seconds == 2 * 3600 and resolution.accrued_seconds == 3600
    assert resolution.due_at == at(0, 12)  # one hour counted before the pause, one left after it
