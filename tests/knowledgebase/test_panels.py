"""The knowledge-base panel of the ticket page: a fixed number of statements, the known errors by their own index."""

import io

import pytest
from django.core.management.base import OutputWrapper
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import knowledgebase as knowledgebase_bench
from knowledgebase import panels, search
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "subject",
    [
        "password expired",  # a common word: many articles hold it
        "Cannot sign in: password expired after the latest update on my laptop",
        "xyzzy",  # a word no article holds
    ],
)
def test_the_staff_panel_costs_three_statements_at_most_whatever_the_subject(people, publish_as, subject):
    for i in range(6):
        publish_as(title=f"Password expired on device {i}", is_known_error=i % 2 == 0, workaround="Reset it.")
    publish_as(title="Reset your password yourself")
    ticket = factories.make_ticket(subject=subject)
    with CaptureQueriesContext(connection) as queries:
        context = panels.ticket_panel_context(people["agent"], ticket)
    # The linked articles, the words' weights, the known errors (none to look for when no word weighs).
    assert len(queries) == (2 if subject == "xyzzy" else 3)
    assert context is not None and context["staff"] is True
    if "password" in subject:
        found = {v.title for v in context["known_errors"]}
        assert found == {f"Password expired on device {i}" for i in (0, 2, 4)}  # known errors only


def test_known_errors_are_found_through_their_own_index(people):
    """With many articles, the known errors a subject matches are read through their own partial index,
    not by reading every live version that holds a common word (the benchmark's articles, at a test size)."""
    knowledgebase_bench.seed(OutputWrapper(io.StringIO()), 5_000, vacuum=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledgebase_articleversion")
    with CaptureQueriesContext(connection) as queries:
        found = search.known_error_versions(people["agent"], "Outlook password expired")
    assert found and all(version.is_known_error for version in found)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "kb_version_known_error_idx" in plan, plan
    assert "kb_version_search_idx" not in plan, plan
