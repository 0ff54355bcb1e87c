"""Django's Redis cache with one Redis client object per connection pool, made once, and keys
that name the database they mirror.

Django's client builds a new ``redis.Redis`` for every cache call, and that constructor fills
a table of some 170 response callbacks: on this project's hot pages (session, queue counts,
cached fragments) it cost more than the round trips. A ``redis.Redis`` is thread-safe and
takes its connections from the pool per command, so one per pool serves every call.

``make_key`` (the ``KEY_FUNCTION``) puts the current database's name into every key: what the
cache holds (queue counts, option lists, median windows, sessions) describes one database, and
``make run`` and the benchmark's scratch database share one embedded Redis.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection


def make_key(key: str, key_prefix: str, version: int) -> str:
    return f"{key_prefix}:{version}:{connection.settings_dict['NAME']}:{key}"


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
