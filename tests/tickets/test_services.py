from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from helpdesk.core.models import OutboxMessage
from tests import factories
from tickets import services
from tickets.models import (
    Channel,
    EventKind,
    MessageKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    Tier,
    priority_for,
)


def events(ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("high", "high", Priority.P1),
        ("high", "medium", Priority.P2),
        ("medium", "high", Priority.P2),
        ("high", "low", Priority.P3),
        ("medium", "medium", Priority.P3),
        ("low", "high", Priority.P3),
        ("medium", "low", Priority.P4),
        ("low", "medium", Priority.P4),
        ("low", "low", Priority.P4),
    ],
)
def test_priority_matrix(impact, urgency, expected):
    assert priority_for(impact, urgency) == expected


def test_create_ticket_lands_in_tier_one_with_event_and_notification(db):
    requester = factories.make_requester()
    ticket = services.create_ticket(
        requester=requester,
        by=requester,
        subject="  VPN down ",
        description="Cannot connect",
        impact="high",
        urgency="high",
    )
    assert (ticket.subject, ticket.tier, ticket.status, ticket.priority) == ("VPN down", Tier.T1, Status.NEW, 1)
    assert ticket.reference == f"HD-{ticket.pk:06d}"
    assert events(ticket) == [EventKind.CREATED]
    assert OutboxMessage.objects.filter(task="tickets.tasks.notify_task", kwargs__event="received").count() == 1


def test_category_routes_new_tickets(db):
    category = factories.CategoryFactory(route_tier=Tier.T2)
    ticket = factories.make_ticket(category=category)
    assert ticket.tier == Tier.T2


@pytest.mark.parametrize(("subject", "description"), [("", "x"), ("   ", "x"), ("x", ""), ("x" * 201, "x")])
def test_create_ticket_refuses_bad_input_and_writes_nothing(db, subject, description):
    requester = factories.make_requester()
    with pytest.raises(ValidationError):
        services.create_ticket(requester=requester, by=requester, subject=subject, description=description)
    assert not Ticket.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_first_public_agent_reply_is_the_first_response(db):
    ticket = factories.make_ticket()
    agent = factories.make_agent(1)
    services.add_note(ticket_id=ticket.pk, by=agent, body="looking")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None  # notes do not count
    services.add_reply(ticket_id=ticket.pk, by=agent, body="Try restarting")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status == Status.OPEN


def test_requester_reply_brings_a_waiting_ticket_back(db):
    ticket = factories.make_ticket(status=Status.PENDING_REQUESTER)
    services.add_reply(ticket_id=ticket.pk, by=ticket.requester, body="Here is the log")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_requester_reply_reopens_a_resolved_ticket_within_the_window(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Replaced toner")
    services.add_reply(ticket_id=ticket.pk, by=ticket.requester, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.resolved_at is None
    assert EventKind.REOPENED in events(ticket)


def test_reply_to_closed_is_refused_and_follow_up_starts_a_linked_ticket(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="done")
    services.confirm_resolution(ticket_id=ticket.pk, by=ticket.requester)
    with pytest.raises(ValidationError):
        services.add_reply(ticket_id=ticket.pk, by=ticket.requester, body="again")
    new = services.reply_to_closed(ticket_id=ticket.pk, by=ticket.requester, body="It is back")
    assert new.pk != ticket.pk
    assert ticket in new.related.all()
    assert new.subject.startswith(f"Follow-up to {ticket.reference}")


def test_requester_cannot_add_notes_or_work_the_ticket(db):
    ticket = factories.make_ticket()
    before = events(ticket)
    for call in (
        lambda: services.add_note(ticket_id=ticket.pk, by=ticket.requester, body="x"),
        lambda: services.escalate_ticket(ticket_id=ticket.pk, by=ticket.requester, reason="x"),
        lambda: services.resolve_ticket(ticket_id=ticket.pk, by=ticket.requester, resolution_note="x"),
        lambda: services.change_status(ticket_id=ticket.pk, by=ticket.requester, status=Status.OPEN),
        lambda: services.claim_ticket(ticket_id=ticket.pk, by=ticket.requester),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert events(ticket) == before
    assert not TicketMessage.objects.exists()


def test_escalation_needs_a_note_and_moves_up_with_history(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(assignee=agent)
    with pytest.raises(ValidationError, match="escalation note"):
        services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="  ")
    ticket.refresh_from_db()
    assert ticket.tier == Tier.T1

    services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="Driver reinstalled, still failing")
    ticket.refresh_from_db()
    assert ticket.tier == Tier.T2
    assert ticket.assignee is None  # lands unassigned in the tier-2 queue
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ESCALATED)
    assert event.data["from"] == 1 and event.data["to"] == 2
    assert event.internal
    assert TicketMessage.objects.get(ticket=ticket).kind == MessageKind.INTERNAL


def test_tier_one_agent_cannot_escalate_once_the_ticket_left_their_tier(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="for tier 2")
    with pytest.raises(PermissionDenied):
        services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="again")


def test_escalation_to_vendor_needs_the_vendor(db):
    agent = factories.make_agent(3)
    ticket = factories.make_ticket(tier=Tier.T3)
    with pytest.raises(ValidationError, match="vendor"):
        services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="hardware fault")
    vendor = factories.VendorFactory()
    services.escalate_ticket(
        ticket_id=ticket.pk, by=agent, reason="hardware fault", vendor=vendor, vendor_reference="CX-77"
    )
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.vendor, ticket.vendor_reference) == (Tier.T4, vendor, "CX-77")
    with pytest.raises(PermissionDenied):  # tier 4 is beyond a tier-3 agent's queues now
        services.escalate_ticket(ticket_id=ticket.pk, by=agent, reason="beyond")


def test_manager_escalates_several_tiers_and_deescalates_dropping_the_vendor(db):
    manager = factories.make_manager()
    ticket = factories.make_ticket()
    vendor = factories.VendorFactory()
    services.escalate_ticket(ticket_id=ticket.pk, by=manager, reason="straight to vendor", to_tier=4, vendor=vendor)
    services.change_status(ticket_id=ticket.pk, by=manager, status=Status.PENDING_VENDOR)
    services.deescalate_ticket(ticket_id=ticket.pk, by=manager, reason="vendor says software", to_tier=2)
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.vendor_id, ticket.status) == (Tier.T2, None, Status.OPEN)
    with pytest.raises(ValidationError):
        services.escalate_ticket(ticket_id=ticket.pk, by=manager, reason="down?", to_tier=1)
    with pytest.raises(ValidationError):
        services.deescalate_ticket(ticket_id=ticket.pk, by=manager, reason="x", to_tier=0)


def test_database_refuses_vendor_outside_tier_four(db):
    ticket = factories.make_ticket()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(vendor=factories.VendorFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(tier=5)


def test_history_is_append_only_in_the_database(db):
    ticket = factories.make_ticket()
    event = TicketEvent.objects.get(ticket=ticket)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TicketEvent.objects.filter(pk=event.pk).update(kind=EventKind.CLOSED)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TicketEvent.objects.filter(pk=event.pk).delete()
    assert TicketEvent.objects.get(pk=event.pk).kind == EventKind.CREATED


def test_deleting_a_user_never_deletes_tickets(db):
    from django.db.models import ProtectedError

    ticket = factories.make_ticket()
    with pytest.raises(ProtectedError):
        ticket.requester.delete()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (Status.NEW, Status.OPEN, True),
        (Status.OPEN, Status.PENDING_REQUESTER, True),
        (Status.PENDING_REQUESTER, Status.OPEN, True),
        (Status.OPEN, Status.NEW, False),
        (Status.OPEN, Status.RESOLVED, False),  # needs the resolve service and its note
        (Status.OPEN, Status.CLOSED, False),
    ],
)
def test_status_transitions(db, start, target, allowed):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(status=start)
    if allowed:
        services.change_status(ticket_id=ticket.pk, by=agent, status=target)
        ticket.refresh_from_db()
        assert ticket.status == target
    else:
        with pytest.raises(ValidationError):
            services.change_status(ticket_id=ticket.pk, by=agent, status=target)
        ticket.refresh_from_db()
        assert ticket.status == start


def test_waiting_for_vendor_only_with_a_vendor(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(status=Status.OPEN)
    with pytest.raises(ValidationError, match="vendor"):
        services.change_status(ticket_id=ticket.pk, by=agent, status=Status.PENDING_VENDOR)


def test_resolution_needs_a_note(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    with pytest.raises(ValidationError, match="resolution note"):
        services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_requester_reopen_window(db, settings):
    settings.TICKET_REOPEN_WINDOW_DAYS = 7
    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="fixed")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    with pytest.raises(ValidationError, match="more than 7 days"):
        services.reopen_ticket(ticket_id=ticket.pk, by=ticket.requester)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    # An agent may still reopen before it closes.
    services.reopen_ticket(ticket_id=ticket.pk, by=agent, reason="found more")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_close_expired_resolved_runs_twice_changing_nothing_the_second_time(db, settings):
    settings.TICKET_REOPEN_WINDOW_DAYS = 7
    agent = factories.make_agent(1)
    old, recent = factories.make_ticket(), factories.make_ticket()
    for t in (old, recent):
        services.resolve_ticket(ticket_id=t.pk, by=agent, resolution_note="fixed")
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    assert services.close_expired_resolved() == 1
    assert services.close_expired_resolved() == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == (Status.CLOSED, Status.RESOLVED)
    assert events(old).count(EventKind.CLOSED) == 1


def test_priority_override_needs_a_reason(db):
    agent = factories.make_agent(1)
    ticket = factories.make_ticket(impact="low", urgency="low")
    with pytest.raises(ValidationError, match="reason"):
        services.change_priority(ticket_id=ticket.pk, by=agent, priority=1)
    services.change_priority(ticket_id=ticket.pk, by=agent, priority=1, reason="CEO's laptop")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.priority_reason) == (1, "CEO's laptop")
    services.change_priority(ticket_id=ticket.pk, by=agent, impact="high", urgency="medium")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.priority_reason) == (2, "")
    assert events(ticket).count(EventKind.PRIORITY_CHANGED) == 2


def test_claim_and_assign_rules(db):
    a1, a1b, a3 = factories.make_agent(1), factories.make_agent(1), factories.make_agent(3)
    ticket = factories.make_ticket()
    services.claim_ticket(ticket_id=ticket.pk, by=a1)
    with pytest.raises(ValidationError, match="already taken"):
        services.claim_ticket(ticket_id=ticket.pk, by=a1b)
    with pytest.raises(ValidationError, match="does not work tier 1"):
        services.assign_ticket(ticket_id=ticket.pk, by=a1, assignee=a3)
    services.assign_ticket(ticket_id=ticket.pk, by=a1, assignee=a1b)
    ticket.refresh_from_db()
    assert ticket.assignee == a1b
    assert OutboxMessage.objects.filter(kwargs__event="assigned", kwargs__to=a1b.pk).exists()


def test_take_next_order_and_empty(db):
    agent = factories.make_agent(1)
    low = factories.make_ticket(impact="low", urgency="low")
    urgent_new = factories.make_ticket(impact="high", urgency="high")
    urgent_old = factories.make_ticket(impact="high", urgency="high")
    Ticket.objects.filter(pk=urgent_old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    factories.make_ticket(impact="high", urgency="high", tier=Tier.T3)  # not this agent's tier
    assert [services.take_next(by=agent).pk for _ in range(3)] == [urgent_old.pk, urgent_new.pk, low.pk]
    assert services.take_next(by=agent) is None


def test_swarm_lets_other_tiers_work_the_ticket(db):
    a1, a3 = factories.make_agent(1), factories.make_agent(3)
    ticket = factories.make_ticket(tier=Tier.T3)
    with pytest.raises(PermissionDenied):
        services.add_note(ticket_id=ticket.pk, by=a1, body="idea")
    with pytest.raises(ValidationError):
        services.join_swarm(ticket_id=ticket.pk, by=a1)
    services.open_swarm(ticket_id=ticket.pk, by=a3)
    services.join_swarm(ticket_id=ticket.pk, by=a1)
    services.add_note(ticket_id=ticket.pk, by=a1, body="idea")
    ticket.refresh_from_db()
    assert ticket.tier == Tier.T3
    assert set(ticket.collaborators.all()) == {a1, a3}


def test_merge_carries_conversation_and_requester_over(db):
    agent = factories.make_agent(1)
    target = factories.make_ticket()
    duplicate = factories.make_ticket(subject="Same printer")
    services.add_reply(ticket_id=duplicate.pk, by=duplicate.requester, body="me too")
    services.merge_tickets(duplicate_id=duplicate.pk, into_id=target.pk, by=agent)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.CLOSED, target.pk)
    assert duplicate.requester in target.watchers.all()
    bodies = list(TicketMessage.objects.filter(ticket=target).values_list("body", flat=True))
    assert "me too" in bodies
    assert any(body.startswith(f"Merged from {duplicate.reference}") for body in bodies)
    with pytest.raises(ValidationError):
        services.merge_tickets(duplicate_id=target.pk, into_id=target.pk, by=agent)


def test_resolving_a_problem_offers_to_resolve_its_incidents(db):
    agent = factories.make_agent(1)
    problem = factories.make_ticket(subject="Mail server down")
    incidents = [factories.make_ticket() for _ in range(3)]
    for incident in incidents:
        services.link_to_problem(incident_id=incident.pk, problem_id=problem.pk, by=agent)
    problem.refresh_from_db()
    assert problem.is_problem
    services.resolve_ticket(ticket_id=problem.pk, by=agent, resolution_note="Disk replaced", resolve_incidents=True)
    assert set(Ticket.objects.filter(problem=problem).values_list("status", flat=True)) == {Status.RESOLVED}


def test_phone_call_resolved_at_once_is_first_contact_resolution(db):
    agent = factories.make_agent(1)
    requester = factories.make_requester()
    ticket = services.log_phone_call(
        agent=agent,
        requester=requester,
        subject="Password expired",
        description="Reset on the phone",
        resolution_note="Reset the password with the caller",
    )
    assert (ticket.channel, ticket.status, ticket.assignee) == (Channel.PHONE, Status.RESOLVED, agent)
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED).exists()


def test_notification_task_sends_public_content_only(db, django_capture_on_commit_callbacks):
    from tickets.tasks import notify_task

    agent = factories.make_agent(1)
    ticket = factories.make_ticket()
    services.add_note(ticket_id=ticket.pk, by=agent, body="SECRET internal detail")
    message = services.add_reply(ticket_id=ticket.pk, by=agent, body="Please restart")
    outbox = OutboxMessage.objects.get(kwargs__event="reply")
    sent = notify_task(outbox_id=outbox.pk, **outbox.kwargs)
    assert sent == 1
    assert notify_task(outbox_id=outbox.pk, **outbox.kwargs) is None  # delivered once
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [ticket.requester.email]
    assert "Please restart" in mail.outbox[0].body
    assert "SECRET" not in mail.outbox[0].body
    assert f"[{ticket.reference}]" in mail.outbox[0].subject
    assert message.pk == outbox.kwargs["message_id"]
