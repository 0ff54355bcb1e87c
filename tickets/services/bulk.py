"""Bulk changes from the queue page: one service call per ticket, each in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError

from helpdesk.core.db import TransactionConflict
from helpdesk.core.models import User

from .. import permissions
from .claiming import assign_ticket
from .status import change_status


class BulkAction:
    ASSIGN_ME = "assign_me"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    STATUS = "status"

    choices = [
        (ASSIGN_ME, "Assign to me"),
        (ASSIGN, "Assign to…"),
        (UNASSIGN, "Unassign"),
        (STATUS, "Change status to…"),
    ]


@dataclass
class BulkResult:
    updated: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)


def apply_bulk_action(
    *, by: User, ids: list[int], action: str, assignee: User | None = None, status: str = ""
) -> BulkResult:
    """Run ``action`` on each of ``ids`` that ``by`` may see.

    Ids outside ``visible_tickets`` are ignored without saying whether they exist; one refusal
    (a ValidationError, PermissionDenied or TransactionConflict from the service) never
    undoes the others.
    """
    visible = set(permissions.visible_tickets(by).filter(pk__in=ids).values_list("pk", flat=True))
    result = BulkResult(ignored=[pk for pk in ids if pk not in visible])
    for pk in ids:
        if pk not in visible:
            continue
        try:
            if action == BulkAction.STATUS:
                change_status(ticket_id=pk, by=by, status=status)
            else:
                target = {BulkAction.ASSIGN_ME: by, BulkAction.UNASSIGN: None}.get(action, assignee)
                assign_ticket(ticket_id=pk, by=by, assignee=target)
        except ValidationError as exc:
            result.refused.append((pk, " ".join(exc.messages)))
        except PermissionDenied:
            result.refused.append((pk, "you may not change this ticket"))
        except TransactionConflict as conflict:  # retried already; the other tickets go on
            result.refused.append((pk, str(conflict.detail)))
        else:
            result.updated.append(pk)
    return result
