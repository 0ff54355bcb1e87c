"""Ticket-domain services: every state change of the tickets app goes through here.

Split by sub-domain:

* ``creating``: opening tickets, and an agent logging a phone call;
* ``conversation``: public replies, a follow-up to a closed ticket, internal notes, the vendor
  side conversation at tier 4;
* ``compose``: the ticket page's composer (a message and field changes in one transaction);
* ``macros``: named texts and field changes applied in one click (through ``compose``);
* ``status``: the status lifecycle (agents' moves, resolving, reopening, closing);
* ``tiers``: escalation, de-escalation and telling the managers;
* ``claiming``: who works a ticket (claiming, the next in the queue, assigning), swarms, watchers;
* ``triage``: changing the priority and the category;
* ``_common``: the helpers they share (row locks, refusals, saving, notifications);
* ``linking`` (merge, problem/incident, related), ``attachments``, ``bulk`` (the queue
  page's bulk changes), ``versions`` (optimistic concurrency), ``watchers`` (adding a
  watcher by what a person typed), ``people`` (agents and their tiers, vendor contacts, the demo
  accounts),
  ``demo`` (demo data) and ``text``.

Views, API, tasks and commands import from this package.
"""

from .attachments import clean_filename, download_content_type, store_attachments, validate_uploads
from .claiming import add_watcher, assign_ticket, claim_ticket, join_swarm, open_swarm, take_next
from .compose import KEEP, Composed, FieldChanges, Keep, PriorityChange, compose_ticket
from .conversation import add_note, add_reply, add_vendor_message, reply_to_closed
from .creating import create_ticket, log_phone_call
from .linking import link_related, link_to_problem, merge_tickets
from .macros import apply_macro, delete_macro, fill_placeholders, macros_for, save_macro, usable_macros
from .people import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_VENDOR, seed_demo, set_agent_tiers, system_user
from .status import (
    AGENT_TRANSITIONS,
    change_status,
    close_expired_resolved,
    confirm_resolution,
    reopen_ticket,
    resolve_ticket,
)
from .text import one_line
from .tiers import deescalate_ticket, escalate_automatically, escalate_ticket, notify_managers
from .triage import change_category, change_priority
from .versions import StaleTicket, change_at_version, lock_at_version
from .watchers import add_watcher_by_address

__all__ = [
    "AGENT_TRANSITIONS",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_VENDOR",
    "KEEP",
    "Composed",
    "FieldChanges",
    "Keep",
    "PriorityChange",
    "StaleTicket",
    "add_note",
    "add_reply",
    "add_vendor_message",
    "add_watcher",
    "add_watcher_by_address",
    "apply_macro",
    "assign_ticket",
    "change_at_version",
    "change_category",
    "change_priority",
    "change_status",
    "claim_ticket",
    "clean_filename",
    "close_expired_resolved",
    "compose_ticket",
    "confirm_resolution",
    "create_ticket",
    "deescalate_ticket",
    "delete_macro",
    "download_content_type",
    "escalate_automatically",
    "escalate_ticket",
    "fill_placeholders",
    "join_swarm",
    "link_related",
    "link_to_problem",
    "lock_at_version",
    "log_phone_call",
    "macros_for",
    "merge_tickets",
    "notify_managers",
    "one_line",
    "open_swarm",
    "reopen_ticket",
    "reply_to_closed",
    "resolve_ticket",
    "save_macro",
    "seed_demo",
    "set_agent_tiers",
    "store_attachments",
    "system_user",
    "take_next",
    "usable_macros",
    "validate_uploads",
]
