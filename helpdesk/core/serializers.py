"""Input serializers and fields shared by the apps' APIs: strict about what a client may send.

A key an input serializer does not accept is a 400 that names it (read-only or unknown), so a
client never believes a field was written when it was dropped (mass assignment); a JSON number
where text is expected is refused rather than read as text, as the schema says ``string``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import ClassVar

from rest_framework import exceptions, serializers


class FieldsRefused(exceptions.APIException):
    """400 naming the keys that may not be written (read-only here, or unknown)."""

    status_code = 400
    default_code = "fields_refused"

    def __init__(self, message: str, *, read_only: Iterable[str] = (), unknown: Iterable[str] = ()):
        super().__init__({"detail": message, "read_only": list(read_only), "unknown": list(unknown)})


def refuse_fields(data, *, writable: AbstractSet[str], readable: AbstractSet[str]) -> None:
    """Raise ``FieldsRefused`` unless every key of ``data`` is in ``writable``.

    Keys the client could read but not write here are reported as read-only, others as unknown.
    """
    if not isinstance(data, Mapping):
        raise FieldsRefused("Expected a JSON object.")
    keys = set(data)
    read_only = sorted((keys & readable) - writable)
    unknown = sorted(keys - readable - writable)
    parts = []
    if read_only:
        parts.append(f"These fields are read-only: {', '.join(read_only)}")
    if unknown:
        parts.append(f"Unknown fields: {', '.join(unknown)}")
    if parts:
        raise FieldsRefused(". ".join(parts), read_only=read_only, unknown=unknown)


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses keys it does not accept, naming them (before validating values)."""

    readable: ClassVar[frozenset[str]] = frozenset()

    def locked_fields(self) -> set[str]:
        """Fields this user may not write (reported as read-only)."""
        return set()

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        fields = set(self.fields)
        refuse_fields(self.initial_data, writable=fields - self.locked_fields(), readable=self.readable | fields)
        return super().is_valid(raise_exception=raise_exception)

    def to_internal_value(self, data):
        # DRF's CharField takes a JSON number as text; the schema says string, so a number is refused.
        numbers = {
            name: ["Not a valid string."]
            for name, field in self.fields.items()
            if isinstance(field, serializers.CharField) and isinstance(data.get(name), int | float)
        }
        if numbers:
            raise serializers.ValidationError(numbers)
        return super().to_internal_value(data)

    def _user(self):
        return self.context["request"].user


class RequiredTextField(serializers.CharField):
    """Text a service requires (a note, a reply): not blank, as the schema says (``minLength: 1``).

    Blank text passes this shape check on purpose: the service refuses it with a message that
    says what is missing ("An escalation note is required."), the same in pages and the API.
    (``allow_blank=True`` would do that too, but then the schema would say blank is fine.)
    """

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and not data.strip():
            return ""
        return super().run_validation(data)


class EmptyInput(StrictSerializer):
    """Actions that take no input; any key is refused."""
