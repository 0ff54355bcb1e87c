"""The API's request parsers (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

Kept apart from ``helpdesk.core.api``: DRF imports its parser setting while defining
``APIView``, so this module must not import ``rest_framework.views``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable

from django.utils.http import parse_header_parameters
from rest_framework import exceptions, parsers

# No request body of this API nests deeper than a few levels; anything past this is refused
# before a serializer (or the error report about it) walks it recursively.
JSON_MAX_DEPTH = 32


def _too_deep(value: object, limit: int) -> bool:
    """True if ``value`` nests lists/objects deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    children: Iterable[object]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400/415 for what it would otherwise turn into a 500.

    Invariants: a body in an unknown charset is a 415; a body nested deeper than
    ``JSON_MAX_DEPTH`` (including one so deep that Python's decoder gives up with
    ``RecursionError``) is a 400. Too-large bodies are refused by Django
    (``DATA_UPLOAD_MAX_MEMORY_SIZE``) when the body is read, and ``exception_handler`` makes
    that a 413. No side effects.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        charset = parse_header_parameters(media_type or self.media_type)[1].get("charset")
        if charset:
            try:
                codecs.lookup(charset)
            except LookupError:
                raise exceptions.UnsupportedMediaType(
                    media_type, detail=f"Unknown charset {charset!r}; send UTF-8."
                ) from None
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = _too_deep(data, JSON_MAX_DEPTH)
        if too_deep:
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels.")
        return data
