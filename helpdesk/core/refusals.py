"""One log line per refused request (HTTP 403), instead of Django's warning with a full traceback.

A refusal is an ordinary outcome (a requester opening an agent's action, a vendor trying a
ticket of another vendor), not a crash: a traceback per refusal buried real errors and filled
the log. ``OneLineRefusals`` is a filter on the ``django.request`` logger (see ``LOGGING``): it
drops Django's own 403 records, HTML ``PermissionDenied`` and DRF's 403 answers alike, and
writes one line to the ``helpdesk.refusals`` logger instead::

    refused user=42 path=/tickets/7/escalate/ view=tickets:escalate reason=permission denied
"""

from __future__ import annotations

import logging

logger = logging.getLogger("helpdesk.refusals")

# Set on the Django request by the API's exception handler: the ``detail`` the client was told.
REASON_ATTR = "_helpdesk_refusal_reason"


def note_reason(request, reason: str) -> None:
    """Remember why ``request`` is refused, for its log line (the API's handler knows the detail)."""
    django_request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    setattr(django_request, REASON_ATTR, reason)


def _user_id(request) -> str:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return str(user.pk)


def _reason(record: logging.LogRecord, request) -> str:
    noted = getattr(request, REASON_ATTR, "")
    if noted:
        return noted
    exc = record.exc_info[1] if record.exc_info else None
    return str(exc) if exc is not None and str(exc) else "permission denied"


class OneLineRefusals(logging.Filter):
    """Turn ``django.request``'s 403 records into one line on ``helpdesk.refusals``; pass the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        request = getattr(record, "request", None)
        if request is None:
            return True
        match = getattr(request, "resolver_match", None)
        # Newlines in a path or reason could forge a second log line: the line is kept whole.
        logger.warning(
            "refused user=%s path=%s view=%s reason=%s",
            _user_id(request),
            request.path.encode("unicode_escape").decode("ascii"),
            match.view_name if match else "-",
            _reason(record, request).encode("unicode_escape").decode("ascii"),
        )
        return False
