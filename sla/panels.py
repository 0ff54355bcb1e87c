"""The SLA panel of the ticket page: every clock with its state, and how it got there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from helpdesk.core.models import User
from tickets import permissions
from tickets.models import Ticket

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
    log: list[tuple[datetime, str]]


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
    if history is not None and clocks:
        runs = {run.key: run for run in replay_ticket(ticket, history=history)}
    rows = []
    for clock in clocks:
        word, detail = _state(clock, now)
        run = runs.get((clock.metric, clock.scope, clock.cycle))
        rows.append(
            ClockRow(
                label=clock_label(clock.metric, clock.scope),
                cycle=clock.cycle,
                state=word,
                badge=STATE_BADGES[word],
                detail=detail,
                due_at=clock.due_at,
                log=run.log if run else [],
            )
        )
    return {"rows": rows, "now": now}
