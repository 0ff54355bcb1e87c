"""The history has a schema: every event a real flow writes holds exactly its kind's keys.

``tickets.events`` names each kind's data keys once (a TypedDict per kind, written only by its
constructor). These tests run the services through every kind of change and hold each stored
event against its kind's schema, so a writer that adds, drops or renames a key fails here.
"""

import types
import typing
from datetime import timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories
from tests.tickets.test_event_visibility import story  # noqa: F401  (the fixture: nearly every kind)
from tickets import events, services
from tickets.models import EventKind, Status, TicketEvent, Tier
from tickets.views.ticket_history import describe

pytestmark = pytest.mark.django_db


def _fits(value: object, annotation: object) -> bool:
    """Whether ``value`` (read back from JSON) fits the schema's ``annotation``."""
    origin = typing.get_origin(annotation)
    if origin is typing.NotRequired:
        return _fits(value, typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if typing.is_typeddict(annotation):
        return isinstance(value, dict) and not _problems(value, annotation)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typing.cast(type, annotation))


def _problems(data: dict, schema: type) -> list[str]:
    hints = typing.get_type_hints(schema)
    missing = [f"missing {k}" for k in schema.__required_keys__ if k not in data]  # type: ignore[attr-defined]
    unknown = [f"unknown {k}" for k in data if k not in hints]
    wrong = [f"{k}={data[k]!r}" for k in data if k in hints and not _fits(data[k], hints[k])]
    return missing + unknown + wrong


def check_every_stored_event() -> set[str]:
    kinds = set()
    for event in TicketEvent.objects.order_by("id"):
        problems = _problems(event.data, events.SCHEMAS[event.kind])
        assert not problems, f"{event.kind} event {event.pk}: {problems}"
        kinds.add(event.kind)
    return kinds


def test_every_kind_has_one_schema():
    assert set(events.SCHEMAS) == set(EventKind.values)


def test_every_event_of_a_whole_ticket_life_fits_its_schema(story):  # noqa: F811
    manager, requester, agent = story["manager"], story["requester"], story["agent"]
    # What the story does not do: a phone call taken and solved, a problem with an incident
    # unlinked again, a follow-up to a closed ticket, the auto-close, an automatic escalation.
    phoned = services.log_phone_call(
        agent=agent, requester=requester, subject="VPN drops", description="Every hour.", resolution_note="Fixed."
    )
    problem, incident = factories.make_ticket(requester=requester), factories.make_ticket(requester=requester)
    services.link_to_problem(incident_id=incident.pk, problem_id=problem.pk, by=manager)
    services.link_to_problem(incident_id=incident.pk, problem_id=None, by=manager)
    services.reply_to_closed(ticket_id=story["ticket"].pk, by=requester, body="It is back.")
    services.resolve_ticket(ticket_id=problem.pk, by=manager, resolution_note="Root cause removed.")
    assert services.close_expired_resolved(now=timezone.now() + timedelta(days=60)) >= 2
    automatic = factories.make_ticket(requester=requester)
    assert services.escalate_automatically(ticket_id=automatic.pk, reason="SLA breached", from_tier=Tier.T1)
    assert phoned.status == Status.RESOLVED

    kinds = check_every_stored_event()
    assert kinds == set(EventKind.values)  # every kind was written and checked


def test_a_constructor_writes_only_its_schema_and_readers_refuse_a_wrong_one():
    ticket = factories.make_ticket()
    event = events.record_event(events.status_changed(ticket, by=None, before=Status.NEW, after=Status.OPEN))
    assert events.payload(event, events.StatusChanged) == {"from": "new", "to": "open"}
    with pytest.raises(TypeError):
        events.payload(event, events.Created)
    assert events.key(events.StatusChanged, "to") == "to"
    with pytest.raises(KeyError):
        events.key(events.StatusChanged, "status")


def test_the_history_names_the_sla_line_that_was_crossed():
    ticket = factories.make_ticket()
    now = timezone.now()
    crossed = [
        events.sla_crossed(ticket, crossing="warning", metric="resolution", scope=0, cycle=1, due=now, at=now),
        events.sla_crossed(ticket, crossing="breached", metric="ola", scope=2, cycle=1, due=now, at=now),
    ]
    lines = describe(events.record_events_bulk(crossed), visible_tickets=set())
    assert [line.summary for line in lines] == ["SLA warning: resolution", "SLA breached: resolution (Tier 2 OLA)"]


def test_replies_written_before_the_side_was_stored_get_it_from_the_migration():
    agent, requester = factories.make_agent(1), factories.make_requester()
    ticket = factories.make_ticket(requester=requester)
    # Rows as the history held them before: a REPLIED event without its side.
    old = TicketEvent.objects.bulk_create(
        [
            TicketEvent(ticket=ticket, kind=EventKind.REPLIED, actor=requester, data={"message": 1}),
            TicketEvent(ticket=ticket, kind=EventKind.REPLIED, actor=agent, data={"message": 2}),
        ]
    )
    migration = import_module("tickets.migrations.0012_replies_name_their_side")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as after its own commit, in a real migration
        cursor.execute(migration.BACKFILL)
    sides = dict(TicketEvent.objects.filter(pk__in=[e.pk for e in old]).values_list("data__message", "data__side"))
    assert sides == {1: "requester", 2: "agent"}
    # The history is append-only again afterwards.
    with pytest.raises(Exception, match="append-only"):
        TicketEvent.objects.filter(pk=old[0].pk).update(data={})
