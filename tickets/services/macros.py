"""Macros: a named reply or note with placeholders, plus field changes, applied in one click.

A macro is personal (``owner``) or for the agents of a tier (no owner; every tier when its
tier is empty). Applying one goes through ``compose_ticket``, so its message and its changes are
written together or not at all, under the same rules as the composer.
"""

from __future__ import annotations

from typing import TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from helpdesk.core.models import User

from .. import permissions, roles
from ..models import Category, Macro, MessageKind, Priority, Ticket
from .compose import KEEP, Composed, FieldChanges, PriorityChange, compose_ticket

PLACEHOLDERS = ("{requester}", "{reference}", "{subject}", "{agent}")


def usable_macros(user: User) -> QuerySet[Macro]:
    """Every macro ``user`` may apply somewhere: their own and those of their tiers (managers: every tier's)."""
    condition = Q(owner=user)
    if roles.is_manager(user) or roles.is_admin(user):
        condition |= Q(owner__isnull=True)
    elif roles.is_agent(user):
        condition |= Q(owner__isnull=True) & (Q(tier__isnull=True) | Q(tier__in=roles.agent_tiers(user)))
    return Macro.objects.filter(condition).select_related("category", "owner").order_by("name", "pk")


def macros_for(user: User, ticket: Ticket) -> list[Macro]:
    """The macros offered on ``ticket``: ``user``'s own and the ticket tier's (one query).

    None for those who do not work the ticket; vendor-message macros only where the user may write to the vendor.
    """
    if not permissions.can_work(user, ticket):
        return []
    condition = Q(owner=user) | (Q(owner__isnull=True) & (Q(tier__isnull=True) | Q(tier=ticket.tier)))
    macros = Macro.objects.filter(condition).select_related("category").order_by("name", "pk")
    vendor = permissions.can_write_to_vendor(user, ticket)
    return [macro for macro in macros if macro.kind != MessageKind.VENDOR or vendor]


def fill_placeholders(body: str, *, ticket: Ticket, by: User) -> str:
    """``body`` with {requester}, {reference}, {subject} and {agent} filled in.

    Plain replacement, never ``str.format``: a macro must not reach into objects.
    """
    values = {
        "{requester}": ticket.requester.display_name,
        "{reference}": ticket.reference,
        "{subject}": ticket.subject,
        "{agent}": by.display_name,
    }
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    return body


def macro_changes(macro: Macro, *, by: User) -> FieldChanges:
    """The field changes ``macro`` makes; a blank field of the macro leaves the ticket's as it is.

    A macro's priority is an override: its reason names the macro.
    """
    priority = (
        PriorityChange(priority=macro.priority, reason=f"Macro “{macro.name}”") if macro.priority is not None else KEEP
    )
    return FieldChanges(
        status=macro.status or KEEP,
        priority=priority,
        category=macro.category if macro.category_id is not None else KEEP,
        assignee=by if macro.assign_to_me else KEEP,
    )


def apply_macro(*, ticket_id: int, macro_id: int, by: User, version: int | None = None) -> Composed:
    """Apply macro ``macro_id`` to ticket ``ticket_id``: its text and its changes, all or nothing (``compose_ticket``).

    Invariants: ``by`` may apply the macro only if it is one offered to them on that ticket
    (``macros_for``); everything else is checked by the services ``compose`` calls.
    Side effects: those of ``compose_ticket``.
    """
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        raise ValidationError("That ticket does not exist.")
    macro = next((m for m in macros_for(by, ticket) if m.pk == macro_id), None)
    if macro is None:
        raise ValidationError("There is no such macro for this ticket.")
    body = fill_placeholders(macro.body, ticket=ticket, by=by)
    return compose_ticket(
        ticket_id=ticket_id, by=by, kind=macro.kind, body=body, changes=macro_changes(macro, by=by), version=version
    )


class MacroFields(TypedDict):
    """The editable fields of a macro (what the management form and the API give)."""

    name: str
    tier: int | None
    personal: bool
    kind: str
    body: str
    status: str
    priority: int | None
    category: Category | None
    assign_to_me: bool


def save_macro(*, by: User, fields: MacroFields, macro_id: int | None = None) -> Macro:
    """Create (``macro_id`` None) or change a macro.

    Invariants: a personal macro belongs to ``by``; tier macros (shared) are managed by
    managers and admins only (``permissions.can_manage_macro``); a macro does something (a
    text or a change); the priority is P1 to P4. A refusal writes nothing.
    Side effects: the macro row.
    """
    if not permissions.can_use_macros(by):
        raise PermissionDenied("Only agents and managers keep macros.")
    name = " ".join((fields["name"] or "").split())
    if not name:
        raise ValidationError("A macro needs a name.")
    if fields["kind"] not in MessageKind.values:
        raise ValidationError("Choose a reply, an internal note or a message to the vendor.")
    if fields["priority"] is not None and fields["priority"] not in Priority.values:
        raise ValidationError("Priority must be P1 to P4.")
    does = fields["body"].strip() or fields["status"] or fields["priority"] or fields["category"]
    if not does and not fields["assign_to_me"]:
        raise ValidationError("A macro needs a text or a field change.")
    with transaction.atomic():
        if macro_id is None:
            macro = Macro()
        else:
            found = Macro.objects.select_for_update().filter(pk=macro_id).first()
            if found is None or not permissions.can_manage_macro(by, found):
                raise ValidationError("There is no such macro that you can change.")
            macro = found
        macro.name = name
        macro.owner = by if fields["personal"] else None
        macro.tier = None if fields["personal"] else fields["tier"]
        if macro.owner is None and not permissions.can_manage_shared_macros(by):
            raise ValidationError("Only managers keep the tier macros; make it a personal macro.")
        macro.kind = fields["kind"]
        macro.body = fields["body"].strip()
        macro.status = fields["status"] or ""
        macro.priority = fields["priority"]
        macro.category = fields["category"]
        macro.assign_to_me = fields["assign_to_me"]
        macro.save()
    return macro


def delete_macro(*, by: User, macro_id: int) -> None:
    """Delete a macro ``by`` may manage (``permissions.can_manage_macro``); refused otherwise, nothing deleted."""
    with transaction.atomic():
        macro = Macro.objects.select_for_update().filter(pk=macro_id).first()
        if macro is None or not permissions.can_manage_macro(by, macro):
            raise ValidationError("There is no such macro that you can delete.")
        macro.delete()
