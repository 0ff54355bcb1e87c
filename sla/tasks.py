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
@outbox_consumer
def recompute_open_task(version: int) -> int:
    """After a policy or calendar change: open tickets' clocks take the new targets."""
    return services.recompute_open_tickets()
