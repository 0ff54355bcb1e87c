"""Optimistic concurrency for ticket edits: refuse a change built on an older read of the ticket.

Every change of a ticket's own fields bumps ``Ticket.version`` (``_common._touch``). A client
that read version 4 sends it back with its edit (API ``If-Match``, the page's hidden ``version``
field); if the ticket is at 5 by then, someone else changed it in between and the edit is
refused instead of silently overwriting theirs. Sending no version skips the check.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk.core.db import retry_on_conflict

from ..models import Ticket
from ._common import _lock

R = TypeVar("R")


class StaleTicket(ValidationError):
    """The ticket changed since the version the edit was built on; nothing was written.

    A ``ValidationError`` so any interface that does not special-case it still refuses with
    the message (the API answers 412, the page shows both values).
    """

    def __init__(self, current: Ticket, expected: int) -> None:
        self.current = current
        self.expected = expected
        super().__init__(
            f"{current.reference} was changed by someone else (you edited version {expected}, it is now at "
            f"version {current.version}); nothing was saved.",
            code="stale",
        )


def lock_at_version(*, ticket_id: int, version: int | Collection[int] | None) -> Ticket:
    """Lock ticket ``ticket_id`` for the caller's transaction; refuse if it is no longer at ``version``.

    ``version`` is one version or several (an If-Match list: any of them will do).

    Invariant: runs inside the ``transaction.atomic()`` block that then makes the change, so the
    row stays locked from this check to the write and no other change can come in between (the
    services' own ``select_for_update`` of the same row is then a no-op). ``version`` None skips
    the comparison (clients that do not send one keep working). Side effects: none besides the
    row lock. Raises ``StaleTicket`` (and ``ValidationError`` for a missing ticket).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_at_version must run inside the transaction that makes the change.")
    ticket = _lock(ticket_id)
    if version is None:
        return ticket
    accepted = {version} if isinstance(version, int) else set(version)
    if ticket.version not in accepted:
        raise StaleTicket(ticket, max(accepted))
    return ticket


@retry_on_conflict
def change_at_version(*, ticket_id: int, version: int | Collection[int] | None, change: Callable[[], R]) -> R:
    """Run ``change`` (service calls on ticket ``ticket_id``) only if the ticket is still at ``version``.

    One transaction: the row is locked and compared (``lock_at_version``), then ``change`` runs
    and commits with it, or nothing is written (``StaleTicket``, or whatever ``change`` raises).
    Invariant: ``change`` touches only the database, as the services do (mail goes through the
    outbox), because a deadlock runs the whole transaction again (``retry_on_conflict``).
    """
    with transaction.atomic():
        lock_at_version(ticket_id=ticket_id, version=version)
        return change()
