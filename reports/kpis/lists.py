# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608
"""The tickets behind a figure: the per-ticket rows the figures aggregate, filtered instead of summed."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from .definitions import AGE_BUCKETS, BACKLOG_COLUMNS, Period, Scope, SqlParams, SqlValue
from .sql import _part_select, live_params

# list key -> (parts it reads, condition on their rows, label)
TICKET_LISTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "created": (("created",), "created = 1", "Created"),
    "portal": (("created",), "channel = 'portal'", "Submitted through the portal"),
    "frt": (("frt",), "frt_n = 1", "First response in the period"),
    "resolution": (("resolution",), "res_n = 1", "First resolution (resolution time)"),
    "resolved": (("resolved",), "resolved = 1", "First resolved in the period"),
    "fcr": (("resolved",), "fcr = 1", "Resolved at first contact"),
    "not_fcr": (("resolved",), "fcr = 0", "Resolved, not at first contact"),
    "reopened": (("resolved",), "reopened = 1", "Resolved and reopened"),
    "escalated": (("created",), "escalated = 1", "Created and escalated"),
    "escalated_1": (("created",), "esc_from_1 = 1", "Escalated out of tier 1"),
    "escalated_2": (("created",), "esc_from_2 = 1", "Escalated out of tier 2"),
    "escalated_3": (("created",), "esc_from_3 = 1", "Escalated out of tier 3"),
    "sla_response": (("sla",), "resp_due = 1", "Response targets due or met"),
    "sla_response_missed": (("sla",), "resp_due = 1 AND resp_met = 0", "Response targets missed"),
    "sla_resolution": (("sla",), "res_due = 1", "Resolution targets due or met"),
    "sla_resolution_missed": (("sla",), "res_due = 1 AND res_met = 0", "Resolution targets missed"),
    "surveys": (("surveys",), "surveys = 1", "Surveys sent"),
    "answered": (("surveys",), "answered = 1", "Surveys answered"),
    "unhappy": (("surveys",), "answered = 1 AND happy = 0", "Surveys scoring 1-3"),
    "backlog": (("backlog_now", "backlog_past"), "day = %(last)s", "Backlog at the end of the period"),
    **{
        f"backlog_{key}": (("backlog_now", "backlog_past"), f"day = %(last)s AND {column} = 1", f"Backlog, {label}")
        for (key, label), column in zip(AGE_BUCKETS, BACKLOG_COLUMNS, strict=True)
    },
}


def tickets_behind_sql(
    key: str, scope: Scope, period: Period, *, now: dt.datetime | None = None
) -> tuple[str, list[SqlValue]]:
    """SQL (and parameters) of the ids of the tickets behind list ``key`` for ``scope`` and ``period``.

    The same per-ticket rows the figures aggregate, filtered instead of summed. The parameters
    are positional because the pages put the statement in ``RawSQL`` (see ``_positional``).
    """
    if key not in TICKET_LISTS:
        raise ValidationError({"figure": [f"Unknown figure “{key}”."]})
    parts, condition, _ = TICKET_LISTS[key]
    now = now or timezone.now()
    scope_sql, scope_params = scope.sql("p")
    named = {**live_params(period.first, period.last, now), **scope_params}
    union = " UNION ALL ".join(_part_select(name, with_ticket=True) for name in parts)
    sql = (
        f"SELECT DISTINCT p.ticket_id FROM ({union}) p "
        f"WHERE {condition} AND p.day BETWEEN %(first)s AND %(last)s AND {scope_sql}"
    )
    return _positional(sql, named)


def _positional(sql: str, named: SqlParams) -> tuple[str, list[SqlValue]]:
    """``sql`` written with ``%(name)s`` parameters, turned into ``%s`` ones and their list of values.

    ``RawSQL`` becomes part of an ORM statement whose other parameters are positional, so it
    cannot take named ones: the statement is written with names and converted here, once.
    """
    params: list[SqlValue] = []

    def replace(match: re.Match[str]) -> str:
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", replace, sql), params


def ticket_list_label(key: str) -> str:
    return TICKET_LISTS[key][2] if key in TICKET_LISTS else key
