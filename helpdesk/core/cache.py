"""Django's Redis cache, for which Redis is a helper and never a single point of failure.

Redis out of reach. Every page reads the session and some cached figures, so a cache that
raises when Redis is stopped turns every signed-in page into a 500, and one that waits on a
hung Redis ties up every web worker. Here:

* the connection pool has bounded connect and read timeouts (``socket_connect_timeout`` and
  ``socket_timeout`` in ``OPTIONS``; see ``REDIS_TIMEOUT_SECONDS`` in the settings), and
  redis-py retries nothing when it is given a pool;
* a call that fails answers as an empty cache that keeps nothing would: reads miss, writes
  and deletes do nothing, ``incr`` finds no key. Everything cached is derived from PostgreSQL
  (``cached_db`` sessions are written there first), so callers compute it live;
* after a failure the process leaves Redis alone for ``retry_seconds`` (an ``OPTIONS`` entry
  of ours, ``CACHE_RETRY_SECONDS``), so a hung Redis costs a request at most one timeout
  instead of one per cache call, and the outage is logged once when it starts and once when
  it ends, not per call;
* the first call that reaches Redis again empties the cache before anything is read from it:
  while Redis was out, deletes and writes were lost (a logged-out session, counts
  forgotten after a change), so what it still holds may be stale. Emptying it costs only
  misses. A process that saw no failure does not know of the outage; it relies on the
  processes that did (every busy one) to empty the cache.

Speed. Django's client builds a new ``redis.Redis`` for every cache call, and that
constructor fills a table of some 170 response callbacks: on this project's hot pages
(session, queue counts, cached fragments) it cost more than the round trips. A
``redis.Redis`` is thread-safe and takes its connections from the pool per command, so one
per pool serves every call.

``make_key`` (the ``KEY_FUNCTION``) puts the current database's name into every key: what the
cache holds (queue counts, option lists, median windows, sessions) describes one database, and
``make run`` and the benchmark's scratch database share one embedded Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What "Redis is out of reach" looks like: refused, timed out, or refusing commands (out of
# memory, loading its data, a read-only replica). OSError covers a socket error redis-py
# did not wrap.
REDIS_FAILURES = (redis.RedisError, OSError)


def make_key(key: str, key_prefix: str, version: int) -> str:
    return f"{key_prefix}:{version}:{connection.settings_dict['NAME']}:{key}"


class Outage:
    """Whether one Redis server is out of reach for one use (``what``) in this process, and when
    to try it again.

    Shared by every client of the process that talks to that server for that use (Django makes
    one cache object per thread; the rate limiter has its own). Only the start and the end of an
    outage are logged.
    """

    def __init__(
        self, retry_seconds: float, what: str = "Redis cache", meanwhile: str = "pages are served without it"
    ) -> None:
        self.retry_seconds = retry_seconds
        self.what = what
        self.meanwhile = meanwhile
        self.since: float | None = None  # monotonic time of the first failure; None: reachable
        self.next_try = 0.0
        self._lock = threading.Lock()

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def may_try(self) -> bool:
        """True when Redis is thought reachable, or its pause after the last failure is over."""
        return self.since is None or time.monotonic() >= self.next_try

    def failed(self, exc: BaseException) -> None:
        """Record a failed call; the first one of an outage is logged."""
        now = time.monotonic()
        with self._lock:
            self.next_try = now + self.retry_seconds
            if self.since is None:
                self.since = now
                logger.warning(
                    "%s out of reach (%s: %s): %s, retrying every %g s",
                    self.what,
                    type(exc).__name__,
                    exc,
                    self.meanwhile,
                    self.retry_seconds,
                )

    def ended(self) -> None:
        with self._lock:
            if self.since is not None:
                logger.info("%s reachable again after %.1f s", self.what, time.monotonic() - self.since)
                self.since = None


_outages: dict[tuple[str, tuple[str, ...], float], Outage] = {}
_outages_lock = threading.Lock()


def outage_of(
    servers: Sequence[str],
    retry_seconds: float,
    what: str = "Redis cache",
    meanwhile: str = "pages are served without it",
) -> Outage:
    """The process-wide ``Outage`` of the Redis server(s) ``servers`` for the use ``what``.

    Each use has its own: the cache empties itself when Redis is back, which another user of the
    same server must not skip by ending the outage first.
    """
    key = (what, tuple(servers), retry_seconds)
    with _outages_lock:
        return _outages.setdefault(key, Outage(retry_seconds, what, meanwhile))


class ResilientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client whose failures are misses, with one ``redis.Redis`` per pool.

    ``retry_seconds`` (from the cache's ``OPTIONS``) is how long the process leaves Redis alone
    after a failed call; the other options go to redis-py's connection pool as in Django.
    """

    # Members of Django's client that its type stubs leave out.
    _client: type[redis.Redis]
    _get_connection_pool_index: Callable[[bool], int]
    _get_connection_pool: Callable[[bool], redis.ConnectionPool]

    def __init__(self, servers: list[str], *, retry_seconds: float = 5.0, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, redis.Redis] = {}
        self._outage = outage_of(servers, retry_seconds)

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client

    def _guarded(self, miss: T, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)``, or ``miss`` when Redis is out of reach (see the module's docstring)."""
        outage = self._outage
        if not outage.may_try():
            return miss
        try:
            if outage.ongoing:
                # The probe: Redis may be back, holding what the outage made stale; empty it
                # before anything is read from it.
                RedisCacheClient.clear(self)
                outage.ended()
            return call(*args)
        except REDIS_FAILURES as exc:
            outage.failed(exc)
            return miss

    def add(self, key, value, timeout):
        return self._guarded(False, super().add, key, value, timeout)

    def get(self, key, default):
        return self._guarded(default, super().get, key, default)

    def set(self, key, value, timeout):
        return self._guarded(None, super().set, key, value, timeout)

    def touch(self, key, timeout):
        return self._guarded(False, super().touch, key, timeout)

    def delete(self, key):
        return self._guarded(False, super().delete, key)

    def get_many(self, keys):
        nothing: dict[Any, Any] = {}
        return self._guarded(nothing, super().get_many, keys)

    def has_key(self, key):
        return self._guarded(False, super().has_key, key)

    def incr(self, key, delta):
        result = self._guarded(None, super().incr, key, delta)
        if result is None:  # as Django's own client does for a key the cache does not hold
            raise ValueError(f"Key '{key}' not found.")
        return result

    def set_many(self, data, timeout):
        return self._guarded(None, super().set_many, data, timeout)

    def delete_many(self, keys):
        return self._guarded(None, super().delete_many, keys)

    def clear(self):
        return self._guarded(False, super().clear)


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
