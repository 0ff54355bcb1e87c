"""Outbox and heartbeat services.

Every later capability (e-mail, SLA actions) sends work to Celery through ``enqueue``:
the row is written in the caller's transaction, so it exists exactly when the change
that caused it was committed, and a web request never talks to Redis.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, overload

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat, OutboxMessage

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failures: 5 s doubling, capped at one hour."""
    return min(5 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


@overload
def enqueue(task: str, *, kwargs: dict | None = None, dedupe_key: None = None) -> OutboxMessage: ...
@overload
def enqueue(task: str, *, kwargs: dict | None = None, dedupe_key: str) -> OutboxMessage | None: ...
def enqueue(task: str, *, kwargs: dict | None = None, dedupe_key: str | None = None) -> OutboxMessage | None:
    """Record that Celery task ``task`` must run with ``kwargs`` once the current transaction commits.

    Invariants: ``kwargs`` is JSON-serialisable (checked here, not at delivery time); with a
    ``dedupe_key`` at most one message ever exists for that key (a repeat returns None).
    Side effects: one INSERT in the caller's transaction; nothing is sent to Redis.
    """
    kwargs = kwargs or {}
    _check_kwargs(kwargs)
    if dedupe_key is None:
        return OutboxMessage.objects.create(task=task, kwargs=kwargs)
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"task": task, "kwargs": kwargs}
    )
    return message if created else None


def _check_kwargs(kwargs: dict) -> None:
    json.dumps(kwargs)  # fail now, in the request, rather than later in the relay
    if "outbox_id" in kwargs:
        raise ValueError("outbox_id is reserved for the relay")


def _publish(message: OutboxMessage) -> None:
    from helpdesk.celery import app

    app.send_task(message.task, kwargs={**message.kwargs, "outbox_id": message.pk}, retry=False)


def relay_outbox(
    *, now: datetime | None = None, batch: int = 200, publish: Callable[[OutboxMessage], None] = _publish
) -> int:
    """Hand due outbox rows to Celery; return how many were handed over.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so relays running at once never take
    the same row. A failed publish (Redis down) leaves the row pending with a back-off; after
    ``OUTBOX_MAX_ATTEMPTS`` the row is marked failed for an admin to look at. A row relayed
    but not finished within ``OUTBOX_REDELIVER_AFTER_SECONDS`` is handed over again: the
    consumer is idempotent.
    """
    now = now or timezone.now()
    redeliver_before = now - timedelta(seconds=settings.OUTBOX_REDELIVER_AFTER_SECONDS)
    relayed: list[int] = []
    failed: list[OutboxMessage] = []
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.due(now=now, redeliver_before=redeliver_before)
            .select_for_update(skip_locked=True)
            .order_by("id")[:batch]
        )
        for row in rows:
            try:
                publish(row)
            except Exception as exc:  # the broker's errors vary by transport; all mean "try later"
                logger.warning("outbox #%s not relayed: %s", row.pk, exc)
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.status = (
                    OutboxMessage.Status.FAILED
                    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
                    else OutboxMessage.Status.PENDING
                )
                row.available_at = now + timedelta(seconds=backoff_seconds(row.attempts))
                failed.append(row)
            else:
                relayed.append(row.pk)
        # One UPDATE for the usual case; failures (rare, all at once when Redis is down) in a second.
        if relayed:
            OutboxMessage.objects.filter(pk__in=relayed).update(
                status=OutboxMessage.Status.RELAYED, relayed_at=now, attempts=F("attempts") + 1
            )
        if failed:
            OutboxMessage.objects.bulk_update(failed, ["attempts", "last_error", "status", "available_at"])
    return len(relayed)


_current_outbox_id: ContextVar[int | None] = ContextVar("current_outbox_id", default=None)


def current_outbox_id() -> int | None:
    """The outbox message whose consumer is running now (None outside ``outbox_consumer``).

    Consumers use it as an idempotency key for effects outside the database (e.g. one mail
    per message and recipient).
    """
    return _current_outbox_id.get()


def outbox_consumer(func: Callable) -> Callable:
    """Wrap the body of a Celery task fed by the outbox so it acts at most once per message.

    The message row is locked while ``func`` runs and marked done in the same transaction
    as ``func``'s own database writes: a duplicate delivery waits, then finds it done. If
    ``func`` raises, its writes roll back and the message goes back to pending with a
    back-off. Calls without ``outbox_id`` (tests, shell) run ``func`` directly.
    """

    @wraps(func)
    def wrapper(*args: Any, outbox_id: int | None = None, **kwargs: Any) -> Any:
        if outbox_id is None:
            return func(*args, **kwargs)
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.select_for_update().filter(pk=outbox_id).first()
                if message is None or message.status == OutboxMessage.Status.DONE:
                    return None
                token = _current_outbox_id.set(outbox_id)
                try:
                    result = func(*args, **kwargs)
                finally:
                    _current_outbox_id.reset(token)
                message.status = OutboxMessage.Status.DONE
                message.done_at = timezone.now()
                message.save(update_fields=["status", "done_at"])
                return result
        except Exception as exc:
            logger.exception("outbox #%s failed in %s", outbox_id, func.__name__)
            failed = OutboxMessage.objects.filter(pk=outbox_id).exclude(status=OutboxMessage.Status.DONE)
            attempts = failed.values_list("attempts", flat=True).first() or 1
            failed.update(
                status=OutboxMessage.Status.PENDING,
                available_at=timezone.now() + timedelta(seconds=backoff_seconds(attempts)),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            return None

    return wrapper


def record_heartbeat(name: str, *, at: datetime | None = None) -> None:
    """Note that background process ``name`` is alive (one upsert)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})
