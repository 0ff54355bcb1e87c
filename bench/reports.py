"""Benchmark section of the reports app (``make bench``): the 90-day dashboard at a million tickets.

Uses the tickets already seeded by ``bench.tickets`` and adds, in SQL, what reports read: the
status changes the seeded histories lack (resolved tickets leave the backlog), the
first-response and resolution SLA clocks those histories imply (met on time for most, late for
one in ten, running for open tickets) and a satisfaction survey per resolved ticket (a third
answered). Then builds the daily rollup the way beat does and loads the dashboard page and the
figures API through gunicorn with wrk. The SQL takes its table and column names from the
models (``reports.kpis.tables``).
"""

# SQL here is assembled from the models' names only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from bench.tools import gunicorn_server, report, session_cookie, settle_after_seeding, warm_up, wrk
from reports import rollup
from reports.kpis.tables import CLOCK, DAILY_FIGURE, EVENT, SURVEY, TICKET, Names
from reports.models import RollupDay
from tickets import roles

TARGET_P50_MS = 300

T, C, S, E = TICKET, CLOCK, SURVEY, EVENT


def _columns(names: Names, fields: list[str]) -> str:
    return ", ".join(names.column(field) for field in fields)


CLOCK_COLUMNS = [
    "ticket_id",
    "metric",
    "scope",
    "cycle",
    "policy_id",
    "target_seconds",
    "warning_percent",
    "started_at",
    "accrued_seconds",
    "accrued_at",
    "state",
    "pause_reason",
    "due_at",
    "warn_at",
    "ended_at",
    "warned",
    "breached",
]
CLOCKS_SQL = f"""
INSERT INTO {C.table} ({_columns(C, CLOCK_COLUMNS)})
SELECT t.{T.id}, 'first_response', 0, 1, NULL::bigint, 14400, 75, t.{T.created_at},
       CASE WHEN t.{T.id} %% 10 = 0 THEN 18000 ELSE 60 * (1 + t.{T.id} %% 200) END,
       COALESCE(t.{T.first_response_at}, t.{T.created_at}),
       CASE WHEN t.{T.first_response_at} IS NULL THEN 'running' ELSE 'met' END, '',
       CASE WHEN t.{T.first_response_at} IS NULL OR t.{T.id} %% 10 = 0 THEN t.{T.created_at} + interval '4 hours' END,
       NULL::timestamptz, t.{T.first_response_at}, false, t.{T.id} %% 10 = 0
FROM {T.table} t WHERE t.{T.id} > %(after)s AND t.{T.id} <= %(until)s
UNION ALL
SELECT t.{T.id}, 'resolution', 0, 1, NULL::bigint, 86400, 75, t.{T.created_at},
       CASE WHEN t.{T.id} %% 10 = 3 THEN 90000 ELSE 3600 + 37 * (t.{T.id} %% 1000) END,
       COALESCE(t.{T.resolved_at}, t.{T.created_at}),
       CASE WHEN t.{T.resolved_at} IS NULL THEN 'running' ELSE 'met' END, '',
       CASE WHEN t.{T.resolved_at} IS NULL OR t.{T.id} %% 10 = 3 THEN t.{T.created_at} + interval '3 days' END,
       NULL::timestamptz, t.{T.resolved_at}, false, t.{T.id} %% 10 = 3
FROM {T.table} t WHERE t.{T.id} > %(after)s AND t.{T.id} <= %(until)s
ON CONFLICT DO NOTHING
"""

SURVEY_COLUMNS = ["ticket_id", "cycle", "resolved_at", "sent_at", "score", "comment", "answered_at"]
SURVEYS_SQL = f"""
INSERT INTO {S.table} ({_columns(S, SURVEY_COLUMNS)})
SELECT t.{T.id}, 1, t.{T.resolved_at}, t.{T.resolved_at},
       CASE WHEN t.{T.id} %% 3 = 0 THEN 1 + t.{T.id} %% 5 END, '',
       CASE WHEN t.{T.id} %% 3 = 0 THEN t.{T.resolved_at} + interval '1 hour' END
FROM {T.table} t WHERE t.{T.id} > %(after)s AND t.{T.id} <= %(until)s AND t.{T.resolved_at} IS NOT NULL
ON CONFLICT DO NOTHING
"""


EVENT_COLUMNS = ["ticket_id", "actor_id", "kind", "at", "data", "internal"]
STATUS_SQL = f"""
INSERT INTO {E.table} ({_columns(E, EVENT_COLUMNS)})
SELECT t.{T.id}, NULL, 'status_changed', t.{T.resolved_at}, '{{"from": "open", "to": "resolved"}}'::jsonb, false
FROM {T.table} t
WHERE t.{T.id} > %(after)s AND t.{T.id} <= %(until)s AND t.{T.resolved_at} IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {E.table} e WHERE e.{E.ticket_id} = t.{T.id} AND e.{E.kind} = 'status_changed')
"""


def seeded() -> bool:
    """Whether a kept scratch database holds the reports data (its rollup is built last)."""
    return RollupDay.objects.exists()


def seed(out) -> None:
    """SLA clocks and surveys for every seeded ticket, in SQL chunks, then the rollup (as beat builds it).

    Tickets that already have them (made through the services by other sections) are left alone.
    """
    out.write("\n== Reports: seeding status changes, SLA clocks and surveys for the seeded tickets (SQL)")
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"SELECT coalesce(min({T.id}), 0), coalesce(max({T.id}), 0) FROM {T.table}")
        low, high = cur.fetchone()
        after = low - 1
        while after < high:
            until = after + 100_000
            cur.execute(STATUS_SQL, {"after": after, "until": until})
            cur.execute(CLOCKS_SQL, {"after": after, "until": until})
            cur.execute(SURVEYS_SQL, {"after": after, "until": until})
            after = until
        vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"  # tests run inside a transaction
        cur.execute(f"{vacuum} {C.table}")
        cur.execute(f"{vacuum} {S.table}")
        cur.execute(f"{vacuum} {E.table}")
        cur.execute(f"SELECT (SELECT count(*) FROM {C.table}), (SELECT count(*) FROM {S.table})")
        clocks, surveys = cur.fetchone()
    out.write(f"  {clocks:,} clocks, {surveys:,} surveys in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    result = rollup.refresh_rollup(horizon=185)
    with connection.cursor() as cur:
        cur.execute(f"{vacuum} {DAILY_FIGURE.table}")
    settle_after_seeding()
    elapsed = time.perf_counter() - started
    out.write(f"  rollup of {result['days']} closed days ({result['rows']:,} rows) built in {elapsed:.0f} s")


def measure(out, *, seconds: int, connections: int) -> None:
    user_model = get_user_model()
    manager, _ = user_model.objects.get_or_create(username="bench-manager", defaults={"email": "bm@example.com"})
    manager.groups.add(roles.group(roles.GROUP_MANAGER))
    token = Token.objects.get_or_create(user=manager)[0].key
    cookie = session_cookie(manager)
    pages = [
        ("dashboard, 90 days", "/dashboard/?period=90d", {"Cookie": cookie}),
        ("figures API, 90 days", "/api/reports/figures/?period=90d", {"Authorization": f"Token {token}"}),
        ("dashboard, 30 days, tier 2", "/dashboard/?period=30d&tier=2", {"Cookie": cookie}),
    ]
    out.write("\n== Reports: in process (SQL statements, one request)")
    client = Client(HTTP_HOST="localhost")
    for name, path, headers in pages:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, headers=headers)
        out.write(
            f"  {name:<28} status {response.status_code}, {len(queries)} SQL statements, "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
    out.write(f"\n== Reports: HTTP load with wrk through gunicorn, {connections} connections, {seconds} s")
    with gunicorn_server() as base:
        for name, path, headers in pages:
            warm_up(base + path, headers=headers)
            result = wrk(base + path, seconds=seconds, connections=connections, headers=headers)
            report(out, f"GET {name}", result)
            if name.startswith("dashboard, 90"):
                met = result.requests_per_second > 0 and 0 < result.p50_ms < TARGET_P50_MS and not result.errors
                verdict = "OK" if met else "NOT MET"
                out.write(f"    target p50 < {TARGET_P50_MS} ms: {verdict} (at {timezone.now():%Y-%m-%d %H:%M})")
