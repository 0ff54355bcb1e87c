"""Rate limits on what people can do over and over: open tickets, reply, give KB feedback, answer
surveys, ask for password resets.

One call per behaviour, at the service (or, for the password reset, the view) that every way in
shares: ``enforce(action, user=..., staff=...)`` counts one attempt and raises ``RateLimited``
(a ``ValidationError`` carrying ``retry_after`` seconds) once the caller is past a limit. So
pages show it where they show any refusal (form error or message, what was typed kept), the
API answers 429 with ``Retry-After`` (``helpdesk.core.api.exception_handler``), and inbound
mail over the limit is held for an admin (``tickets.mail.inbound``), never acknowledged.

Who is counted:

* the person (``user``, or for anonymous actions an ``identity`` such as the e-mail address a
  reset is asked for), with a generous limit for staff (agents log phone calls in bursts);
* the client address of the web request (``client_address``: ``PROXY_COUNT`` reverse proxies
  honoured, the same address django-axes locks out) for everyone but staff, so one machine
  cannot spread a flood over many accounts, while the agents of an office behind one address
  do not use up its requesters' allowance.

Limits apply to what comes from outside: a web request (``RateLimitMiddleware`` opens the
context with its client address) or an inbound e-mail (``tickets.mail.inbound`` opens one
without an address). Service calls from commands, Celery tasks, seeding and tests run outside
any such context and are not counted.

Counting is a fixed window per (action, scope, who): ``INCR`` and ``EXPIREAT`` in one
MULTI/EXEC round trip to Redis, so every web worker shares the counters and a parallel burst
lets exactly the limit through. When that Redis is down or hung (the client's socket timeout is
short, ``RATE_LIMIT_REDIS_TIMEOUT``), the same counting is an upsert into ``RateCounter`` in
PostgreSQL, and Redis is left alone for ``RATE_LIMIT_REDIS_RETRY_SECONDS``. Counters do not
move between the two: a window that starts on one and ends on the other may let up to twice
the limit through, once.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from redis.backoff import NoBackoff
from redis.retry import Retry

from .cache import REDIS_FAILURES, outage_of

if TYPE_CHECKING:
    from .models import User

logger = logging.getLogger(__name__)

# The limited actions (keys of settings.RATE_LIMITS) and how a refusal names them.
CREATE_TICKET = "create_ticket"
REPLY = "reply"
KB_FEEDBACK = "kb_feedback"
SURVEY_ANSWER = "survey_answer"
PASSWORD_RESET = "password_reset"  # noqa: S105 - an action name, not a password
ACTION_NOUNS = {
    CREATE_TICKET: "new tickets",
    REPLY: "replies",
    KB_FEEDBACK: "feedback answers",
    SURVEY_ANSWER: "survey answers",
    PASSWORD_RESET: "password reset requests",
}
# The scopes a limit is given for, per action, in settings.RATE_LIMITS.
USER, STAFF, ADDRESS = "user", "staff", "address"

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Expired windows removed by each fallback count: enough to keep up with the counting itself.
_PURGE_BATCH = 100


@dataclass(frozen=True)
class Rate:
    """At most ``count`` attempts per fixed window of ``seconds``."""

    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """``"10/600"``, ``"10/10m"``, ``"3/h"`` -> ``Rate``; ``ImproperlyConfigured`` for anything else."""
    match = _RATE.match(text or "")
    if not match:
        raise ImproperlyConfigured(f"Not a rate limit: {text!r} (write e.g. 10/600, 10/10m or 3/h).")
    count, amount, unit = match.groups()
    seconds = int(amount or 1) * _UNIT_SECONDS[unit]
    if seconds <= 0:
        raise ImproperlyConfigured(f"Not a rate limit: {text!r} (the window must be longer than 0).")
    return Rate(int(count), seconds)


@checks.register
def check_rate_limits(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Every ``RATE_LIMITS`` entry must parse, so a mistyped variable stops ``migrate``, not a request."""
    errors: list[checks.CheckMessage] = []
    for action, scopes in settings.RATE_LIMITS.items():
        for scope, text in scopes.items():
            try:
                parse_rate(text)
            except ImproperlyConfigured as exc:
                errors.append(
                    checks.Error(str(exc), obj=f"RATE_LIMIT_{action.upper()}_{scope.upper()}", id="helpdesk.E010")
                )
    return errors


class RateLimited(ValidationError):
    """Refused because its author is past a rate limit; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, action: str, retry_after: int):
        self.action = action
        self.retry_after = max(int(retry_after), 1)
        wait = (
            f"{self.retry_after} seconds" if self.retry_after < 120 else f"{math.ceil(self.retry_after / 60)} minutes"
        )
        noun = ACTION_NOUNS.get(action, "attempts")
        super().__init__(f"Too many {noun} in a short time. Please try again in {wait}.", code="rate_limited")


# --------------------------------------------------------------------------- the context


@dataclass
class _Context:
    """Where the current action comes from; ``refused`` is set when the limiter said no."""

    address: str | None
    refused: RateLimited | None = field(default=None)


_context: contextvars.ContextVar[_Context | None] = contextvars.ContextVar("helpdesk_ratelimit", default=None)


@contextmanager
def limited(*, address: str | None) -> Iterator[_Context]:
    """Count the actions done inside the block, as coming from client ``address`` (None: no address, e.g. mail)."""
    context = _Context(address=address)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def client_address(request: HttpRequest) -> str | None:
    """The address of the client that made ``request``: ``REMOTE_ADDR``, or behind ``PROXY_COUNT``
    reverse proxies the entry of ``X-Forwarded-For`` that the outermost of them added.

    Each proxy appends the address it was contacted from, so the last ``PROXY_COUNT`` entries
    are ours to trust and anything left of them is what the client chose to send. With fewer
    entries than proxies the header is not what our proxies write, and ``REMOTE_ADDR`` is used.
    django-axes uses this too (``AXES_CLIENT_IP_CALLABLE``): lockouts and limits agree.
    """
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RateLimitMiddleware:
    """Opens the limiter's context for each web request, with its ``client_address``.

    A page that shows a refusal by the limiter (re-rendered form, status 200 or 400) goes out
    as 429 with ``Retry-After``. A redirect keeps its status and gets the header (ticket actions
    go back to the ticket page, which shows the message and the form as typed). The API's 429
    comes from its exception handler.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with limited(address=client_address(request)) as context:
            response = self.get_response(request)
        if context.refused is not None:
            if response.status_code in (200, 400):
                response.status_code = 429
                response.reason_phrase = "Too Many Requests"
            response["Retry-After"] = str(context.refused.retry_after)
        return response


# --------------------------------------------------------------------------- counting


def enforce(action: str, *, user: User | None = None, identity: str = "", staff: bool = False) -> None:
    """Count one ``action`` by ``user`` (or by ``identity`` when nobody is signed in) and by the
    request's client address; raise ``RateLimited`` if either is now past its limit.

    Invariants: does nothing outside a ``limited`` context (commands, tasks, tests calling
    services), for an action without limits, or when neither a person nor an address is
    known. Staff are counted by person only, under the ``staff`` limit. A refused attempt
    counts too (a client hammering past the limit stays refused).
    Side effects: one Redis round trip; while Redis is unavailable, one upsert statement in
    the caller's transaction instead. Call it before the action writes anything.
    """
    context = _context.get()
    if context is None:
        return
    limits = settings.RATE_LIMITS.get(action)
    if not limits:
        return
    counted: list[tuple[str, Rate]] = []
    who = f"user:{user.pk}" if user is not None and user.pk is not None else _hashed(identity)
    if who:
        scope = STAFF if staff else USER
        if scope in limits:
            counted.append((f"{action}:{scope}:{who}", parse_rate(limits[scope])))
    if context.address and not staff and ADDRESS in limits:
        counted.append((f"{action}:{ADDRESS}:{context.address}", parse_rate(limits[ADDRESS])))
    if not counted:
        return
    now = time.time()
    windows = [(key, rate, _window_start(now, rate)) for key, rate in counted]
    counts = _count_in_redis(windows)
    if counts is None:
        counts = _count_in_postgres(windows)
    waits = [
        start + rate.seconds - now
        for (key, rate, start), count in zip(windows, counts, strict=True)
        if count > rate.count
    ]
    if waits:
        refusal = RateLimited(action, math.ceil(max(waits)))
        context.refused = refusal
        logger.info(
            "rate limit: %s refused (%s), retry after %s s",
            action,
            ", ".join(k for k, *_ in windows),
            refusal.retry_after,
        )
        raise refusal


def _hashed(identity: str) -> str:
    """An anonymous identity (an e-mail address) as a key part that does not spell it out."""
    identity = identity.strip().lower()
    return f"id:{hashlib.sha256(identity.encode()).hexdigest()[:32]}" if identity else ""


def _window_start(now: float, rate: Rate) -> int:
    return int(now // rate.seconds) * rate.seconds


# Per Redis URL and timeout: its client.
_clients: dict[tuple[str, float], redis.Redis] = {}


def _redis_url() -> str:
    return settings.RATE_LIMIT_REDIS_URL or settings.CACHES["default"]["LOCATION"]


def _redis(url: str) -> redis.Redis:
    timeout = settings.RATE_LIMIT_REDIS_TIMEOUT
    client = _clients.get((url, timeout))
    if client is None:
        # Short bounds both ways and no retries: a hung Redis costs one request this long,
        # then the fallback takes over for RATE_LIMIT_REDIS_RETRY_SECONDS.
        client = _clients[(url, timeout)] = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
    return client


def _count_in_redis(windows: list[tuple[str, Rate, int]]) -> list[int] | None:
    """The counts after this attempt, from Redis in one round trip; None if Redis is unavailable."""
    url = _redis_url()
    outage = outage_of(
        [url], settings.RATE_LIMIT_REDIS_RETRY_SECONDS, "Redis of the rate limiter", "counting in PostgreSQL"
    )
    if not outage.may_try():
        return None
    database = connection.settings_dict["NAME"]  # make run and the benchmark share one Redis
    try:
        pipe = _redis(url).pipeline(transaction=True)
        for key, rate, start in windows:
            name = f"ratelimit:{database}:{key}:{start}"
            pipe.incr(name)
            pipe.expireat(name, start + rate.seconds + 1)
        replies = pipe.execute()
    except REDIS_FAILURES as exc:
        outage.failed(exc)
        return None
    outage.ended()
    return [int(count) for count in replies[::2]]


def _count_in_postgres(windows: list[tuple[str, Rate, int]]) -> list[int]:
    """The counts after this attempt, from ``RateCounter``: one statement that purges a few ended
    windows and upserts each counter (rows in key order, so concurrent counts never deadlock)."""
    from .models import RateCounter

    table = RateCounter._meta.db_table
    now = datetime.now(UTC)
    rows = sorted(
        (key, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + rate.seconds, UTC))
        for key, rate, start in windows
    )
    values = ", ".join("(%s, %s, %s, 1)" for _ in rows)
    sql = (
        f"WITH purged AS (DELETE FROM {table} WHERE id IN ("  # noqa: S608 - table name from the model
        f"SELECT id FROM {table} WHERE expires_at < %s LIMIT {_PURGE_BATCH} FOR UPDATE SKIP LOCKED)) "
        f"INSERT INTO {table} (key, window_start, expires_at, count) VALUES {values} "
        "ON CONFLICT (key, window_start) DO UPDATE SET count = "
        f"{table}.count + 1 RETURNING key, count"
    )
    params: list[str | datetime] = [now - timedelta(seconds=1)]
    for row in rows:
        params.extend(row)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
    return [counts[key] for key, *_ in windows]
