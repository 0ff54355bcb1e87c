"""Make real PostgreSQL abort chosen statements with a deadlock, to test what the desk does then.

A trigger raises SQLSTATE 40P01 (deadlock_detected) -- the very error PostgreSQL's deadlock
detector raises -- on the calls whose number (counted by a sequence, which a rollback does
not reset) satisfies a condition. Import the fixture into a test module; transactional tests
only (a retry needs a transaction of its own).
"""

from __future__ import annotations

import pytest
from django.db import connection

FAULT = "test_injected_fault"


@pytest.fixture
def inject_deadlock():
    """``inject_deadlock(table, when="n <= 2", event="UPDATE")``: calls numbered ``n`` (from 1) fail."""
    tables: list[str] = []

    def inject(table: str, when: str = "true", event: str = "UPDATE") -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {FAULT}_calls")
            cursor.execute(
                f"""CREATE OR REPLACE FUNCTION {FAULT}_{len(tables)}() RETURNS trigger LANGUAGE plpgsql AS $$
                    DECLARE n bigint := nextval('{FAULT}_calls');
                    BEGIN
                        IF {when} THEN
                            RAISE EXCEPTION 'deadlock detected (injected by the test, call %)', n
                                USING ERRCODE = '40P01';
                        END IF;
                        RETURN NEW;
                    END $$"""
            )
            cursor.execute(
                f"CREATE TRIGGER {FAULT} BEFORE {event} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {FAULT}_{len(tables)}()"
            )
        tables.append(table)

    yield inject
    with connection.cursor() as cursor:
        for number, table in enumerate(tables):
            cursor.execute(f"DROP TRIGGER IF EXISTS {FAULT} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {FAULT}_{number}()")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {FAULT}_calls")


def calls() -> int:
    """How many calls the triggers counted so far."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value, is_called FROM {FAULT}_calls")  # noqa: S608 (a constant)
        last, called = cursor.fetchone()
    return last if called else 0


def remove(table: str) -> None:
    """No more faults on ``table`` (the fixture's clean-up is then a no-op for it)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {FAULT} ON {table}")
