"""A small hand-built desk history (through the real ticket services, frozen time) shared by the tests.

The default SLA policy: P3 (medium x medium) counts office hours Mon-Fri 09:00-17:00 UTC,
first response 4 h, next response 8 h, resolution 24 business hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import time_machine

from knowledgebase.models import Deflection
from reports import kpis
from reports.models import Survey
from reports.surveys import answer_survey
from tests import factories
from tests.knowledgebase.conftest import publish
from tickets import services
from tickets.models import Channel, Ticket

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
NOW = MONDAY + timedelta(days=3, hours=12)  # Thursday 12:00
PERIOD = kpis.Period(MONDAY.date(), (MONDAY + timedelta(days=2)).date())  # Monday to Wednesday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


@dataclass
class Desk:
    requester: object
    a1: object
    a2: object
    manager: object
    t1: Ticket
    t2: Ticket
    t3: Ticket
    t4: Ticket


def step(when: datetime, action, **kwargs):
    with time_machine.travel(when, tick=False):
        return action(**kwargs)


def build_desk() -> Desk:
    """Four tickets over Monday-Wednesday (see tests/reports/test_kpis.py for the figures they make)."""
    requester = factories.make_requester(username="rita")
    a1, a2 = factories.make_agent(1, username="alice"), factories.make_agent(2, username="bob")
    manager = factories.make_manager(username="maria")
    # T1: Monday 09:00 portal; answered at 10:00, resolved at 12:00: first contact resolution.
    t1 = step(at(0, 9), factories.make_ticket, requester=requester, subject="VPN drops")
    step(at(0, 9, 30), services.claim_ticket, ticket_id=t1.pk, by=a1)
    step(at(0, 10), services.add_reply, ticket_id=t1.pk, by=a1, body="Renew the certificate.")
    step(at(0, 12), services.resolve_ticket, ticket_id=t1.pk, by=a1, resolution_note="Certificate renewed.")
    # T2: Monday 16:00 e-mail; answered Tuesday 10:00, the requester has to write back at 11:00.
    t2 = step(at(0, 16), factories.make_ticket, requester=requester, subject="Mail bounces", channel=Channel.EMAIL)
    step(at(1, 9), services.claim_ticket, ticket_id=t2.pk, by=a1)
    step(at(1, 10), services.add_reply, ticket_id=t2.pk, by=a1, body="Which address?")
    step(at(1, 11), services.add_reply, ticket_id=t2.pk, by=requester, body="boss@example.com")
    step(at(1, 15), services.resolve_ticket, ticket_id=t2.pk, by=a1, resolution_note="Alias fixed.")
    # T3: Tuesday 09:00 phone; escalated to tier 2 at 10:00, answered 11:00, resolved Wednesday
    # 09:30 and reopened by the agent at 10:00: still open.
    t3 = step(at(1, 9), factories.make_ticket, requester=requester, subject="Server down", channel=Channel.PHONE)
    step(at(1, 10), services.escalate_ticket, ticket_id=t3.pk, by=a1, reason="Needs a technician")
    step(at(1, 10, 30), services.claim_ticket, ticket_id=t3.pk, by=a2)
    step(at(1, 11), services.add_reply, ticket_id=t3.pk, by=a2, body="Rebooting it.")
    step(at(2, 9, 30), services.resolve_ticket, ticket_id=t3.pk, by=a2, resolution_note="Rebooted.")
    step(at(2, 10), services.reopen_ticket, ticket_id=t3.pk, by=a2, reason="Down again")
    # T4: Wednesday 09:00 portal, never answered: its first response came due at 13:00.
    t4 = step(at(2, 9), factories.make_ticket, requester=requester, subject="Printer jams")
    # Surveys: T1 scores 5, T2 scores 2, T3's first resolution unanswered.
    step(at(2, 14), answer_survey, survey_id=Survey.objects.get(ticket=t1).pk, score=5, comment="Fast", by=requester)
    step(at(2, 14), answer_survey, survey_id=Survey.objects.get(ticket=t2).pk, score=2, by=requester)
    # Two deflections on Tuesday.
    article = step(at(0, 8), publish, author=a1, reviewer=manager, title="VPN certificate")
    for minute in (1, 2):
        step(at(1, 12, minute), Deflection.objects.create, article=article, query="vpn")
    return Desk(requester, a1, a2, manager, t1, t2, t3, t4)
