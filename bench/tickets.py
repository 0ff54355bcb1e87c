"""Benchmark sections of the tickets app: seed up to a million tickets in SQL, then load the
hot pages through gunicorn with wrk (``make bench``)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from bench.tools import (
    default_workers,
    gunicorn_server,
    report,
    session_cookie,
    settle_after_seeding,
    warm_up,
    wrk,
)
from tickets import events
from tickets.events import record_events_bulk
from tickets.models import Channel, MessageKind, Status, Ticket, TicketMessage, Tier
from tickets.services import set_agent_tiers

CHUNK = 100_000
REQUESTERS = 10_000
# The ticket page is measured on a long ticket whose subject matches many knowledge-base articles.
PAGE_MESSAGES = 50
PAGE_EVENTS = 200
PAGE_SUBJECT = "Bench: password expired"
PAGE_TARGET_MS = 30

TICKETS_SQL = """
INSERT INTO tickets_ticket (
    subject, description, requester_id, channel, impact, urgency, priority, priority_reason, status, tier,
    assignee_id, vendor_id, vendor_reference, is_swarm, is_problem, resolution_note,
    created_at, updated_at, first_response_at, resolved_at, closed_at, sla_breached
)
SELECT
    'Bench ticket ' || g || ': ' || (ARRAY['printer jams', 'VPN drops', 'laptop is slow', 'mail bounces',
        'password expired', 'disk is full'])[1 + g %% 6],
    'Generated for the benchmark. **Markdown** body with a [link](https://example.com).',
    %(req_min)s + (g::bigint * 7919) %% %(req_count)s,
    (ARRAY['portal', 'email', 'phone', 'api'])[1 + g %% 4],
    'medium', 'medium', 1 + g %% 4, '',
    CASE WHEN s < 96 THEN 'closed' WHEN s = 96 THEN 'resolved' WHEN s IN (97, 98) THEN 'open'
         WHEN g %% 200 < 100 THEN 'new' ELSE 'pending_requester' END,
    tier,
    CASE WHEN s = 97 OR (s = 99 AND g %% 200 >= 100) THEN (ARRAY[%(a1)s, %(a2)s, %(a3)s])[tier] END,
    NULL, '', false, false,
    CASE WHEN s <= 96 THEN 'Fixed it.' ELSE '' END,
    created, created + interval '1 hour',
    CASE WHEN s <> 99 OR g %% 200 >= 100 THEN created + interval '30 minutes' END,
    CASE WHEN s <= 96 THEN created + interval '4 hours' END,
    CASE WHEN s < 96 THEN created + interval '8 days' END,
    false
FROM (
    SELECT g, g %% 100 AS s, 1 + (g / 7) %% 3 AS tier,
           now() - (%(total)s - g) * interval '60 seconds' AS created
    FROM generate_series(%(start)s, %(stop)s) AS g
) AS x
"""

# The history of each seeded ticket, with the data its kinds hold (``tickets.events``): run after
# MESSAGES_SQL, so each public reply's event names its message.
EVENTS_SQL = """
INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, at, data, internal)
SELECT id, requester_id, 'created', created_at,
       jsonb_build_object('channel', channel, 'priority', priority, 'tier', tier), false
  FROM tickets_ticket WHERE id > %(after)s
UNION ALL
SELECT m.ticket_id, m.author_id, 'replied', m.created_at, jsonb_build_object('message', m.id, 'side', 'agent'), false
  FROM tickets_ticketmessage m WHERE m.ticket_id > %(after)s AND m.kind = 'public'
UNION ALL
SELECT id, NULL, 'resolved', resolved_at, jsonb_build_object('note', resolution_note), false
  FROM tickets_ticket WHERE id > %(after)s AND resolved_at IS NOT NULL
UNION ALL
SELECT id, NULL, 'closed', closed_at, '{"why": "reopen window ended"}'::jsonb, false
  FROM tickets_ticket WHERE id > %(after)s AND closed_at IS NOT NULL
"""

MESSAGES_SQL = """
INSERT INTO tickets_ticketmessage (ticket_id, author_id, kind, body, channel, created_at)
SELECT id, COALESCE(assignee_id, %(a1)s), 'public', 'Could you restart and try again?', 'portal', first_response_at
  FROM tickets_ticket WHERE id > %(after)s AND first_response_at IS NOT NULL
UNION ALL
SELECT id, COALESCE(assignee_id, %(a1)s), 'internal', 'Checked the logs, nothing unusual.', 'portal',
       created_at + interval '20 minutes'
  FROM tickets_ticket WHERE id > %(after)s AND id %% 5 = 0
"""


def _bench_users():
    user_model = get_user_model()
    agents = []
    for tier in (Tier.T1, Tier.T2, Tier.T3):
        agent, _ = user_model.objects.get_or_create(
            username=f"bench-agent{tier}", defaults={"email": f"bench-agent{tier}@example.com"}
        )
        set_agent_tiers(user=agent, tiers=[tier])
        agents.append(agent)
    requester, _ = user_model.objects.get_or_create(username="bench-requester", defaults={"email": "br@example.com"})
    return agents, requester


def seeded() -> bool:
    """Whether a kept scratch database already holds seeded tickets."""
    return Ticket.objects.filter(requester__username__startswith="bench-req-").exists()


def seed(out, total: int) -> None:
    """Seed ``total`` tickets spread over the past (one a minute), like a desk's history: 96 % closed,
    1 % resolved, 3 % still open (new, open, waiting), over 10,000 requesters and tiers 1-3."""
    out.write(f"\n== Seeding {total:,} tickets with their events and messages (SQL, in chunks)")
    out.write("   96 % closed, 1 % resolved, 3 % open or waiting; tiers 1-3; 10,000 requesters")
    started = time.perf_counter()
    agents, _ = _bench_users()
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO core_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                   is_active, date_joined, receive_optional_email, time_zone, queue_columns)
               SELECT '!', false, 'bench-req-' || g, 'Bench', 'Requester ' || g, 'bench-req-' || g || '@example.com',
                      false, true, now(), true, '', '[]'::jsonb
               FROM generate_series(1, %s) AS g""",
            [REQUESTERS],
        )
        cur.execute("SELECT min(id), count(*) FROM core_user WHERE username LIKE 'bench-req-%'")
        req_min, req_count = cur.fetchone()
        done = 0
        while done < total:
            stop = min(done + CHUNK, total)
            cur.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
            (after,) = cur.fetchone()
            params = {
                "req_min": req_min,
                "req_count": req_count,
                "total": total,
                "start": done + 1,
                "stop": stop,
                "a1": agents[0].pk,
                "a2": agents[1].pk,
                "a3": agents[2].pk,
                "after": after,
            }
            cur.execute(TICKETS_SQL, params)
            cur.execute(MESSAGES_SQL, params)
            cur.execute(EVENTS_SQL, params)
            done = stop
            rate = done / (time.perf_counter() - started)
            bar = "#" * int(30 * done / total)
            out.write(f"  [{bar:<30}] {done:>9,}/{total:,} tickets  ({rate:,.0f}/s)", ending="\r")
            out.flush()
        out.write("")
        # As autovacuum would on a live system: statistics and the visibility map (index-only scans).
        cur.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")  # tests run in a transaction
        settle_after_seeding()
        cur.execute("SELECT (SELECT count(*) FROM tickets_ticketevent), (SELECT count(*) FROM tickets_ticketmessage)")
        events, messages = cur.fetchone()
    out.write(
        f"  seeded {total:,} tickets, {events:,} events, {messages:,} messages in {time.perf_counter() - started:.0f} s"
    )


def long_ticket(agent, requester) -> Ticket:
    """The ticket the page is measured on: open in tier 1, ``PAGE_MESSAGES`` messages, ``PAGE_EVENTS`` events.

    Written as the services write (each event by its constructor, recorded and announced with
    ``record_events_bulk``, so ``sla`` writes its clocks); made once, found again on a kept database.
    The replies alternate between the requester and the agent, with a status change around each
    and a few internal notes.
    """
    found = Ticket.objects.filter(subject=PAGE_SUBJECT, requester=requester).first()
    if found is not None:
        return found
    start = timezone.now() - timedelta(days=2)
    ticket = Ticket.objects.create(
        subject=PAGE_SUBJECT,
        description="My password expired and the reset page says my account is locked.",
        requester=requester,
        channel=Channel.PORTAL,
        priority=3,
        tier=Tier.T1,
        status=Status.NEW,
        created_at=start,
        updated_at=start,
    )
    history = [events.created(ticket, by=requester, at=start)]
    messages = []
    for n in range(PAGE_MESSAGES):
        at = start + timedelta(minutes=30 * (n + 1))
        author = agent if n % 2 == 0 else requester
        kind = MessageKind.INTERNAL if n % 10 == 9 else MessageKind.PUBLIC
        body = f"Message {n + 1}: **Markdown** with a [link](https://example.com) and a list:\n\n- one\n- two"
        messages.append(TicketMessage(ticket=ticket, author=author, kind=kind, body=body, created_at=at))
    TicketMessage.objects.bulk_create(messages)
    status = Status.NEW
    for message in messages:
        at = message.created_at
        if message.kind == MessageKind.INTERNAL:
            history.append(events.note_added(ticket, by=agent, message=message.pk, at=at))
            continue
        by_agent = message.author_id == agent.pk
        side: events.Side = "agent" if by_agent else "requester"
        history.append(events.replied(ticket, by=message.author, message=message.pk, side=side, at=at))
        moved_to = Status.PENDING_REQUESTER if by_agent else Status.OPEN
        history.append(events.status_changed(ticket, by=message.author, before=status, after=moved_to, at=at))
        status = moved_to
    # Assignments back and forth fill the history up to its size.
    n = 0
    while len(history) < PAGE_EVENTS:
        at = start + timedelta(minutes=30 * PAGE_MESSAGES + n + 1)
        before, after = (None, agent.pk) if n % 2 == 0 else (agent.pk, None)
        history.append(events.assigned(ticket, by=agent, before=before, after=after, at=at))
        n += 1
    last = history[-1]
    with transaction.atomic():
        record_events_bulk(history)
        Ticket.objects.filter(pk=ticket.pk).update(
            status=status,
            assignee=agent if n % 2 else None,
            first_response_at=messages[0].created_at,
            updated_at=last.at,
        )
    ticket.refresh_from_db()
    return ticket


def measure(out, *, seconds: int, connections: int) -> None:
    """The hot pages through gunicorn; run once the knowledge base is seeded (the ticket page shows its panel)."""
    agents, requester = _bench_users()
    agent = agents[0]
    agent_token = Token.objects.get_or_create(user=agent)[0].key
    requester_token = Token.objects.get_or_create(user=requester)[0].key
    cookie = session_cookie(agent)
    ticket = long_ticket(agent, requester)
    held = (ticket.messages.count(), ticket.events.count())
    out.write(
        f"\n== The ticket page is measured on {ticket.reference} “{ticket.subject}”: {held[0]} messages, "
        f"{held[1]} events, the knowledge-base panel on"
    )
    pages = [
        ("tier-1 queue page", "/queues/?queue=tier1", {"Cookie": cookie}),
        ("API ticket list", "/api/tickets/", {"Authorization": f"Token {agent_token}"}),
        ("API list (requester)", "/api/tickets/", {"Authorization": f"Token {requester_token}"}),
        ("ticket page", f"/tickets/{ticket.pk}/", {"Cookie": cookie}),
    ]
    out.write("\n== SQL statements per request at this size (in process)")
    client = Client(HTTP_HOST="localhost")
    statements = {}
    for name, path, headers in pages:
        client.get(path, headers=headers)  # the first request fills the caches a worker keeps
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, headers=headers)
        statements[name] = len(queries)
        out.write(f"  {name:<20} status {response.status_code}, {len(queries)} SQL statements")

    workers = default_workers()
    out.write(
        f"\n== HTTP load with wrk through gunicorn ({workers} workers), {seconds} s each: pages with {connections} "
        f"connections (latency), ticket creation with {workers} (throughput, one per worker)"
    )
    body = json.dumps(
        {
            "subject": "Bench: monitor flickers",
            "description": "Since this morning.",
            "impact": "low",
            "urgency": "medium",
        }
    )
    create_lua = (
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    with gunicorn_server() as base:
        for name, path, headers in pages:
            # Discarded first: each gunicorn worker's first requests load templates and code.
            warm_up(base + path, headers=headers)
            result = wrk(base + path, seconds=seconds, connections=connections, headers=headers)
            report(out, f"GET {name}", result)
            if name == "ticket page":
                if result.requests_per_second == 0:
                    verdict = f"no request completed in {seconds} s: run longer (--duration)"
                elif result.p50_ms < PAGE_TARGET_MS:
                    verdict = f"meets the {PAGE_TARGET_MS} ms target"
                else:
                    verdict = f"MISSES the {PAGE_TARGET_MS} ms target"
                out.write(f"    ticket page: p50 {result.p50_ms:.1f} ms ({verdict}), {statements[name]} SQL statements")
        creation = {"Authorization": f"Token {requester_token}"}
        warm_up(base + "/api/tickets/", headers=creation, lua=create_lua)
        result = wrk(
            base + "/api/tickets/",
            seconds=seconds,
            connections=workers,
            headers=creation,
            lua=create_lua,
        )
        report(out, "POST ticket creation (API)", result)
        _live_load(out, base, client, cookie=cookie, ticket_id=ticket.pk, seconds=seconds, workers=workers)


POLL_SECONDS = 5  # how often an open page asks (static/core/live.js)


def _live_load(out, base: str, client: Client, *, cookie: str, ticket_id: int, seconds: int, workers: int) -> None:
    """What open pages cost while nothing changes: each asks every POLL_SECONDS and gets a bodiless 304."""
    out.write(
        f"\n== Live pages: the poll of an open page (If-None-Match, nothing changed), {workers} connections, "
        f"{seconds} s"
    )
    for name, path in (("queue page poll", "/live/desk/"), ("ticket page poll", f"/live/tickets/{ticket_id}/")):
        etag = client.get(path, headers={"Cookie": cookie})["ETag"]
        headers = {"Cookie": cookie, "If-None-Match": etag}
        warm_up(base + path, headers=headers)
        result = wrk(base + path, seconds=seconds, connections=workers, headers=headers)
        report(out, f"GET {name} (304)", result)
        added = 100 / POLL_SECONDS
        share = 100 * added / result.requests_per_second if result.requests_per_second else float("nan")
        out.write(
            f"    100 open pages add {added:.0f} requests/s: {share:.1f} % of what the workers answer at "
            f"({result.requests_per_second:,.0f} requests/s)"
        )
