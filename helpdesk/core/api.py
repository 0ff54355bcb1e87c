"""API-wide pieces: every error is JSON with a ``detail`` message, never an HTML page.

``exception_handler`` covers errors raised inside DRF views; ``helpdesk.core.views`` has the
Django-level handlers (unknown URL, crash) that answer the same shape for paths under /api/.
The JSON parser that refuses bodies DRF's parser would crash on is in ``helpdesk.core.parsers``.
"""

from __future__ import annotations

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    ValidationError,
)
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .ratelimit import RateLimited


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _as_json(context) -> None:
    """Errors are JSON whatever the client accepts (the browsable API would otherwise render HTML)."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def exception_handler(exc, context):
    """DRF's handler, plus Django's exceptions a service or the request body can raise.

    Django's ValidationError (raised by services) is a 400 with the messages; a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (or with too many form fields) a 413; any other
    SuspiciousOperation a 400. Every answer is ``{"detail": ...}`` rendered as JSON.
    Anything else is left to Django's handler500 (JSON too under /api/).
    """
    if isinstance(exc, RateLimited):
        # Before ValidationError, which it is for pages: DRF's Throttled answers 429 with Retry-After.
        exc = exceptions.Throttled(wait=exc.retry_after, detail=exc.message)
    elif isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            data = {"detail": "Invalid input.", "errors": exc.message_dict}
        else:
            data = {"detail": " ".join(exc.messages)}
        _as_json(context)
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (RequestDataTooBig, TooManyFieldsSent)):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be read.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    _as_json(context)
    if isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": "Invalid input.", "errors": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data)}
    return response


def json_error(status_code: int, detail: str) -> JsonResponse:
    """The API's error shape as a plain Django response, for errors raised outside DRF views."""
    return JsonResponse({"detail": detail}, status=status_code)
