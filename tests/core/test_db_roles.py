"""The application runs as a least-privilege role, and the history refuses TRUNCATE.

Each refusal is tried on a connection of its own (psycopg2, autocommit), outside the test's
transaction, against the test database.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg2 import errors

from helpdesk.core.dbroles import append_only_tables, grant_app_privileges
from helpdesk.embedded import database_url
from tickets.models import Ticket, TicketEvent

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
ROLE = "helpdesk_app_test"
PASSWORD = "app-role-test-password"
HISTORY_TABLES = ["tickets_ticketevent", "sla_clockevent"]


def connect(user: str | None = None, password: str | None = None):
    settings = connection.settings_dict
    conn = psycopg2.connect(
        dbname=settings["NAME"],
        user=user or settings["USER"] or None,
        password=password if user else (settings["PASSWORD"] or None),
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    conn.autocommit = True
    return conn


def refused(conn, statement: str) -> bool:
    """Whether PostgreSQL refuses ``statement`` for lack of privilege."""
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture
def app_role(transactional_db):
    grant_app_privileges(role=ROLE, password=PASSWORD)
    conn = connect(ROLE, PASSWORD)
    yield conn
    conn.close()


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_truncate_of_a_history_table_is_refused_even_for_the_owner(db, table):
    conn = connect()  # the owner (here the server's superuser), with the test-only escape turned off
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET helpdesk.allow_truncate = 'off'")
        assert refused(conn, f"TRUNCATE {table} CASCADE")
    finally:
        conn.close()


def test_the_history_tables_are_found_by_their_append_only_trigger(db):
    assert append_only_tables() == [TicketEvent._meta.db_table]


def test_the_app_role_is_no_superuser_and_owns_nothing(app_role):
    with app_role.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", [ROLE]
        )
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE tickets_ticket CASCADE",
        "TRUNCATE tickets_ticketevent",
        "UPDATE tickets_ticketevent SET data = '{}'",
        "DELETE FROM tickets_ticketevent",
        "CREATE TABLE app_role_made_this (id int)",
        "ALTER TABLE tickets_ticket ADD COLUMN sneaky int",
        "DROP TABLE core_outboxmessage",
        "CREATE ROLE app_role_minion",
        "CREATE DATABASE app_role_db",
    ],
)
def test_the_app_role_may_not(app_role, statement):
    with app_role.cursor() as cursor:
        cursor.execute("SET helpdesk.allow_truncate = 'on'")  # the role is refused by privilege, not the trigger
    assert refused(app_role, statement)


def test_the_desk_works_as_the_app_role(app_role):
    """A ticket is created, replied to and escalated by the real services connected as the role."""
    url = database_url({**connection.settings_dict, "USER": ROLE, "PASSWORD": PASSWORD})
    script = (
        "import django; django.setup()\n"
        "from tests import factories\n"
        "from tickets.services import add_reply, escalate_ticket\n"
        "ticket = factories.make_ticket(subject='Made by the app role')\n"
        "agent = factories.make_agent(1)\n"
        "add_reply(ticket_id=ticket.pk, by=agent, body='On it')\n"
        "escalate_ticket(ticket_id=ticket.pk, by=agent, reason='needs a technician')\n"
        "print(ticket.pk)\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    ticket = Ticket.objects.get(pk=int(result.stdout.split()[-1]))
    assert ticket.subject == "Made by the app role"
    assert ticket.tier == 2
    assert TicketEvent.objects.filter(ticket=ticket).count() >= 3


def test_setup_app_role_command_prints_the_roles_url(transactional_db, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_APP_PASSWORD", PASSWORD)
    call_command("setup_app_role", "--role", ROLE, "--print-url")
    url = capsys.readouterr().out.strip()
    assert url == database_url({**connection.settings_dict, "USER": ROLE, "PASSWORD": PASSWORD})
