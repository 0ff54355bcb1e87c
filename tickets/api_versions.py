"""Optimistic concurrency over HTTP for tickets: the ETag is the ticket's ``version``, If-Match checks it.

The rule itself (a change built on an old version is refused) is ``tickets.services.versions``;
this module only reads and writes the headers and documents them.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions


def ticket_etag(version: int) -> str:
    """The ticket's ETag: its ``version``. Weak, because the body also varies with who reads it and
    with the SLA summary, while the version follows only the changes people make."""
    return f'W/"{version}"'


# One entity tag of an If-Match list: W/"3", "3" or a bare 3 (clients get the quoting wrong).
_ETAG_RE = re.compile(r'^(?:W/)?"?([0-9]{1,10})"?$', re.IGNORECASE)


def if_match_versions(request) -> set[int] | None:
    """The ticket versions an ``If-Match`` header accepts; None when it is absent or ``*`` (no check).

    Compared weakly (``W/"3"`` matches version 3): the version is what the tag stands for.
    An unreadable header is a 400 rather than a silent pass.
    """
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    versions = set()
    for part in header.split(","):
        match = _ETAG_RE.match(part.strip())
        if match is None:
            raise exceptions.ParseError('If-Match must carry the ticket\'s ETag, for example W/"3".')
        versions.add(int(match[1]))
    return versions


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag of the ticket as you read it (e.g. W/"3"): the change is refused with 412 if '
    "the ticket changed since. Without it the change applies to the current ticket.",
)


STALE = OpenApiResponse(description="The ticket changed since the ETag sent in If-Match; nothing changed.")
