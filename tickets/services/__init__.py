"""Ticket-domain services: every state change of the tickets app goes through here.

Split by sub-domain: ``people`` (agents, tiers, demo data), ``lifecycle`` (creating,
replying, status, escalation, claiming), ``linking`` (merge, problem/incident, related),
``attachments``. Views, API, tasks and commands import from this package.
"""

from .attachments import clean_filename, download_content_type, store_attachments, validate_uploads
from .lifecycle import (
    AGENT_TRANSITIONS,
    add_note,
    add_reply,
    add_watcher,
    assign_ticket,
    change_category,
    change_priority,
    change_status,
    claim_ticket,
    close_expired_resolved,
    confirm_resolution,
    create_ticket,
    deescalate_ticket,
    escalate_automatically,
    escalate_ticket,
    join_swarm,
    log_phone_call,
    notify_managers,
    open_swarm,
    reopen_ticket,
    reply_to_closed,
    resolve_ticket,
    take_next,
)
from .linking import link_related, link_to_problem, merge_tickets
from .people import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_VENDOR, seed_demo, set_agent_tiers, system_user
from .text import one_line
from .versions import StaleTicket, change_at_version, lock_at_version
from .watchers import add_watcher_by_address

__all__ = [
    "AGENT_TRANSITIONS",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_VENDOR",
    "StaleTicket",
    "add_note",
    "add_reply",
    "add_watcher",
    "add_watcher_by_address",
    "assign_ticket",
    "change_at_version",
    "change_category",
    "change_priority",
    "change_status",
    "claim_ticket",
    "clean_filename",
    "close_expired_resolved",
    "confirm_resolution",
    "create_ticket",
    "deescalate_ticket",
    "download_content_type",
    "escalate_automatically",
    "escalate_ticket",
    "join_swarm",
    "link_related",
    "link_to_problem",
    "lock_at_version",
    "log_phone_call",
    "merge_tickets",
    "notify_managers",
    "one_line",
    "open_swarm",
    "reopen_ticket",
    "reply_to_closed",
    "resolve_ticket",
    "seed_demo",
    "set_agent_tiers",
    "store_attachments",
    "system_user",
    "take_next",
    "validate_uploads",
]
