"""Infrastructure tasks. Thin: each calls one service."""

from celery import shared_task

from . import services


@shared_task(name="helpdesk.core.tasks.relay_outbox_task")
def relay_outbox_task() -> int:
    return services.relay_outbox()


@shared_task(name="helpdesk.core.tasks.heartbeat_task")
def heartbeat_task() -> None:
    services.record_heartbeat("worker")


@shared_task(name="helpdesk.core.tasks.ping_task")
def ping_task(value: str = "ping") -> str:
    """Echo for checking the broker round-trip (``manage.py check_celery``)."""
    return f"pong: {value}"


@shared_task(name="helpdesk.core.tasks.outbox_probe_task")
@services.outbox_consumer
def outbox_probe_task(note: str = "") -> str:
    """Outbox round-trip probe: records a heartbeat named ``outbox-probe``."""
    services.record_heartbeat("outbox-probe")
    return note
