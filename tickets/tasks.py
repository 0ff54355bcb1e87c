"""Ticket tasks. Thin: parse, call one service."""

from celery import shared_task

from helpdesk.core.services import outbox_consumer

from . import notifications
from .services import close_expired_resolved


@shared_task(name="tickets.tasks.notify_task")
@outbox_consumer
def notify_task(ticket_id: int, event: str, **extra) -> int:
    """Deliver one ticket notification queued through the outbox; returns the number of mails sent."""
    return notifications.send_ticket_notification(ticket_id=ticket_id, event=event, **extra)


@shared_task(name="tickets.tasks.close_expired_resolved_task")
def close_expired_resolved_task() -> int:
    return close_expired_resolved()


@shared_task(name="tickets.tasks.poll_imap_task")
def poll_imap_task() -> dict:
    """Fetch new mail from the IMAP mailbox (does nothing while HELPDESK_IMAP_HOST is empty)."""
    from .mail.imap import poll_imap

    return poll_imap()
