"""The SLA panel of the ticket page: every clock with its state, and how it got there."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from helpdesk.core.models import User
from tickets import events, permissions
from tickets.models import EventKind, Priority, Ticket, TicketEvent

from .engine import ClockRun
from .models import Clock, ClockState, Metric
from .services import replay_ticket

STATE_BADGES = {
    "breached": "text-bg-danger",
    "warning": "text-bg-warning",
    "paused": "text-bg-secondary",
    "met": "text-bg-success",
    "running": "text-bg-primary",
    "stopped": "text-bg-light border",
}


def clock_label(metric: str, scope: int, vendor_names: dict[int, str] | None = None) -> str:
    if metric == Metric.OLA:
        return f"Tier {scope} (OLA)"
    if metric == Metric.UC:
        return f"Vendor {(vendor_names or {}).get(scope, scope)} (UC)"
    return Metric(metric).label


def duration(seconds: float) -> str:
    """Business time in words: "2 h 05 min", "3 d 4 h" (days of 24 business hours are rare; hours read better)."""
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class ClockRow:
    label: str
    cycle: int
    state: str
    badge: str
    detail: str
    due_at: datetime | None
    # Every step of the clock in order: (when, what) -- started, paused (why), resumed,
    # re-targeted (why), warning, breached, met or stopped.
    log: list[tuple[datetime, str]]
    # A running clock with a due time: the page counts down to ``due_at`` ("2 h 10 m left").
    counting: bool = False
    left: str = ""


def countdown(due_at: datetime, now: datetime) -> str:
    """ "2 h 10 m left" or "35 m overdue" (wall-clock time to ``due_at``, as the page's script says it)."""
    seconds = (due_at - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    hours, rest = divmod(minutes, 60)
    if hours >= 48:
        text = f"{hours // 24} d {hours % 24} h"
    elif hours:
        text = f"{hours} h {rest} m"
    else:
        text = f"{rest} m"
    return f"{text} left" if seconds >= 0 else f"{text} overdue"


def _priority(value: int | None) -> str:
    return Priority(value).name if value in Priority.values else "?"  # "P1"


def _retarget_reasons(history: Iterable[TicketEvent]) -> dict[datetime, str]:
    """Why the clocks were re-targeted at a moment: the change recorded then (priority, category, tier)."""
    reasons: dict[datetime, str] = {}
    for event in history:
        if event.kind == EventKind.PRIORITY_CHANGED:
            change = events.payload(event, events.PriorityChanged)
            before, after = change.get("from", {}), change.get("to", {})
            reasons[event.at] = f"priority {_priority(before.get('priority'))} → {_priority(after.get('priority'))}"
        elif event.kind == EventKind.CATEGORY_CHANGED:
            reasons.setdefault(event.at, "category changed")
        elif event.kind in (EventKind.ESCALATED, EventKind.DEESCALATED):
            reasons.setdefault(event.at, "tier changed")
    return reasons


def _crossings(history: Iterable[TicketEvent]) -> dict[tuple[str, int, int], list[tuple[datetime, str]]]:
    """The warning and breach lines each clock (metric, scope, cycle) crossed, from the SLA events."""
    found: dict[tuple[str, int, int], list[tuple[datetime, str]]] = defaultdict(list)
    for event in history:
        if event.kind != EventKind.SLA:
            continue
        crossed = events.payload(event, events.SlaCrossed)
        what = "breached" if crossed.get("sla") == "breached" else "warning: the warning line was crossed"
        found[(crossed.get("metric", ""), crossed.get("scope", 0), crossed.get("cycle", 1))].append((event.at, what))
    return found


def _steps(
    clock: Clock, log: list[tuple[datetime, str]], crossings: list[tuple[datetime, str]], reasons: dict[datetime, str]
) -> list[tuple[datetime, str]]:
    """The clock's log in order: its end named (met or stopped), re-targets with their reason, crossings added."""
    steps = []
    for index, (at, what) in enumerate(log):
        if index == len(log) - 1 and clock.ended_at is not None and clock.state in (ClockState.MET, ClockState.STOPPED):
            what = f"{'met' if clock.state == ClockState.MET else 'stopped'}: {what}"
        elif what.startswith("re-targeted") and at in reasons:
            what = f"{what} ({reasons[at]})"
        elif what.startswith("re-targeted"):
            what = f"{what} (policy changed)"
        steps.append((at, what))
    return sorted([*steps, *crossings], key=lambda step: step[0])


def _state(clock: Clock, now: datetime) -> tuple[str, str]:
    """(state word, detail) of a stored clock at ``now``."""
    if clock.state == ClockState.RUNNING:
        left = clock.target_seconds - clock.accrued_seconds
        if clock.due_at is not None and clock.due_at <= now:
            return "breached", f"overdue since {timezone.localtime(clock.due_at):%Y-%m-%d %H:%M}"
        if clock.breached and clock.due_at:  # recorded under an earlier, shorter target: stays a breach
            return "breached", f"breach recorded; now due {timezone.localtime(clock.due_at):%Y-%m-%d %H:%M}"
        word = "warning" if clock.warn_at is not None and clock.warn_at <= now else "running"
        return (
            word,
            f"due {timezone.localtime(clock.due_at):%Y-%m-%d %H:%M}" if clock.due_at else f"{duration(left)} left",
        )
    if clock.state == ClockState.PAUSED:
        left = clock.target_seconds - clock.accrued_seconds
        if left <= 0:
            return "breached", f"paused ({clock.pause_reason}), {duration(-left)} over target"
        return "paused", f"paused ({clock.pause_reason}), {duration(left)} left"
    over = clock.accrued_seconds - clock.target_seconds
    if clock.state == ClockState.MET:
        if over > 0:
            return "breached", f"met {duration(over)} late"
        return "met", f"met with {duration(-over)} to spare"
    return "stopped", "stopped" + (f", {duration(over)} over target" if over > 0 else "")


def clock_panel(user: User, ticket: Ticket) -> dict | None:
    """Panel context for staff (agents, managers); requesters and vendors see no SLA internals."""
    if not permissions.is_staff_reader(user):
        return None
    now = timezone.now()
    clocks = list(Clock.objects.filter(ticket_id=ticket.pk).order_by("started_at", "pk"))
    history = getattr(ticket, "visible_events", None)  # prefetched by the ticket page, internal ones included
    runs: dict[tuple, ClockRun] = {}
    crossings: dict[tuple[str, int, int], list[tuple[datetime, str]]] = {}
    reasons: dict[datetime, str] = {}
    if history is not None and clocks:
        runs = {run.key: run for run in replay_ticket(ticket, history=history)}
        crossings = _crossings(history)
        reasons = _retarget_reasons(history)
    rows = []
    for clock in clocks:
        word, detail = _state(clock, now)
        key = (clock.metric, clock.scope, clock.cycle)
        run = runs.get(key)
        counting = clock.state == ClockState.RUNNING and clock.due_at is not None
        rows.append(
            ClockRow(
                label=clock_label(clock.metric, clock.scope),
                cycle=clock.cycle,
                state=word,
                badge=STATE_BADGES[word],
                detail=detail,
                due_at=clock.due_at,
                log=_steps(clock, run.log if run else [], crossings.get(key, []), reasons),
                counting=counting,
                left=countdown(clock.due_at, now) if counting and clock.due_at is not None else "",
            )
        )
    return {"rows": rows, "now": now}
