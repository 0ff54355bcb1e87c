"""The application's least-privilege database role.

Two roles touch the database. The **owner** (the role of ``DATABASE_MIGRATE_URL``, or of
``DATABASE_URL`` where no separate owner is configured) owns the schema and runs the migrations.
The **application role** (``DATABASE_APP_ROLE``, ``helpdesk_app`` by default) is what web, worker
and beat connect as: it reads and writes rows and nothing more. It owns no table, so it cannot
ALTER, DROP or TRUNCATE one, cannot create tables, and is neither superuser nor allowed to create
databases or roles. On the append-only history tables (those guarded by a row trigger named
``*_append_only``) it may only SELECT and INSERT.

``grant_app_privileges`` is run by the owner after every ``migrate`` (``manage.py
setup_app_role``), so the tables a new migration adds get their grants; default privileges cover
tables created in between.
"""

from __future__ import annotations

from django.db import connection
from psycopg2 import sql

DEFAULT_APP_ROLE = "helpdesk_app"


def append_only_tables() -> list[str]:
    """Tables of this schema whose row trigger refuses UPDATE and DELETE (named ``*_append_only``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT c.relname
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND t.tgname LIKE %s AND n.nspname = current_schema()
            ORDER BY c.relname
            """,
            ["%\\_append\\_only"],
        )
        return [name for (name,) in cursor.fetchall()]


def grant_app_privileges(*, role: str = DEFAULT_APP_ROLE, password: str | None = None) -> None:
    """Create ``role`` if it is missing and give it row access to this database, nothing more.

    Runs as the schema owner (it needs CREATEROLE only when the role does not exist yet). Safe
    to run again: grants are idempotent, the password is reset only when one is given.
    Invariants afterwards: the role is LOGIN, NOSUPERUSER, NOCREATEDB, NOCREATEROLE, owns nothing;
    it has SELECT/INSERT/UPDATE/DELETE on every table of the schema (SELECT/INSERT only on the
    append-only ones), USAGE/SELECT/UPDATE on its sequences, and never TRUNCATE, REFERENCES or
    TRIGGER.
    """
    ident = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(ident))
        if password:
            cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(ident), [password])
        schema = sql.Identifier(connection.settings_dict.get("SCHEMA") or "public")
        database = sql.Identifier(connection.settings_dict["NAME"])
        for statement in (
            "GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
        ):
            cursor.execute(sql.SQL(statement).format(database=database, schema=schema, role=ident))
        for table in append_only_tables():
            cursor.execute(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), ident))
