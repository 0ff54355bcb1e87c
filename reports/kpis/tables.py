"""The SQL names of the tables the KPI SQL reads, taken from the models' ``_meta``.

The SQL is built from these at import, so a renamed table or column changes the SQL with it,
and a removed or renamed field raises ``FieldDoesNotExist`` as soon as ``reports.kpis`` is
imported (in every test), not when a query runs in production.
"""

from __future__ import annotations

import re

from django.db import connection, models

from helpdesk.core.sqlnames import column_name
from knowledgebase.models import Deflection
from sla.models import Clock
from tickets import events
from tickets.models import Ticket, TicketEvent

from ..models import DailyFigure, DirtyDay, RollupDay, Survey


class Names:
    """The quoted table name (``table``) and column names of one model.

    ``TICKET.created_at`` is the quoted column of the field ``created_at``; a foreign key is
    named by its attname (``EVENT.ticket_id``). ``column(name)`` does the same for a name held
    in a variable.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self._model = model
        self.table = connection.ops.quote_name(model._meta.db_table)

    def column(self, name: str) -> str:
        return connection.ops.quote_name(column_name(self._model, name))

    def __getattr__(self, name: str) -> str:
        # Called only for names that are not attributes (``table``, ``column``, ``_model``).
        if name.startswith("_"):
            raise AttributeError(name)
        return self.column(name)


def literal(value: str) -> str:
    """A constant of the code (an event kind, a data key, a clock metric) as an SQL string literal.

    Only plain lower-case words are accepted, so nothing that needs escaping can reach the SQL.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError(f"{value!r} is not a plain constant.")
    return f"'{value}'"


def data_key(schema: type, name: str) -> str:
    """``name`` of ``schema`` (a ``tickets.events`` TypedDict) checked at import, as an SQL literal."""
    return literal(events.key(schema, name))


TICKET = Names(Ticket)
EVENT = Names(TicketEvent)
CLOCK = Names(Clock)
DEFLECTION = Names(Deflection)
SURVEY = Names(Survey)
DAILY_FIGURE = Names(DailyFigure)
ROLLUP_DAY = Names(RollupDay)
DIRTY_DAY = Names(DirtyDay)
