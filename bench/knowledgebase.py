"""Benchmark sections of the knowledge base (``make bench``): seed up to 100,000 published articles
in SQL (the trigger computes each search vector), then load the search page and the suggestions
through gunicorn with wrk, against the targets search p50 < 20 ms and suggestions p50 < 30 ms."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.tools import (
    default_workers,
    gunicorn_server,
    report,
    session_cookie,
    settle_after_seeding,
    warm_up,
    wrk,
)
from knowledgebase import search
from knowledgebase.models import Article, Category
from tickets import roles

CHUNK = 20_000
SEARCH_TARGET_MS = 20
SUGGEST_TARGET_MS = 30
SEARCH_QUERY = "outlook password"
SUGGEST_QUERY = "vpn disconnects every hou"  # someone typing "every hour"

PRODUCTS = [
    "Outlook", "Teams", "VPN", "Wi-Fi", "printer", "scanner", "laptop", "docking station", "monitor", "headset",
    "keyboard", "mouse", "webcam", "OneDrive", "SharePoint", "Excel", "Word", "PowerPoint", "browser", "Chrome",
    "Edge", "Firefox", "SAP", "Salesforce", "Citrix", "Zoom", "Slack", "Jira", "Confluence", "GitHub",
    "password", "MFA", "badge", "desk phone", "smartphone", "tablet", "BitLocker", "antivirus", "firewall", "proxy",
    "DNS", "network drive", "shared mailbox", "calendar", "meeting room display", "projector", "Bluetooth", "USB stick",
    "battery", "charger", "Windows Update", "macOS", "Linux", "Adobe Reader", "Acrobat", "Visio", "OneNote",
    "Power BI", "Workday", "ServiceNow",
]  # fmt: skip
SYMPTOMS = [
    "crashes on start", "is very slow", "will not start", "keeps asking for the password",
    "shows error 0x80070005", "disconnects every hour", "freezes when saving", "cannot sync files",
    "prints blank pages", "has no sound", "does not connect", "shows a certificate warning",
    "loses its settings after a restart", "cannot find the server", "runs out of space", "flickers", "overheats",
    "is locked", "will not update", "shows an activation error", "cannot open attachments", "is missing from the menu",
    "drains the battery", "stops responding", "reports a licence error", "cannot be installed",
    "opens in the wrong language", "shows a blank screen", "signs me out", "cannot share the screen",
]  # fmt: skip
CONTEXTS = [
    "after the latest update", "on battery", "when working from home", "in meeting rooms", "on the guest network",
    "after a password change", "on a new laptop", "with two screens", "when travelling", "since Monday",
    "for the whole team", "on the second floor",
]  # fmt: skip
SENTENCES = [
    "Restart the device and try again before anything else.",
    "Check that the latest updates are installed from Software Center.",
    "Sign out, wait a minute and sign in again with your company account.",
    "Clear the cache in the settings and reopen the application.",
    "Make sure the cable is firmly plugged in at both ends.",
    "Connect to the office network or the VPN so policies can refresh.",
    "Remove the stored credentials in Credential Manager.",
    "Run the built-in troubleshooter and follow its advice.",
    "If the problem affects several colleagues, it is probably an outage: check the status page.",
    "Note the exact error message and the time it appeared.",
    "Try a different port, room or network to narrow it down.",
    "Free up disk space by emptying the downloads folder.",
    "Reinstall the application from Software Center if nothing else helps.",
    "Ask a colleague whether it works on their device.",
    "Disable browser extensions one by one.",
    "Check the date, time and time zone of the device.",
    "Update the firmware with the vendor's tool.",
    "Reset the application's settings to their defaults.",
    "Switch off power saving for the adapter.",
    "Collect the logs and attach them to a ticket if you still need help.",
]  # fmt: skip

ARTICLES_SQL = """
INSERT INTO knowledgebase_article (
    title, summary, body, tags, category_id, visibility, is_known_error, workaround, status,
    created_by_id, created_at, updated_by_id, updated_at, view_count, helpful_count, not_helpful_count
)
SELECT
    product || ' ' || symptom || ' ' || context,
    'What to do when ' || product || ' ' || symptom || ' ' || context || '.',
    'When ' || product || ' ' || symptom || ', start here. '
        || s1 || ' ' || s2 || E'\\n\\n' || s3 || ' ' || s4 || E'\\n\\nReference ' || md5(g::text) || '.',
    ARRAY[lower(product), 'bench'],
    %(cat_min)s + g %% %(cat_count)s,
    CASE WHEN (g / 60) %% 10 = 3 THEN 'internal' ELSE 'public' END,
    (g / 13) %% 25 = 0,
    CASE WHEN (g / 13) %% 25 = 0 THEN 'Use the web version of ' || product || ' until the fix is out.' ELSE '' END,
    'published',
    %(author)s, created, %(author)s, created, g %% 500, g %% 37, g %% 5
FROM (
    SELECT g,
        (%(products)s::text[])[1 + g %% %(np)s] AS product,
        (%(symptoms)s::text[])[1 + (g / %(np)s) %% %(ns)s] AS symptom,
        (%(contexts)s::text[])[1 + (g / 7) %% %(nc)s] AS context,
        (%(sentences)s::text[])[1 + (g / 60 * 7 + g) %% %(nt)s] AS s1,
        (%(sentences)s::text[])[1 + (g / 60 * 13 + g + 5) %% %(nt)s] AS s2,
        (%(sentences)s::text[])[1 + (g / 7 * 31 + 11) %% %(nt)s] AS s3,
        (%(sentences)s::text[])[1 + (g / 11 * 17 + 3) %% %(nt)s] AS s4,
        now() - (%(total)s - g) * interval '5 minutes' AS created
    FROM generate_series(%(start)s, %(stop)s) AS g
) AS x
"""

# The seeded bodies are plain sentences (no Markdown), so their plain text is the body with its
# line breaks folded, as ``knowledgebase.markdown.plain_text`` gives it.
VERSIONS_SQL = """
INSERT INTO knowledgebase_articleversion (
    article_id, number, title, summary, body, body_text, tags, category_id, visibility, is_known_error, workaround,
    author_id, reviewer_id, published_at, is_live
)
SELECT id, 1, title, summary, body, regexp_replace(body, '\\s+', ' ', 'g'), tags, category_id, visibility,
       is_known_error, workaround, created_by_id, %(reviewer)s, created_at, true
FROM knowledgebase_article WHERE id > %(after)s
"""


def _bench_people():
    user_model = get_user_model()
    author, _ = user_model.objects.get_or_create(username="bench-kb-author", defaults={"email": "kba@example.com"})
    reviewer, _ = user_model.objects.get_or_create(username="bench-kb-reviewer", defaults={"email": "kbr@example.com"})
    requester, _ = user_model.objects.get_or_create(
        username="bench-kb-requester", defaults={"email": "kbq@example.com"}
    )
    requester.groups.add(roles.group(roles.GROUP_REQUESTER))
    return author, reviewer, requester


def seeded() -> bool:
    """Whether a kept scratch database already holds the seeded articles."""
    return Article.objects.filter(created_by__username="bench-kb-author").exists()


def seed(out, total: int = 100_000, *, vacuum: bool = True) -> None:
    """Seed ``total`` published articles (10 % internal, 4 % known errors) with their live versions.

    ``vacuum=False`` skips VACUUM ANALYZE (it cannot run inside the tests' transaction).
    """
    out.write(f"\n== Seeding {total:,} knowledge-base articles with their live versions (SQL, in chunks)")
    out.write("   60 products x 30 symptoms x 12 contexts; 10 % internal, 4 % known errors; vectors by the trigger")
    started = time.perf_counter()
    author, reviewer, _ = _bench_people()
    for i in range(12):
        Category.objects.get_or_create(slug=f"bench-{i}", defaults={"name": f"Bench shelf {i}", "position": 200 + i})
    categories = Category.objects.filter(slug__startswith="bench-")
    cat_min = min(categories.values_list("pk", flat=True))
    with connection.cursor() as cur:
        done = 0
        while done < total:
            stop = min(done + CHUNK, total)
            cur.execute("SELECT coalesce(max(id), 0) FROM knowledgebase_article")
            (after,) = cur.fetchone()
            params = {
                "products": PRODUCTS,
                "symptoms": SYMPTOMS,
                "contexts": CONTEXTS,
                "sentences": SENTENCES,
                "np": len(PRODUCTS),
                "ns": len(SYMPTOMS),
                "nc": len(CONTEXTS),
                "nt": len(SENTENCES),
                "cat_min": cat_min,
                "cat_count": categories.count(),
                "author": author.pk,
                "reviewer": reviewer.pk,
                "total": total,
                "start": done + 1,
                "stop": stop,
                "after": after,
            }
            cur.execute(ARTICLES_SQL, params)
            cur.execute(VERSIONS_SQL, params)
            done = stop
            rate = done / (time.perf_counter() - started)
            bar = "#" * int(30 * done / total)
            out.write(f"  [{bar:<30}] {done:>9,}/{total:,} articles  ({rate:,.0f}/s)", ending="\r")
            out.flush()
        out.write("")
        if vacuum:
            cur.execute("VACUUM ANALYZE knowledgebase_article")
            cur.execute("VACUUM ANALYZE knowledgebase_articleversion")
            settle_after_seeding()
        cur.execute("SELECT count(*) FROM knowledgebase_articleversion WHERE is_live AND search_vector IS NOT NULL")
        (vectors,) = cur.fetchone()
    out.write(f"  seeded {total:,} articles ({vectors:,} live vectors) in {time.perf_counter() - started:.0f} s")


def _explain(out, name: str, queryset) -> None:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, params)
        plan = [row[0] for row in cur.fetchall()]
    uses_gin = any("kb_version_search_idx" in line for line in plan)
    timing = next((line.strip() for line in plan if line.startswith("Execution Time")), "")
    out.write(f"  {name:<28} {timing}; GIN index used: {'yes' if uses_gin else 'NO'}")


def measure(out, *, seconds: int, connections: int) -> None:
    _, _, requester = _bench_people()
    cookie = session_cookie(requester)
    pages = [
        ("KB search page", "/kb/search/?" + urlencode({"q": SEARCH_QUERY}), SEARCH_TARGET_MS),
        ("KB suggestions (typing)", "/kb/suggest/?" + urlencode({"subject": SUGGEST_QUERY}), SUGGEST_TARGET_MS),
        ("KB home", "/kb/", None),
    ]
    out.write("\n== Knowledge base: SQL per request and query plans at this size (in process, as a requester)")
    out.write(
        f"  results remembered for {settings.KB_SEARCH_CACHE_SECONDS} s per query (KB_SEARCH_CACHE_SECONDS=0 "
        "measures every request against the database)"
    )
    client = Client(HTTP_HOST="localhost")
    for name, path, _ in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, HTTP_COOKIE=cookie)
        out.write(f"  {name:<28} status {response.status_code}, {len(queries)} SQL statements")
    parsed = search.parse(SEARCH_QUERY)
    assert parsed is not None  # SEARCH_QUERY has words
    matches = search.search_versions(requester, parsed).count()
    out.write(f"  “{SEARCH_QUERY}” matches {matches:,} articles a requester may read")
    _explain(out, "search (page 1)", search.search_versions(requester, parsed)[:10])

    # wrk repeats one query, so with the results cache on it measures cache hits. The targets are
    # judged with the cache off: every request searches the database, as a new query does.
    for label, extra_env, judged in (
        ("results cache off: every request searches the database", {"KB_SEARCH_CACHE_SECONDS": "0"}, True),
        (f"results cache on ({settings.KB_SEARCH_CACHE_SECONDS} s): the same query repeated", {}, False),
    ):
        out.write(
            f"\n== Knowledge base over HTTP: wrk through gunicorn ({default_workers()} workers), "
            f"{connections} connections, {seconds} s; {label}"
        )
        with gunicorn_server(extra_env=extra_env) as base:
            for name, path, target in pages:
                headers = {"Cookie": cookie}
                warm_up(base + path, headers=headers)
                result = wrk(base + path, seconds=seconds, connections=connections, headers=headers)
                report(out, f"GET {name}", result)
                if judged and target is not None:
                    verdict = "meets" if result.p50_ms < target else "MISSES"
                    out.write(f"    p50 {result.p50_ms:.1f} ms {verdict} the {target} ms target")
