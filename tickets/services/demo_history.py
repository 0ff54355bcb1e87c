"""The demo desk's past (``manage.py seed_demo``): about 90 days of tickets lived as a desk lives them.

Each ticket's life is played in memory with the same steps the services take (claim, reply,
wait for the requester, note, escalate, go to the vendor, resolve, reopen, close when the
reopen window ends), each step writing what its service writes: the ticket's fields, the
messages and the events, every event made by its constructor in ``tickets.events``. Nothing
happens after ``now``: a life stops at its first step still to come, which leaves today's
queues with new, open and waiting tickets.

The rows are then written in bulk and the events recorded, a few thousand at a time, through
``record_events_bulk``: so every app that listens hears the history as it hears a live change
(``sla`` writes the clocks from it, ``reports`` the surveys and the rollup's marks), and
``after_history`` lets the caller run what time would have run meanwhile (the SLA sweep).
The whole history is one transaction; the mail its services would have queued belongs to the
past, so the outbox rows it queued are dropped at the end.

Idempotent: nothing is written when the desk already has tickets of the demo requesters.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.core.models import OutboxMessage, User

from .. import events
from ..events import record_events_bulk
from ..models import (
    Category,
    Channel,
    EventKind,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    Tier,
    Vendor,
    priority_for,
)

DAYS = 90
CHUNK = 3000  # events recorded (and announced) at a time
WEEKDAY_TICKETS = 30
WEEKEND_TICKETS = 4
SEED = 16

# What people write about, per demo category (``demo.DEMO_CATEGORIES``).
SUBJECTS = {
    "Hardware": [
        "Docking station does not charge the laptop",
        "Second monitor stays black",
        "Headset microphone not detected",
        "Keyboard keys stick",
        "Webcam not found in Teams",
    ],
    "Printers": [
        "Printer on floor {floor} jams",
        "Printer shows as offline",
        "Scan to e-mail does not arrive",
        "Prints come out blank",
        "Toner low warning on P-{floor}.14",
    ],
    "Laptops": [
        "Laptop fan very loud",
        "Laptop battery drains in an hour",
        "BitLocker asks for the recovery key",
        "Laptop very slow after the update",
        "Disk is full",
    ],
    "Accounts & passwords": [
        "Password expired",
        "Account locked after password change",
        "Cannot sign in: password expired",
        "MFA prompt on new phone",
        "Outlook keeps asking for my password",
        "Need access to the shared mailbox",
    ],
    "Network & VPN": [
        "VPN drops every hour",
        "No Wi-Fi in meeting room {floor}.02",
        "Network drive not reachable from home",
        "Very slow internet on floor {floor}",
    ],
    "Servers & databases": [
        "Reporting database very slow",
        "File server share full",
        "Nightly backup job failed",
        "Certificate expires on the intranet server",
    ],
}
CATEGORY_WEIGHTS = {
    "Hardware": 12,
    "Printers": 14,
    "Laptops": 16,
    "Accounts & passwords": 30,
    "Network & VPN": 18,
    "Servers & databases": 10,
}
CHANNEL_WEIGHTS = {Channel.PORTAL: 50, Channel.EMAIL: 30, Channel.PHONE: 12, Channel.API: 8}
LEVELS = ["low", "medium", "high"]
AGENT_REPLIES = [
    "Thanks for reporting this. Could you tell me when it started, and send a screenshot of the error?",
    "I have had a look: could you restart the device and try again? Let me know if it persists.",
    "I can reproduce it here; I am working on it and will update you today.",
    "Could you confirm the asset number on the label underneath the device?",
]
REQUESTER_REPLIES = [
    "It started on Monday morning. Screenshot attached.",
    "Restarted twice, still the same.",
    "The label says LT-20{n}.",
    "Yes, that is right, thank you.",
]
NOTES = [
    "Same symptom on two other machines in this department: watching for a pattern.",
    "Checked the logs, nothing unusual before the error.",
    "Known issue with the last client update, see the known error in the KB.",
]
RESOLUTIONS = [
    "Reset the password and confirmed the user can sign in.",
    "Replaced the part; tested with the requester.",
    "Cleared the print queue and reinstalled the driver.",
    "Applied the workaround from the knowledge base; confirmed working.",
    "Updated the firmware; the issue no longer occurs.",
]


class _Later(Exception):
    """The step is still to come: the ticket's life stops before it."""


@dataclass
class Life:
    """One ticket as its services leave it, step by step: the ticket, its messages and events.

    Each method mirrors one service (see its name) and writes what that service writes. An
    event naming a message is built once the message has its id (``build_events``).
    """

    ticket: Ticket
    now: datetime
    messages: list[TicketMessage] = field(default_factory=list)
    steps: list[Callable[[], TicketEvent]] = field(default_factory=list)

    def _at(self, at: datetime) -> datetime:
        if at > self.now:
            raise _Later
        self.ticket.updated_at = at
        return at

    def _add(self, event: TicketEvent) -> None:
        self.steps.append(lambda: event)

    def _message(self, at: datetime, by: User, kind: str, body: str) -> TicketMessage:
        message = TicketMessage(
            ticket=self.ticket, author=by, kind=kind, body=body, channel=self.ticket.channel, created_at=at
        )
        self.messages.append(message)
        return message

    def _set_status(self, at: datetime, by: User | None, status: str) -> None:
        self._add(events.status_changed(self.ticket, by=by, before=self.ticket.status, after=status, at=at))
        self.ticket.status = status

    def created(self, by: User) -> None:
        """``create_ticket``: the CREATED event."""
        self._add(events.created(self.ticket, by=by, at=self._at(self.ticket.created_at)))

    def phone_call(self, agent: User) -> None:
        """``log_phone_call``: created by the agent, assigned to them and open at once."""
        self.created(agent)
        self.ticket.assignee, self.ticket.status = agent, Status.OPEN
        self._add(events.assigned(self.ticket, by=agent, before=None, after=agent.pk, at=self.ticket.created_at))

    def claim(self, at: datetime, agent: User) -> None:
        """``claim_ticket``: a new ticket opens; the agent becomes the assignee."""
        at = self._at(at)
        if self.ticket.status == Status.NEW:
            self._set_status(at, agent, Status.OPEN)
        before, self.ticket.assignee = self.ticket.assignee_id, agent
        self._add(events.assigned(self.ticket, by=agent, before=before, after=agent.pk, at=at))

    def reply(self, at: datetime, by: User, body: str, *, agent: bool) -> None:
        """``add_reply``: the agent's first reply is the first response; the requester's reopens."""
        at = self._at(at)
        message = self._message(at, by, MessageKind.PUBLIC, body)
        side: events.Side = "agent" if agent else "requester"
        ticket = self.ticket
        self.steps.append(lambda: events.replied(ticket, by=by, message=message.pk, side=side, at=at))
        if agent:
            if ticket.first_response_at is None:
                ticket.first_response_at = at
            if ticket.status == Status.NEW:
                self._set_status(at, by, Status.OPEN)
        elif ticket.status == Status.PENDING_REQUESTER:
            self._set_status(at, by, Status.OPEN)
        elif ticket.status == Status.RESOLVED:
            self._set_status(at, by, Status.OPEN)
            ticket.resolved_at, ticket.resolution_note = None, ""
            self._add(events.reopened(ticket, by=by, reason="The requester replied.", at=at))

    def wait_for(self, at: datetime, agent: User, status: str) -> None:
        """``change_status`` to a waiting state."""
        self._set_status(self._at(at), agent, status)

    def note(self, at: datetime, agent: User, body: str) -> None:
        """``add_note``: an internal message and its event."""
        at = self._at(at)
        message = self._message(at, agent, MessageKind.INTERNAL, body)
        ticket = self.ticket
        self.steps.append(lambda: events.note_added(ticket, by=agent, message=message.pk, at=at))

    def escalate(self, at: datetime, by: User, to_tier: int, note: str, vendor: Vendor | None = None) -> None:
        """``escalate_ticket``: the note kept as an internal message, unassigned in the new tier."""
        at = self._at(at)
        ticket = self.ticket
        self._message(at, by, MessageKind.INTERNAL, note)
        before, previous_assignee = ticket.tier, ticket.assignee_id
        ticket.tier, ticket.assignee = to_tier, None
        if vendor is not None:
            ticket.vendor, ticket.vendor_reference = vendor, f"CX-{10000 + ticket.created_at.timetuple().tm_yday * 37}"
        if ticket.status == Status.NEW:
            self._set_status(at, by, Status.OPEN)
        self._add(
            events.tier_moved(
                ticket, by=by, escalated=True, before=before, note=note, previous_assignee=previous_assignee, at=at
            )
        )

    def vendor_message(self, at: datetime, by: User, body: str, *, from_vendor: bool) -> None:
        """``add_vendor_message``: the vendor side conversation, internal; the vendor's answer reopens."""
        at = self._at(at)
        message = self._message(at, by, MessageKind.VENDOR, body)
        ticket = self.ticket
        side: events.Side = "vendor" if from_vendor else "other"

        def build() -> TicketEvent:
            event = events.replied(ticket, by=by, message=message.pk, side=side, at=at)
            event.internal = True
            return event

        self.steps.append(build)
        if from_vendor and ticket.status == Status.PENDING_VENDOR:
            self._set_status(at, by, Status.OPEN)

    def resolve(self, at: datetime, agent: User, note: str) -> None:
        """``resolve_ticket``: status, note, time and the RESOLVED event."""
        at = self._at(at)
        self._set_status(at, agent, Status.RESOLVED)
        self.ticket.resolution_note, self.ticket.resolved_at = note, at
        self._add(events.resolved(self.ticket, by=agent, note=note, at=at))

    def close_after_window(self) -> None:
        """``close_expired_resolved``: closed by the desk when the reopen window ends."""
        resolved_at = self.ticket.resolved_at
        if self.ticket.status != Status.RESOLVED or resolved_at is None:
            return
        at = self._at(resolved_at + timedelta(days=settings.TICKET_REOPEN_WINDOW_DAYS))
        self._set_status(at, None, Status.CLOSED)
        self.ticket.closed_at = at
        self._add(events.closed(self.ticket, by=None, why="reopen window ended", at=at))

    def build_events(self) -> list[TicketEvent]:
        return [step() for step in self.steps]


@dataclass
class Desk:
    """Who works and asks, and the clock of the office."""

    agents: dict[int, list[User]]
    requesters: list[User]
    manager: User
    vendor: Vendor | None
    vendor_contact: User | None
    categories: dict[str, Category]
    now: datetime
    rng: random.Random
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first moment of the history."""
        return self.now - timedelta(days=DAYS + 1)

    def pick(self, options: list[User]) -> User:
        return self.rng.choice(options)

    def office(self, at: datetime) -> datetime:
        """``at``, or the next working morning when it falls outside office hours (Monday-Friday 9-17)."""
        local = at.astimezone(self.zone)
        if local.weekday() < 5 and time(9) <= local.time() < time(17):
            return at
        day = local.date() + timedelta(days=0 if local.time() < time(9) else 1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start = datetime.combine(day, time(9), tzinfo=self.zone)
        return start + timedelta(minutes=self.rng.randint(0, 50))

    def after(self, at: datetime, low: float, high: float, *, office: bool = True) -> datetime:
        """A moment ``low``..``high`` minutes after ``at`` (moved into office hours unless ``office`` is False)."""
        later = at + timedelta(minutes=self.rng.uniform(low, high))
        return self.office(later) if office else later


# First response delay in minutes (usual, late) by priority: most within the SLA target, some not.
RESPONSE_MINUTES = {
    1: ((3, 13), (20, 80)),
    2: ((8, 50), (70, 200)),
    3: ((15, 150), (300, 700)),
    4: ((30, 300), (600, 1200)),
}
# Resolution after the first response, in minutes (usual, late).
RESOLUTION_MINUTES = {
    1: ((15, 45), (70, 200)),
    2: ((20, 90), (150, 400)),
    3: ((30, 240), (600, 1500)),
    4: ((60, 600), (1200, 3000)),
}


def _live(desk: Desk, ticket: Ticket, category: str) -> Life:
    """Play one ticket's life until it ends or reaches ``now``."""
    rng, life = desk.rng, Life(ticket=ticket, now=desk.now)
    p1 = ticket.priority == 1
    late = rng.random() < 0.12
    try:
        agent = desk.pick(desk.agents[ticket.tier])
        if ticket.channel == Channel.PHONE:
            life.phone_call(agent)
            if rng.random() < 0.4:  # first-contact resolution
                life.resolve(desk.after(ticket.created_at, 4, 15, office=False), agent, rng.choice(RESOLUTIONS))
                life.close_after_window()
                return life
            at = desk.after(ticket.created_at, 5, 30, office=False)
            life.reply(at, agent, rng.choice(AGENT_REPLIES), agent=True)
        else:
            life.created(ticket.requester)
            low, high = RESPONSE_MINUTES[ticket.priority][1 if late else 0]
            at = desk.after(ticket.created_at, low, high, office=not p1)
            life.claim(at, agent)
            at += timedelta(minutes=rng.uniform(1, 6))
            life.reply(at, agent, rng.choice(AGENT_REPLIES), agent=True)
        if rng.random() < 0.3:
            life.wait_for(at, agent, Status.PENDING_REQUESTER)
            at = desk.after(at, 30, 1200, office=False)
            life.reply(at, ticket.requester, rng.choice(REQUESTER_REPLIES).format(n=rng.randint(10, 99)), agent=False)
            at = desk.after(at, 5, 60, office=not p1)
            life.reply(at, agent, "Thanks, that helps. Working on it.", agent=True)
        if rng.random() < 0.25:
            at = desk.after(at, 5, 90, office=not p1)
            life.note(at, agent, rng.choice(NOTES))
        hardware = category in ("Hardware", "Laptops", "Printers")
        if hardware and desk.vendor and desk.vendor_contact and rng.random() < 0.08:
            at = desk.after(at, 30, 600, office=not p1)
            life.escalate(at, agent, Tier.T4, "Hardware fault under warranty; sent to the vendor.", desk.vendor)
            life.vendor_message(
                at, agent, "Please replace the unit under warranty; serial in the ticket.", from_vendor=False
            )
            life.wait_for(at, agent, Status.PENDING_VENDOR)
            at = desk.after(at, 600, 4000)
            life.vendor_message(at, desk.vendor_contact, "Replacement shipped, tracking attached.", from_vendor=True)
        else:
            chance = {Tier.T1: 0.18, Tier.T2: 0.12}.get(Tier(ticket.tier), 0.0)
            while ticket.tier < Tier.T3 and rng.random() < chance:
                at = desk.after(at, 20, 400, office=not p1)
                life.escalate(at, agent, ticket.tier + 1, "Beyond what this tier can fix; logs and steps so far above.")
                agent = desk.pick(desk.agents[ticket.tier])
                at = desk.after(at, 15, 240, office=not p1)
                life.claim(at, agent)
                life.note(at + timedelta(minutes=3), agent, rng.choice(NOTES))
                chance /= 3
        low, high = RESOLUTION_MINUTES[ticket.priority][1 if late or rng.random() < 0.05 else 0]
        at = desk.after(at, low, high, office=not p1)
        life.resolve(at, agent if ticket.tier < Tier.T4 else desk.manager, rng.choice(RESOLUTIONS))
        if rng.random() < 0.05:  # the fix did not hold
            at = desk.after(at, 60, 2000, office=False)
            life.reply(at, ticket.requester, "It happened again this morning.", agent=False)
            at = desk.after(at, 20, 200, office=not p1)
            life.reply(at, agent, "Sorry about that, looking at it again now.", agent=True)
            at = desk.after(at, 120, 1500, office=not p1)
            life.resolve(at, agent, "Root cause found and fixed; monitored for a day.")
        life.close_after_window()
    except _Later:
        pass
    return life


def _new_ticket(desk: Desk, created_at: datetime) -> tuple[Ticket, str]:
    rng = desk.rng
    names = list(CATEGORY_WEIGHTS)
    category = rng.choices(names, weights=[CATEGORY_WEIGHTS[n] for n in names])[0]
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    impact = rng.choices(LEVELS, weights=[3, 6, 1])[0]
    urgency = rng.choices(LEVELS, weights=[3, 5, 2])[0]
    subject = rng.choice(SUBJECTS[category]).format(floor=rng.randint(1, 5))
    requester = desk.requesters[0] if rng.random() < 0.01 else desk.pick(desk.requesters[1:])
    ticket = Ticket(
        subject=subject,
        description=f"{subject}. It affects my work; details on request.",
        requester=requester,
        channel=channel,
        category=desk.categories[category],
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency),
        tier=desk.categories[category].route_tier,
        status=Status.NEW,
        created_at=created_at,
        updated_at=created_at,
    )
    return ticket, category


def _arrivals(desk: Desk) -> list[datetime]:
    """When tickets arrive over the last ``DAYS`` days: mostly office hours, fewer at weekends."""
    rng, times = desk.rng, []
    today = desk.now.astimezone(desk.zone).date()
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        weekend = day.weekday() >= 5
        count = max(0, round(rng.gauss(WEEKEND_TICKETS if weekend else WEEKDAY_TICKETS, 2 if weekend else 5)))
        for _ in range(count):
            hour = rng.uniform(7, 21) if weekend or rng.random() < 0.12 else rng.uniform(8.5, 17)
            at = datetime.combine(day, time(0), tzinfo=desk.zone) + timedelta(hours=hour)
            if at < desk.now:
                times.append(at)
    return sorted(times)


def _waves(histories: list[list[TicketEvent]]) -> tuple[list[TicketEvent], list[TicketEvent]]:
    """The events to record first (each ticket's history up to its second resolution, if any) and last.

    A ticket resolved twice (a reopen) is recorded in two goes, so the surveys' listener hears
    each resolution in a batch of its own and numbers its survey as it does live.
    """
    first: list[TicketEvent] = []
    rest: list[TicketEvent] = []
    for history in histories:
        resolutions = [i for i, event in enumerate(history) if event.kind == EventKind.RESOLVED]
        cut = resolutions[1] if len(resolutions) > 1 else len(history)
        first += history[:cut]
        rest += history[cut:]
    return first, rest


def has_history(requesters: list[User]) -> bool:
    return Ticket.objects.filter(requester__in=requesters[1:]).exists()


def seed_history(
    *,
    agents: dict[int, list[User]],
    requesters: list[User],
    manager: User,
    categories: dict[str, Category],
    vendor: Vendor | None = None,
    vendor_contact: User | None = None,
    now: datetime | None = None,
    after_history: Callable[[datetime, datetime], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> int:
    """Write the demo desk's last ``DAYS`` days (see the module docstring); returns the tickets written.

    ``requesters[0]`` is the demo requester (a few tickets), the others the crowd whose tickets
    mark the history as written. ``after_history(start, now)`` runs once every event is
    recorded (the caller lets time pass: the SLA sweep); ``progress(done, total)`` hears how
    many events are recorded. One transaction.
    """
    if has_history(requesters):
        return 0
    now = now or timezone.now()
    desk = Desk(
        agents=agents,
        requesters=requesters,
        manager=manager,
        vendor=vendor,
        vendor_contact=vendor_contact,
        categories=categories,
        now=now,
        rng=random.Random(SEED),  # noqa: S311 - demo data, repeatable on purpose
        zone=ZoneInfo(settings.TIME_ZONE or "UTC"),
    )
    lives = []
    for created_at in _arrivals(desk):
        ticket, category = _new_ticket(desk, created_at)
        lives.append(_live(desk, ticket, category))
    with transaction.atomic():
        outbox_before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        Ticket.objects.bulk_create([life.ticket for life in lives], batch_size=1000)
        TicketMessage.objects.bulk_create([m for life in lives for m in life.messages], batch_size=2000)
        first, rest = _waves([life.build_events() for life in lives])
        total, done = len(first) + len(rest), 0
        for wave in (first, rest):
            for start in range(0, len(wave), CHUNK):
                done += len(record_events_bulk(wave[start : start + CHUNK]))
                if progress is not None:
                    progress(done, total)
        if after_history is not None:
            after_history(desk.start, now)
        OutboxMessage.objects.filter(pk__gt=outbox_before).delete()
    return len(lives)
