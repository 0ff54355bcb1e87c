"""The SLA engine: a ticket's clocks as a pure function of its event history.

``replay(history, book)`` walks the ticket's events in order and returns every clock the
history implies, with its business time, pauses and due time. The live path (a ticket
changes, ``sla.services`` replays it and saves the result) and the rebuild path
(``manage.py sla_recompute``) run this same function, so a rebuilt clock always equals the
live one. Nothing here touches the database: policies come in as a ``PolicyBook`` snapshot.

Rules (DESIGN.md "SLA rules"):
* SLA first response starts at creation and is met by the first public agent reply (or by a
  resolution, the best answer there is); next response starts at a requester's public reply
  after an agent has answered and is met by the next agent reply; resolution runs until the
  ticket is resolved, and a reopen starts a new resolution cycle.
* OLA: each tier holding the ticket runs its own clock from the moment it receives the ticket
  until it hands it on or resolves it, so an escalation never arrives with its time gone.
* UC: while a vendor (tier 4) holds the ticket, the vendor's clock runs.
* SLA and OLA clocks pause in the policy's pausing statuses; a UC clock pauses only while the
  ticket waits for the requester (waiting for the vendor is exactly what it measures).
* A priority, category or vendor change picks the policy again and re-targets the running
  clocks, keeping the business time and pauses already accrued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tickets import events as schema
from tickets.models import EventKind, Status, Tier

from . import clock as bt
from .models import ClockState, Metric

SLA_METRICS = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION)


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class PolicyView:
    """A policy as the engine needs it: conditions, calendar, targets and pausing statuses."""

    id: int
    name: str
    calendar: bt.Calendar
    targets: dict[tuple[str, int, int], int]  # (metric, priority, tier or 0) -> business seconds
    target_calendars: dict[tuple[str, int, int], bt.Calendar] = field(default_factory=dict)  # overrides
    pause_statuses: frozenset[str] = frozenset({Status.PENDING_REQUESTER, Status.PENDING_VENDOR})
    warning_percent: int = 75
    is_default: bool = False
    category_id: int | None = None
    group_id: int | None = None
    channel: str = ""
    vendor_id: int | None = None

    def matches(self, facts: Facts) -> bool:
        return (
            (self.category_id is None or self.category_id in facts.category_path)
            and (self.group_id is None or self.group_id in facts.group_ids)
            and (not self.channel or self.channel == facts.channel)
            and (self.vendor_id is None or self.vendor_id == facts.vendor_id)
        )

    def target(self, metric: str, priority: int, tier: int = 0) -> tuple[int, bt.Calendar] | None:
        """(business seconds, calendar) for a metric at a priority; a target may run on its own calendar."""
        key = (metric, priority, tier)
        if key not in self.targets:
            return None
        return self.targets[key], self.target_calendars.get(key, self.calendar)


@dataclass(frozen=True)
class PolicyBook:
    """Every policy in matching order; the default one applies when no other matches."""

    policies: tuple[PolicyView, ...]
    category_parents: dict[int, int | None] = field(default_factory=dict)

    @property
    def uses_groups(self) -> bool:
        """Whether any policy looks at the requester's groups (else nobody needs to read them)."""
        return any(policy.group_id is not None for policy in self.policies)

    def pick(self, facts: Facts) -> PolicyView | None:
        default = None
        for policy in self.policies:
            if policy.is_default:
                default = default or policy
            elif policy.matches(facts):
                return policy
        return default

    def category_path(self, category_id: int | None) -> frozenset[int]:
        """The category and its ancestors: a policy on "Hardware" also covers "Hardware / Laptops"."""
        path: set[int] = set()
        while category_id is not None and category_id not in path:
            path.add(category_id)
            category_id = self.category_parents.get(category_id)
        return frozenset(path)


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class HistoryEvent:
    kind: str
    at: datetime
    data: dict


@dataclass
class Facts:
    """What the policy conditions and the clocks depend on, as of the event being replayed."""

    status: str = Status.NEW
    tier: int = Tier.T1
    vendor_id: int | None = None
    priority: int = 3
    category_id: int | None = None
    category_path: frozenset[int] = frozenset()
    channel: str = ""
    group_ids: frozenset[int] = frozenset()
    agent_replied: bool = False


# --------------------------------------------------------------------------- clocks


@dataclass
class ClockRun:
    """One clock cycle being replayed (the engine's twin of ``sla.models.Clock``)."""

    metric: str
    scope: int
    cycle: int
    policy_id: int
    calendar: bt.Calendar
    target_seconds: int
    warning_percent: int
    started_at: datetime
    accrued_seconds: float
    accrued_at: datetime
    state: str = ClockState.RUNNING
    pause_reason: str = ""
    due_at: datetime | None = None
    warn_at: datetime | None = None
    ended_at: datetime | None = None
    log: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.metric, self.scope, self.cycle)

    @property
    def is_live(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.PAUSED)

    @property
    def warn_seconds(self) -> float:
        return self.target_seconds * self.warning_percent / 100

    def _accrue(self, now: datetime) -> None:
        if self.state == ClockState.RUNNING and now > self.accrued_at:
            self.accrued_seconds += bt.business_seconds(self.calendar, self.accrued_at, now)
        self.accrued_at = max(self.accrued_at, now)

    def _line(self, seconds: float, previous: datetime | None) -> datetime | None:
        """When the clock reaches ``seconds``: projected while running, else only if already crossed."""
        if self.accrued_seconds >= seconds:
            # Crossed: keep the instant it happened (computed while it ran), else say "now".
            return previous if previous is not None and previous <= self.accrued_at else self.accrued_at
        if self.state != ClockState.RUNNING:
            return None
        return bt.add_business_time(self.calendar, self.accrued_at, seconds - self.accrued_seconds)

    def _project(self) -> None:
        self.due_at = self._line(self.target_seconds, self.due_at)
        self.warn_at = self._line(self.warn_seconds, self.warn_at)

    def pause(self, now: datetime, reason: str) -> None:
        if self.state != ClockState.RUNNING:
            return
        self._accrue(now)
        self.state, self.pause_reason = ClockState.PAUSED, reason
        self._project()
        self.log.append((now, f"paused: {reason}"))

    def resume(self, now: datetime) -> None:
        if self.state != ClockState.PAUSED:
            return
        self._accrue(now)
        self.state, self.pause_reason = ClockState.RUNNING, ""
        self._project()
        self.log.append((now, "resumed"))

    def retarget(self, now: datetime, policy: PolicyView, target: tuple[int, bt.Calendar]) -> None:
        if not self.is_live:
            return
        target_seconds, calendar = target
        if (policy.id, target_seconds, calendar) == (self.policy_id, self.target_seconds, self.calendar):
            return
        self._accrue(now)
        self.policy_id, self.calendar = policy.id, calendar
        self.target_seconds, self.warning_percent = target_seconds, policy.warning_percent
        # Business time already counted stays counted; only the lines move.
        self.due_at = self.due_at if self.due_at and self.accrued_seconds >= target_seconds else None
        self.warn_at = self.warn_at if self.warn_at and self.accrued_seconds >= self.warn_seconds else None
        self._project()
        self.log.append((now, f"re-targeted under {policy.name}"))

    def end(self, now: datetime, *, met: bool, why: str) -> None:
        if not self.is_live:
            return
        self._accrue(now)
        self.state = ClockState.MET if met else ClockState.STOPPED
        self.pause_reason = ""
        self.ended_at = now
        self._project()
        self.log.append((now, why))


def _start(
    runs: list[ClockRun], metric: str, scope: int, now: datetime, policy: PolicyView | None, facts: Facts
) -> ClockRun | None:
    """Start a new cycle of (metric, scope) if the policy has a target for it."""
    if policy is None:
        return None
    tier = scope if metric == Metric.OLA else 0
    target = policy.target(metric, facts.priority, tier)
    if target is None:
        return None
    target_seconds, calendar = target
    cycle = 1 + max((run.cycle for run in runs if run.metric == metric and run.scope == scope), default=0)
    run = ClockRun(
        metric=metric,
        scope=scope,
        cycle=cycle,
        policy_id=policy.id,
        calendar=calendar,
        target_seconds=target_seconds,
        warning_percent=policy.warning_percent,
        started_at=now,
        accrued_seconds=0.0,
        accrued_at=now,
    )
    run.log.append((now, f"started under {policy.name}"))
    runs.append(run)
    if _pauses(run, facts.status, policy):
        run.pause(now, Status(facts.status).label)
    else:
        run._project()
    return run


def _pauses(run: ClockRun, status: str, policy: PolicyView | None) -> bool:
    if run.metric == Metric.UC:
        return status == Status.PENDING_REQUESTER
    return policy is not None and status in policy.pause_statuses


def _target_for(run: ClockRun, policy: PolicyView, facts: Facts) -> tuple[int, bt.Calendar] | None:
    return policy.target(run.metric, facts.priority, run.scope if run.metric == Metric.OLA else 0)


def replay(
    events: Iterable[HistoryEvent],
    book: PolicyBook,
    *,
    category_id: int | None,
    group_ids: frozenset[int] = frozenset(),
) -> list[ClockRun]:
    """Every clock cycle ``events`` imply, in start order.

    ``category_id`` is the ticket's category now; the history's first category change tells
    what it was at creation. ``group_ids`` are the requester's groups (policy conditions).
    """
    events = list(events)
    first_change = next((e for e in events if e.kind == EventKind.CATEGORY_CHANGED), None)
    initial_category = schema.payload(first_change, schema.CategoryChanged)["from"] if first_change else category_id
    facts = Facts(category_id=initial_category, group_ids=group_ids)
    facts.category_path = book.category_path(initial_category)
    runs: list[ClockRun] = []
    policy: PolicyView | None = None

    def live(metric: str, scope: int | None = None) -> list[ClockRun]:
        return [r for r in runs if r.is_live and r.metric == metric and (scope is None or r.scope == scope)]

    def retarget_all(now: datetime) -> None:
        nonlocal policy
        policy = book.pick(facts)
        for run in runs:
            if run.is_live and policy is not None:
                target = _target_for(run, policy, facts)
                if target is not None:
                    run.retarget(now, policy, target)

    for event in events:
        now = event.at
        if event.kind == EventKind.CREATED:
            created = schema.payload(event, schema.Created)
            facts.channel = created["channel"]
            facts.priority = int(created["priority"])
            facts.tier = int(created["tier"])
            policy = book.pick(facts)
            for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
                _start(runs, metric, 0, now, policy, facts)
            _start(runs, Metric.OLA, facts.tier, now, policy, facts)
        elif event.kind == EventKind.STATUS_CHANGED:
            facts.status = schema.payload(event, schema.StatusChanged)["to"]
            for run in runs:
                if not run.is_live:
                    continue
                if _pauses(run, facts.status, policy):
                    run.pause(now, Status(facts.status).label)
                else:
                    run.resume(now)
            if facts.status == Status.CLOSED:
                for run in runs:
                    run.end(now, met=False, why="ticket closed")
        elif event.kind == EventKind.REPLIED:
            side = schema.payload(event, schema.Replied)["side"]
            if side == "agent":
                for run in live(Metric.FIRST_RESPONSE) + live(Metric.NEXT_RESPONSE):
                    run.end(now, met=True, why="an agent replied")
                facts.agent_replied = True
            elif (
                side == "requester"
                and facts.agent_replied
                and facts.status != Status.CLOSED
                and not live(Metric.NEXT_RESPONSE)
                and not live(Metric.FIRST_RESPONSE)
            ):
                _start(runs, Metric.NEXT_RESPONSE, 0, now, policy, facts)
        elif event.kind in (EventKind.ESCALATED, EventKind.DEESCALATED):
            moved = schema.payload(event, schema.TierMoved)
            previous, facts.tier = facts.tier, int(moved["to"])
            facts.vendor_id = moved["vendor"] if facts.tier == Tier.T4 else None
            for run in live(Metric.OLA, previous) + (live(Metric.UC) if previous == Tier.T4 else []):
                run.end(now, met=True, why=f"handed to tier {facts.tier}")
            retarget_all(now)
            if facts.tier == Tier.T4 and facts.vendor_id is not None:
                _start(runs, Metric.UC, int(facts.vendor_id), now, policy, facts)
            else:
                _start(runs, Metric.OLA, facts.tier, now, policy, facts)
        elif event.kind == EventKind.PRIORITY_CHANGED:
            facts.priority = int(schema.payload(event, schema.PriorityChanged)["to"]["priority"])
            retarget_all(now)
        elif event.kind == EventKind.CATEGORY_CHANGED:
            facts.category_id = schema.payload(event, schema.CategoryChanged)["to"]
            facts.category_path = book.category_path(facts.category_id)
            retarget_all(now)
        elif event.kind == EventKind.RESOLVED:
            for run in runs:
                run.end(now, met=True, why="ticket resolved")
        elif event.kind == EventKind.REOPENED:
            _start(runs, Metric.RESOLUTION, 0, now, policy, facts)
            if facts.tier == Tier.T4 and facts.vendor_id is not None:
                _start(runs, Metric.UC, int(facts.vendor_id), now, policy, facts)
            else:
                _start(runs, Metric.OLA, facts.tier, now, policy, facts)
        elif event.kind == EventKind.MERGED and "into" in schema.payload(event, schema.Merged):
            for run in runs:
                run.end(now, met=False, why="merged into another ticket")
    return runs


__all__ = [
    "SLA_METRICS",
    "ClockRun",
    "Facts",
    "HistoryEvent",
    "PolicyBook",
    "PolicyView",
    "replay",
]
