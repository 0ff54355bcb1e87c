"""The desk's row-lock order, and running a transaction again when PostgreSQL aborted it.

Row locks, in this order in every transaction (README, "Row locks"):

1. tickets, in ascending id (``tickets.services._common._lock`` / ``_lock_tickets``: one
   statement sorts before it locks); a change of several tickets records their events in
   ascending id too;
2. then each locked ticket's own rows: its SLA clocks (``sla.services.sync_ticket_clocks``),
   survey, messages, watchers;
3. then shared rows: the KPI rollup's dirty days (ascending day, ``reports.rollup``) and new
   outbox rows.

Who finds rows the other way round never waits for them: the SLA sweep finds clocks first, so
it locks a clock and its ticket with ``SKIP LOCKED`` and leaves a busy ticket to its next run;
relays of the outbox skip locked messages too. The recompute after a policy or calendar edit
takes one ticket per transaction, never several at once. SLA configuration locks only its own
rows (policies, calendars, the settings row: ``sla.configure``).

Two changes should therefore never deadlock; but an order can be missed (a change of two
tickets marks the days from each ticket's creation, and an older ticket can have a higher id)
and PostgreSQL also aborts transactions for serialization failures. Either way the aborted
transaction wrote nothing, and running it again from the start is correct:
``retry_on_conflict`` does that a bounded number of times at a service's entry point, then
gives up with ``TransactionConflict`` -- a DRF ``APIException`` (HTTP 409 with
``{"detail": ...}``), which the ticket pages show as a message. A conflict is never a 500.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar, overload

from django.db import OperationalError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# SQLSTATE codes of "run me again": serialization_failure and deadlock_detected.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
# Runs of the transaction in all. The deadlock detector aborts one side and lets the other go
# on, so the second run usually just waits for that lock; a third covers a new collision.
ATTEMPTS = 3
# The longest pause before running again, in seconds: a little random spread so two
# transactions aborted together do not collide again in step.
MAX_BACKOFF = 0.05


class TransactionConflict(APIException):
    """A change collided with concurrent ones more often than it is retried; nothing was saved."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Someone else was changing the same thing at that moment, so nothing was saved. Please try again."
    default_code = "conflict"


def is_conflict(error: BaseException) -> bool:
    """True if ``error`` means "the transaction was aborted by a concurrent one; run it again"."""
    if isinstance(error, TransactionConflict):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    return code in CONFLICT_SQLSTATES


@overload
def retry_on_conflict(func: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def retry_on_conflict(
    *, attempts: int = ATTEMPTS, using: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def retry_on_conflict(
    func: Callable[P, R] | None = None, /, *, attempts: int = ATTEMPTS, using: str | None = None
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function that opens its own transaction: run it again after a deadlock or
    serialization failure, up to ``attempts`` runs in all, then raise ``TransactionConflict``.

    Invariants: only the outermost call retries -- inside a caller's transaction the aborted
    transaction is the caller's, which only the caller can run again, so there a conflict is
    turned into ``TransactionConflict`` at once (an outer ``retry_on_conflict`` runs the whole
    thing again). ``func`` must therefore do nothing outside the database that a second run
    would repeat (the desk's services queue mail through the outbox, in the transaction).
    Other errors pass through untouched. Side effects: a short random pause before each new
    run; a warning in the log when it gives up.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if transaction.get_connection(using).in_atomic_block:
                try:
                    return fn(*args, **kwargs)
                except OperationalError as error:
                    if is_conflict(error):
                        raise TransactionConflict() from error
                    raise
            for attempt in range(1, attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except (OperationalError, TransactionConflict) as error:
                    if not is_conflict(error):
                        raise
                    if attempt == attempts:
                        logger.warning("%s gave up after %d conflicts: %s", fn.__qualname__, attempts, error)
                        raise TransactionConflict() from error
                    time.sleep(random.uniform(0, MAX_BACKOFF))  # noqa: S311 (spread, not security)
            raise AssertionError("unreachable")

        return run

    if func is not None:
        return decorate(func)
    return decorate


__all__ = ["ATTEMPTS", "TransactionConflict", "is_conflict", "retry_on_conflict"]
