"""Who may see and do what with tickets. Written once; HTML views and the API both use it.

Visibility is a queryset (``visible_tickets``) so lists, searches and exports filter in SQL;
detail views fetch through ``get_ticket_for`` and answer 404 for a ticket the user may not
see, so its existence does not leak.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, TypeVar, overload

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from helpdesk.core.models import User

from . import events as events_schema
from . import roles
from .models import EventKind, Macro, MessageKind, SavedView, Status, Ticket, TicketEvent, Tier

_T = TypeVar("_T", bound=Ticket)


def requested_or_watched(user: User) -> Q:
    """Tickets ``user`` requested or watches, as a condition.

    The watcher link is ``id = ANY(ARRAY(subquery))`` (see helpdesk.core.lookups): no join that
    repeats rows, and an OR PostgreSQL answers with index scans. A join or an ``IN (subquery)``
    here made a requester's ticket list scan the whole table (over 1 s at 1M tickets).
    """
    info = roles.role_info(user)
    if not info.watches or info.vendor_id is not None:
        # Most people watch nothing: then the condition is one indexed column, and a list in
        # date order reads only its page (with the OR, PostgreSQL fetched and sorted every
        # ticket of the requester: 300 ms for an account that had filed 25,000).
        # A vendor contact never sees a ticket by watching it, only by its escalation to their
        # vendor (a watcher link left from before a de-escalation must not keep it open to them).
        return Q(requester=user)
    watching = Ticket.watchers.through.objects.filter(user_id=user.pk).values("ticket_id")
    return Q(requester=user) | Q(pk__in_array=watching)


def visible_tickets(user: User | AnonymousUser) -> QuerySet[Ticket]:
    """Every ticket ``user`` may read.

    * managers and admins: all tickets;
    * agents: tickets of their tiers, assigned to them, open to a swarm or swarmed by them;
    * vendor contacts: tickets escalated to their vendor;
    * everyone: tickets they requested or watch.
    """
    if not user.is_authenticated:
        return Ticket.objects.none()
    if roles.is_manager(user) or roles.is_admin(user):
        return Ticket.objects.all()
    condition = requested_or_watched(user)
    tiers = roles.agent_tiers(user)
    if tiers:
        # Swarm membership the same way as watching (see requested_or_watched).
        swarming = Ticket.collaborators.through.objects.filter(user_id=user.pk).values("ticket_id")
        condition |= Q(tier__in=tiers) | Q(assignee=user) | Q(is_swarm=True) | Q(pk__in_array=swarming)
    vendor_id = roles.role_info(user).vendor_id
    if vendor_id is not None:
        condition |= Q(vendor_id=vendor_id, tier=Tier.T4)
    return Ticket.objects.filter(condition)


@overload
def get_ticket_for(user: User | AnonymousUser, pk: int | str) -> Ticket: ...


@overload
def get_ticket_for(user: User | AnonymousUser, pk: int | str, queryset: QuerySet[_T]) -> _T: ...


def get_ticket_for(user: User | AnonymousUser, pk: int | str, queryset: QuerySet[Any] | None = None) -> Ticket:
    """The ticket ``pk`` if ``user`` may see it, else Http404 (never 403: existence must not leak).

    With ``queryset`` (tickets with extra prefetched lists, say) the ticket is read through it
    and keeps its type.
    """
    qs = visible_tickets(user) if queryset is None else queryset.filter(pk__in=visible_tickets(user).values("pk"))
    try:
        return qs.get(pk=pk)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("No such ticket.") from None


def is_staff_reader(user: User) -> bool:
    """Agents, managers and admins read internal notes; requesters and vendors never do."""
    return roles.is_agent(user) or roles.is_manager(user) or roles.is_admin(user)


def can_see_internal(user: User, ticket: Ticket) -> bool:
    return is_staff_reader(user)


# --------------------------------------------------------------------------- history (TicketEvent data)
#
# Staff readers (agents, managers, admins) see every event with all its data. Everyone else (the
# requester, watchers, a vendor's people) sees the public facts of the ticket's life only:
#
# * never an internal event (``internal=True``: notes, escalations, swarms, manager alerts, SLA)
#   and never a kind listed in ``STAFF_ONLY_EVENT_KINDS`` even if some writer forgot the flag:
#   escalation and de-escalation (their note, the vendor and its reference, who held the ticket),
#   assignment changes (who works it is the desk's business; the current assignee is on the
#   ticket), manager alerts, swarms, SLA warnings and breaches;
# * of the events they see, only the keys in ``PUBLIC_EVENT_DATA``; any other key (a key added
#   later included) is internal. The priority override reason is such a key;
# * a vendor contact also does not see who was added as a watcher (the requester's colleagues).
STAFF_ONLY_EVENT_KINDS: frozenset[str] = frozenset(
    {
        EventKind.ESCALATED,
        EventKind.DEESCALATED,
        EventKind.ASSIGNED,
        EventKind.NOTE_ADDED,
        EventKind.MANAGERS_NOTIFIED,
        EventKind.SWARM_OPENED,
        EventKind.SWARM_JOINED,
        EventKind.SLA,
    }
)
VENDOR_HIDDEN_EVENT_KINDS: frozenset[str] = frozenset({EventKind.WATCHER_ADDED})
# Per kind, the data keys shown outside the staff; a dict value lists the keys kept inside a nested dict.
_PRIORITY_KEYS = frozenset({"priority", "impact", "urgency"})
PUBLIC_EVENT_DATA: dict[str, dict[str, frozenset[str] | None]] = {
    EventKind.CREATED: {"channel": None, "priority": None, "tier": None},
    EventKind.STATUS_CHANGED: {"from": None, "to": None},
    EventKind.PRIORITY_CHANGED: {"from": _PRIORITY_KEYS, "to": _PRIORITY_KEYS},
    EventKind.CATEGORY_CHANGED: {"from": None, "to": None},
    EventKind.REPLIED: {"message": None},
    EventKind.ATTACHMENT_ADDED: {"attachment": None, "filename": None},
    EventKind.WATCHER_ADDED: {"watcher": None},
    EventKind.MERGED: {"into": None, "from": None},
    EventKind.LINKED: {"related": None, "why": None, "incident": None, "problem": None},
    EventKind.RESOLVED: {"note": None, "problem": None},
    EventKind.REOPENED: {"reason": None},
    EventKind.CLOSED: {"why": None},
}


def may_see_event(user: User, ticket: Ticket, kind: str, *, internal: bool = False) -> bool:
    """Whether ``user`` (who may read ``ticket``) sees events of ``kind`` in its history, API and mail.

    Staff readers see every event; others never see internal ones nor ``STAFF_ONLY_EVENT_KINDS``;
    vendor contacts also not ``VENDOR_HIDDEN_EVENT_KINDS``. No side effects.
    """
    if can_see_internal(user, ticket):
        return True
    if internal or kind in STAFF_ONLY_EVENT_KINDS:
        return False
    return not (roles.is_vendor_contact(user) and kind in VENDOR_HIDDEN_EVENT_KINDS)


def hidden_event_kinds(user: User, ticket: Ticket) -> frozenset[str]:
    """The kinds ``may_see_event`` refuses to ``user`` whatever the event, for filtering in SQL."""
    if can_see_internal(user, ticket):
        return frozenset()
    if roles.is_vendor_contact(user):
        return STAFF_ONLY_EVENT_KINDS | VENDOR_HIDDEN_EVENT_KINDS
    return STAFF_ONLY_EVENT_KINDS


def visible_event_data(user: User, ticket: Ticket, event: TicketEvent) -> dict[str, Any] | None:
    """The data of ``event`` as ``user`` may read it, or None when the event is not theirs to see.

    The one filter of event data: the ticket page's history, the API's events endpoint and the
    mail all go through it (see the comment above ``STAFF_ONLY_EVENT_KINDS`` for the rules).
    Returns a new dict; the event is left unchanged. No side effects.
    """
    if not may_see_event(user, ticket, event.kind, internal=event.internal):
        return None
    data = event.data if isinstance(event.data, dict) else {}
    if can_see_internal(user, ticket):
        return dict(data)
    shown = {}
    for key, inner in PUBLIC_EVENT_DATA.get(event.kind, {}).items():
        if key not in data:
            continue
        value = data[key]
        if inner is not None:
            value = {k: v for k, v in value.items() if k in inner} if isinstance(value, dict) else None
        shown[key] = value
    return shown


def visible_events(user: User, ticket: Ticket, events: Iterable[TicketEvent]) -> list[TicketEvent]:
    """``events`` of ``ticket`` that ``user`` may see, each an unsaved copy carrying only its visible data."""
    result = []
    for event in events:
        data = visible_event_data(user, ticket, event)
        if data is not None:
            shown = copy.copy(event)
            shown.data = data
            result.append(shown)
    return result


def without_hidden_files(user: User, ticket: Ticket, events: list[TicketEvent]) -> list[TicketEvent]:
    """``events`` without the ATTACHMENT_ADDED events of files ``user`` may not read.

    A file of the vendor conversation is recorded by a public event (only an internal note's
    files get an internal one), so its name would reach the requester in the history. Staff
    readers keep every event (no query); others lose the events naming a file of a message
    kind they do not read (one query, only when the history has file events).
    """
    if can_see_internal(user, ticket):
        return events
    files = [event for event in events if event.kind == EventKind.ATTACHMENT_ADDED]
    if not files:
        return events
    hidden = set(
        ticket.attachments.exclude(message__isnull=True)
        .exclude(message__kind__in=visible_message_kinds(user, ticket))
        .values_list("pk", flat=True)
    )
    if not hidden:
        return events
    return [
        event
        for event in events
        if not (
            event.kind == EventKind.ATTACHMENT_ADDED
            and events_schema.payload(event, events_schema.AttachmentAdded).get("attachment") in hidden
        )
    ]


def visible_message_kinds(user: User, ticket: Ticket) -> list[str]:
    """The kinds of message ``user`` reads on ``ticket``.

    Staff readers: all of them (public replies, internal notes, the vendor conversation). The
    vendor's contacts on their tier-4 ticket: the public replies and the vendor conversation,
    never internal notes. Everyone else (the requester, watchers): the public replies only.
    No side effects.
    """
    if can_see_internal(user, ticket):
        return [MessageKind.PUBLIC, MessageKind.INTERNAL, MessageKind.VENDOR]
    if is_vendor_of(user, ticket):
        return [MessageKind.PUBLIC, MessageKind.VENDOR]
    return [MessageKind.PUBLIC]


def can_write_to_vendor(user: User, ticket: Ticket) -> bool:
    """Write in the vendor side conversation: whoever works a tier-4 ticket with a vendor, and that vendor's people.

    The service refuses a closed ticket with a message. No side effects.
    """
    if ticket.tier != Tier.T4 or ticket.vendor_id is None:
        return False
    return can_work(user, ticket) or is_vendor_of(user, ticket)


def can_compose(user: User, ticket: Ticket) -> bool:
    """Send anything from the composer: a reply, a note or a vendor message (each service checks its own kind)."""
    return can_reply(user, ticket) or can_add_note(user, ticket) or can_write_to_vendor(user, ticket)


def can_work(user: User, ticket: Ticket) -> bool:
    """Act on the ticket as an agent: notes, status, priority, category, assignment, escalation.

    Managers always; agents when the ticket sits in one of their tiers, is assigned to them,
    or is a swarm they joined (a tier-1 agent cannot act in a tier-3 queue otherwise).
    """
    if roles.is_manager(user):
        return True
    if not roles.is_agent(user):
        return False
    if ticket.tier in roles.agent_tiers(user) or ticket.assignee_id == user.pk:
        return True
    return ticket.is_swarm and ticket.collaborators.filter(pk=user.pk).exists()


def can_join_swarm(user: User, ticket: Ticket) -> bool:
    return ticket.is_swarm and ticket.is_open and roles.is_agent(user)


def is_vendor_of(user: User, ticket: Ticket) -> bool:
    vendor_id = roles.role_info(user).vendor_id
    return vendor_id is not None and ticket.tier == Tier.T4 and ticket.vendor_id == vendor_id


def can_see_vendor_reference(user: User, ticket: Ticket) -> bool:
    """The vendor's own reference of a tier-4 ticket: staff readers and that vendor's people only.

    It is the desk's handle on the vendor's case, not the requester's business (and an outside
    company's internal identifier). No side effects.
    """
    return is_staff_reader(user) or is_vendor_of(user, ticket)


def is_requester_side(user: User, ticket: Ticket) -> bool:
    """The requester or a watcher who may still follow the ticket (``may_follow``): the public conversation."""
    if ticket.requester_id == user.pk:
        return True
    return may_follow(user, ticket) and ticket.watchers.filter(pk=user.pk).exists()


def can_reply(user: User, ticket: Ticket) -> bool:
    """Post a public reply: workers, the vendor on a tier-4 ticket, the requester and watchers.

    (On a closed ticket the service refuses the reply and points to a follow-up ticket.)
    """
    return can_work(user, ticket) or is_vendor_of(user, ticket) or is_requester_side(user, ticket)


def can_add_note(user: User, ticket: Ticket) -> bool:
    return can_work(user, ticket)


def can_escalate(user: User, ticket: Ticket) -> bool:
    return can_work(user, ticket) and ticket.is_open and ticket.tier < Tier.T4


def can_deescalate(user: User, ticket: Ticket) -> bool:
    return can_work(user, ticket) and ticket.is_open and ticket.tier > Tier.T1


def can_reopen(user: User, ticket: Ticket) -> bool:
    """Requesters reopen their own resolved ticket (the window is checked by the service); agents too."""
    if ticket.status != Status.RESOLVED:
        return False
    return can_work(user, ticket) or ticket.requester_id == user.pk


def can_confirm_resolution(user: User, ticket: Ticket) -> bool:
    return ticket.status == Status.RESOLVED and ticket.requester_id == user.pk


def can_assign_to_others(user: User, ticket: Ticket) -> bool:
    return can_work(user, ticket)


# Authority-only rules (the services then refuse what the ticket's state forbids, with a message).


def is_requester(user: User, ticket: Ticket) -> bool:
    return ticket.requester_id == user.pk


def can_follow_up(user: User, ticket: Ticket) -> bool:
    """Start a follow-up of a closed ticket, or confirm a resolution: the requester only."""
    return is_requester(user, ticket)


def may_reopen(user: User, ticket: Ticket) -> bool:
    """Reopen (inside the window for requesters, checked by the service)."""
    return can_work(user, ticket) or is_requester(user, ticket)


def can_add_watcher(user: User, ticket: Ticket) -> bool:
    """Open the "add a watcher" form at all: whoever works the ticket, and its requester."""
    return can_work(user, ticket) or is_requester(user, ticket)


def address_domain(address: str) -> str:
    """The domain of an e-mail address, lower-cased ("" when there is none)."""
    local, at, domain = (address or "").strip().rpartition("@")
    return domain.lower() if at and local and domain else ""


def is_colleague(person: User, of: User) -> bool:
    """Whether ``person`` is a colleague of ``of``: both have an address at the same mail domain.

    The desk has no organisations: requesters are the company's staff, and the company's mail
    domain is what they share (it is also how inbound mail tells one sender from another). A
    vendor contact is never a colleague of a requester, whatever their address.
    """
    domain = address_domain(person.email)
    return bool(domain) and domain == address_domain(of.email) and not roles.is_vendor_contact(person)


def may_follow(person: User, ticket: Ticket) -> bool:
    """Whether ``person`` may be a watcher of ``ticket`` at all, whoever adds them.

    Invariants: an inactive account never follows; a vendor contact follows only while the
    ticket sits at their vendor's tier 4 (what the permission path lets them see without
    watching), so watching never opens a ticket to a vendor. ``person`` may be unsaved (an
    address that has no account yet): it then has no roles.
    """
    if not person.is_active:
        return False
    if roles.is_vendor_contact(person):
        return is_vendor_of(person, ticket)
    return True


def can_add_as_watcher(by: User, person: User, ticket: Ticket) -> bool:
    """THE watcher rule, used by the page, the API and inbound mail: may ``by`` make ``person`` follow ``ticket``?

    * ``person`` must pass ``may_follow`` and must not be the requester (who follows anyway);
    * whoever works the ticket (``can_work``) may add anyone who passes;
    * the requester may add only colleagues (``is_colleague``): no vendor contacts, no outsiders;
    * nobody else adds watchers (a watcher does not invite more people).

    Inbound mail to a ticket's reply address counts as an invitation by its requester (the
    address was mailed to the requester's side), so the same colleague rule applies.
    No side effects; reads the roles of both people.
    """
    if person.pk is not None and person.pk == ticket.requester_id:
        return False
    if not may_follow(person, ticket):
        return False
    if can_work(by, ticket):
        return True
    return is_requester(by, ticket) and is_colleague(person, by)


def may_join_swarm(user: User, ticket: Ticket) -> bool:
    """Any agent may ask to join; the service refuses when the ticket is not a swarm."""
    return roles.is_agent(user)


def can_create_for_others(user: User) -> bool:
    """Agents and managers open tickets on someone's behalf (phone calls, the API)."""
    return roles.is_agent(user) or roles.is_manager(user)


# --------------------------------------------------------------------------- macros


def can_use_macros(user: User) -> bool:
    """Keep and apply macros at all: agents and managers (those who work tickets)."""
    return roles.is_agent(user) or roles.is_manager(user) or roles.is_admin(user)


def can_manage_shared_macros(user: User) -> bool:
    """Create and change the tier macros every agent of a tier uses: managers and admins."""
    return roles.is_manager(user) or roles.is_admin(user)


def can_manage_macro(user: User, macro: Macro) -> bool:
    """Change or delete ``macro``: a personal one by its owner, a tier one by managers and admins. No side effects."""
    if macro.owner_id is not None:
        return macro.owner_id == user.pk
    return can_manage_shared_macros(user)


# --------------------------------------------------------------------------- saved queue views


def may_keep_views(user: User | AnonymousUser) -> bool:
    """Agents and managers keep saved views; requesters and vendor contacts do not."""
    return roles.is_agent(user) or roles.is_manager(user)


def may_share_views(user: User | AnonymousUser) -> bool:
    """Only managers share a view with every agent."""
    return roles.is_manager(user)


def may_delete_view(user: User, view: SavedView) -> bool:
    """Only its owner deletes a view (a shared view too)."""
    return view.owner_id == user.pk
