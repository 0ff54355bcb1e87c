"""Names for hand-written SQL, taken from the models so a rename fails in the tests, not in production.

The few statements written as SQL (the SLA sweep, the roles query, the KPI SQL) never spell a
table, column or constraint name: they ask the model. A field that is renamed or removed then
raises ``FieldDoesNotExist`` as soon as the statement is built (at import or first use, which
every test run reaches), and a renamed column is followed without an edit.
"""

from __future__ import annotations

from django.db import models
from psycopg2 import sql


def column_name(model: type[models.Model], name: str) -> str:
    """The column of ``model``'s field ``name`` (a foreign key by its field name: ``ticket``)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} has no column of its own")
    return field.column


def table(model: type[models.Model]) -> sql.Identifier:
    """The quoted table name of ``model``."""
    return sql.Identifier(model._meta.db_table)


def column(model: type[models.Model], name: str) -> sql.Identifier:
    """The quoted column of ``model``'s field ``name``."""
    return sql.Identifier(column_name(model, name))


def constraint(model: type[models.Model], name: str) -> sql.Identifier:
    """The quoted name of ``model``'s constraint ``name``; ``LookupError`` once it is gone."""
    if not any(each.name == name for each in model._meta.constraints):
        raise LookupError(f"{model.__name__} has no constraint {name}")
    return sql.Identifier(name)
