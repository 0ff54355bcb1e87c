"""Rendered option lists of the agent queue page (filters, bulk actions), shared through the cache.

The queue filters and the bulk-action fields list every active category and every person
tickets can be assigned to. Rendering those selects costs more than the rest of the queue
page, and they change rarely, so their HTML is kept in the cache under a *version*: any save
or delete of a category, a user, a tier membership or a group, and any change of a user's
groups, bumps it (signals connected in ``TicketsConfig.ready``), and a fragment cut under an
older version is rendered again. A page never shows a list older than the last such change.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from django.core.cache import cache

FRAGMENT_SECONDS = 600


VERSION_KEY = "queue-options:version"


def bump_version(*args, **kwargs) -> None:
    """Signal receiver: the categories or people behind the option lists may have changed."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def fragment_key(name: str, *parts: object) -> str:
    return f"queue-options:{name}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def fragments(wanted: dict[str, tuple[str, Callable[[], str]]]) -> dict[str, str]:
    """``{name: html}`` for ``{name: (cache key, render)}``: cached HTML of the current version, else rendered.

    One cache round trip reads the version with every fragment; fragments rendered here are
    stored under the version read (a new version is created if none is set).
    """
    found = cache.get_many([VERSION_KEY, *(key for key, _ in wanted.values())])
    version = found.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, None):
            version = cache.get(VERSION_KEY)
    result, fresh = {}, {}
    for name, (key, render) in wanted.items():
        stored = found.get(key)
        if stored is not None and stored[0] == version:
            result[name] = stored[1]
        else:
            result[name] = render()
            fresh[key] = (version, result[name])
    if fresh:
        cache.set_many(fresh, FRAGMENT_SECONDS)
    return result
