"""SLA tasks. Thin and idempotent: the sweep records each crossing once; actions run once per record."""

from celery import shared_task
from django.utils import timezone

from helpdesk.core.services import outbox_consumer

from . import notifications, services


@shared_task(name="sla.tasks.sweep_task")
def sweep_task() -> dict:
    return services.sweep(now=timezone.now())


@shared_task(name="sla.tasks.clock_event_task")
@outbox_consumer
def clock_event_task(event_id: int) -> dict:
    return notifications.act_on_clock_event(event_id)


@shared_task(name="sla.tasks.recompute_open_task")
def recompute_open_task(version: int, outbox_id: int | None = None) -> int:
    """After a policy or calendar change: open tickets' clocks take the new targets.

    The recompute runs first, a ticket per transaction, and only then is the outbox message
    marked done. Inside the consumer's transaction it would hold the lock of every open
    ticket until the last one was done. A repeated delivery recomputes again: a replay of
    the same history under the same policies writes nothing new.
    """
    count = services.recompute_open_tickets()
    _recompute_done(version=version, outbox_id=outbox_id)
    return count


@outbox_consumer
def _recompute_done(version: int) -> None:
    """Marks the recompute's outbox message done (``outbox_consumer`` does it all)."""
