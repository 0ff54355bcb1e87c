"""helpdesk.core.db: which errors count as conflicts, how often a change runs, what the API answers."""

import pytest
from django.db import OperationalError, connection, transaction
from django.db.utils import ProgrammingError

from helpdesk.core.api import exception_handler
from helpdesk.core.db import ATTEMPTS, TransactionConflict, is_conflict, retry_on_conflict


def _postgres_error(sqlstate: str) -> Exception:
    """The error PostgreSQL itself raises with ``sqlstate``, as Django hands it on."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{sqlstate}'; END $$")
    except Exception as error:
        return error
    raise AssertionError("PostgreSQL raised nothing")


@pytest.mark.django_db
@pytest.mark.parametrize(("sqlstate", "conflict"), [("40P01", True), ("40001", True), ("55P03", False)])
def test_deadlocks_and_serialization_failures_are_conflicts(sqlstate, conflict):
    error = _postgres_error(sqlstate)
    assert isinstance(error, OperationalError)
    assert is_conflict(error) is conflict


@pytest.mark.django_db
def test_other_database_errors_are_not_conflicts():
    assert not is_conflict(_postgres_error("42601"))  # syntax_error
    assert isinstance(_postgres_error("42601"), ProgrammingError)


@pytest.mark.django_db(transaction=True)
def test_a_conflict_runs_the_function_again_up_to_the_limit():
    runs = []

    @retry_on_conflict
    def change():
        runs.append(1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '40P01'; END $$")

    with pytest.raises(TransactionConflict) as raised:
        change()
    assert len(runs) == ATTEMPTS
    assert is_conflict(raised.value.__cause__)


@pytest.mark.django_db(transaction=True)
def test_other_errors_are_not_run_again():
    runs = []

    @retry_on_conflict
    def change():
        runs.append(1)
        raise ValueError("a bug, not a conflict")

    with pytest.raises(ValueError, match="a bug"):
        change()
    assert runs == [1]


@pytest.mark.django_db
def test_inside_a_callers_transaction_a_conflict_is_refused_at_once():
    runs = []

    @retry_on_conflict
    def change():
        runs.append(1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END $$")

    with pytest.raises(TransactionConflict):
        change()  # the test's transaction is the caller's: only its owner could run it again
    assert runs == [1]


@pytest.mark.django_db
def test_the_api_answers_a_conflict_that_escaped_every_retry_with_409_json():
    response = exception_handler(_postgres_error("40P01"), {})
    assert response.status_code == 409
    assert "nothing was saved" in response.data["detail"]
