"""API-wide pieces: every error is JSON with a ``detail`` message, never an HTML page.

The plumbing the apps' ``api.py`` share is here too: ``error_responses`` (the documented
400/403/404 answers, in each app's words), ``require`` (a permission predicate's refusal) and
``ValidatedInput`` (the request body read through a strict input serializer, see
``helpdesk.core.serializers``).

``exception_handler`` covers errors raised inside DRF views; ``helpdesk.core.views`` has the
Django-level handlers (unknown URL, crash) that answer the same shape for paths under /api/.
The JSON parser that refuses bodies DRF's parser would crash on is in ``helpdesk.core.parsers``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    ValidationError,
)
from django.http import Http404, JsonResponse
from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import exception_handler as drf_exception_handler

from . import refusals
from .db import TransactionConflict, is_conflict
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
    SuspiciousOperation a 400; a deadlock or serialization failure that escaped every retry a
    409 (``helpdesk.core.db``). Every answer is ``{"detail": ...}`` rendered as JSON.
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
    if is_conflict(exc):
        # A deadlock or serialization failure outside any ``retry_on_conflict`` (which would have
        # run it again): nothing was saved; the client may try again, as after an exhausted retry.
        exc = TransactionConflict()
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
    if response.status_code == status.HTTP_403_FORBIDDEN and context.get("request") is not None:
        # The refusal's log line (helpdesk.core.refusals) says what the client was told.
        refusals.note_reason(context["request"], str(response.data.get("detail", "")))
    return response


def json_error(status_code: int, detail: str) -> JsonResponse:
    """The API's error shape as a plain Django response, for errors raised outside DRF views."""
    return JsonResponse({"detail": detail}, status=status_code)


# --------------------------------------------------------------------------- API views


def error_responses(*, invalid: str, forbidden: str, missing: str | None = None) -> dict[int, OpenApiResponse]:
    """The 400 and 403 (and, given ``missing``, 404) answers an app's views document, in its words.

    Each app's ``api.py`` builds its ``ERRORS`` once from this and picks from it per operation;
    ``document_errors`` gives every such answer the one ``Error`` body. Pure.
    """
    responses = {400: OpenApiResponse(description=invalid), 403: OpenApiResponse(description=forbidden)}
    if missing is not None:
        responses[404] = OpenApiResponse(description=missing)
    return responses


def require(allowed: bool, message: str) -> None:
    """Raise Django's ``PermissionDenied(message)`` unless ``allowed`` (a permission predicate's answer).

    ``exception_handler`` turns it into the 403 JSON answer. Changes nothing.
    """
    if not allowed:
        raise PermissionDenied(message)


if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView as _GenericView
else:
    _GenericView = object  # the mixin adds no base class at run time; type checkers see the view's


class ValidatedInput(_GenericView):
    """API view mixin: the request body read through an input serializer (the shape only).

    ``validated_input`` answers the serializer's ``validated_data``, or raises DRF's
    ``ValidationError`` (a 400 naming the fields); strict serializers also refuse keys they do
    not accept. Extra keyword arguments (``partial=True``) go to the serializer.
    """

    def validated_input(self, serializer_class: type[Serializer], **kwargs: Any) -> Any:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --------------------------------------------------------------------------- pagination


if TYPE_CHECKING:
    from rest_framework.pagination import BasePagination
    from rest_framework.request import Request

    class _PageSizedPagination(BasePagination):
        """What ``StrictPageSize`` needs from the DRF pagination class it is mixed into."""

        max_page_size: int | None
        page_size_query_param: str | None

        def get_page_size(self, request: Request) -> int | None: ...

else:
    _PageSizedPagination = object


class StrictPageSize(_PageSizedPagination):
    """Pagination mixin: ``page_size`` is a whole number of at least 1, or a 400 naming it.

    DRF quietly falls back to the default size for ``page_size=abc`` or ``-5``; a client then
    believes it asked for something it did not get. Sizes over ``max_page_size`` are still cut
    to it (documented on the parameter).
    """

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param) if self.page_size_query_param else None
        if raw is not None:
            try:
                valid = int(raw) >= 1
            except ValueError:
                valid = False
            if not valid:
                message = f"A whole number from 1 to {self.max_page_size} (larger sizes give {self.max_page_size})."
                raise exceptions.ValidationError({"page_size": [message]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
                most = self.max_page_size
                parameter["description"] = f"Results per page, 1 to {most} (more gives {most})."
        return parameters


# --------------------------------------------------------------------------- OpenAPI


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with output fields that only some readers get left optional.

    drf-spectacular lists every read-only field as required. A field declared
    ``read_only=True, required=False`` (e.g. a ticket's ``priority_reason``, for staff readers
    only) is left out of an answer for the other roles, so it is not required in the schema.
    """

    def _map_basic_serializer(self, serializer, direction):
        result = super()._map_basic_serializer(serializer, direction)
        serializer = force_instance(serializer)
        optional = {
            name
            for name, field in serializer.fields.items()
            # DRF keeps the arguments a field was declared with in _kwargs.
            if field.read_only and field._kwargs.get("required") is False
        }
        if optional and "required" in result:
            result["required"] = [name for name in result["required"] if name not in optional]
            if not result["required"]:
                del result["required"]
        return result


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer of the API.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Invalid input: the messages per field.",
        },
        "read_only": {"type": "array", "items": {"type": "string"}, "description": "Fields you may not write."},
        "unknown": {"type": "array", "items": {"type": "string"}, "description": "Fields that do not exist."},
    },
    "required": ["detail"],
}
_WRITES = {"post", "put", "patch", "delete"}
_METHODS = _WRITES | {"get", "head", "options", "trace"}
# Answers any operation of a kind can give, whatever its view documents (added where missing).
_COMMON = {
    "401": "No valid credentials: send `Authorization: Token <key>` (or sign in).",
}
_WITH_PATH_IDS = {"404": "No such object (or you may not see it)."}
_WITH_QUERY = {"400": "Invalid query parameters; `errors` names them."}
_PAGED = {"404": "No such page (a page number past the last, or a cursor that is not ours)."}
# drf-spectacular cannot state OpenAPI's allowEmptyValue; a parameter declared with these
# extensions (a filter read by a Django form, where ?tier= means "no tier filter") gets it.
EMPTY_MEANS_ABSENT = {"x-empty-means-absent": True}
_ON_WRITES = {
    "400": "Invalid input or a refused rule; `detail` (and `errors`) say why.",
    "409": "The change met concurrent ones on the same rows and was not made, even after retries: send it again.",
    "413": "The request body is larger than the server accepts.",
    "415": "The body is not in a supported content type (or charset).",
    "429": "Too many requests: the `Retry-After` header says in how many seconds to try again.",
}


def document_errors(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every error the API can answer is in the schema.

    Turns ``EMPTY_MEANS_ABSENT`` into ``allowEmptyValue``. Adds the answers
    every operation of a kind can give (401 to all; 404 where the path names an
    object; 400 where there are query parameters; 400/409/413/415/429 to writes, which read a
    body, give up on a deadlock after bounded retries and are rate-limited) unless the view
    documented them itself, and gives every 4xx answer the one JSON body ``Error``
    (``{"detail": ...}``) that ``exception_handler`` and the /api/ error views produce. Changes
    ``result`` in place and returns it.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            locations = {parameter.get("in") for parameter in operation.get("parameters", [])}
            for parameter in operation.get("parameters", []):
                if parameter.pop("x-empty-means-absent", False):
                    parameter["allowEmptyValue"] = True
            added = dict(_COMMON)
            if "path" in locations:
                added.update(_WITH_PATH_IDS)
            if "query" in locations:
                added.update(_WITH_QUERY)
            names = {parameter.get("name") for parameter in operation.get("parameters", [])}
            if names & {"page", "cursor"}:
                added.update(_PAGED)
            if method in _WRITES:
                added.update(_ON_WRITES)
            responses = operation.setdefault("responses", {})
            for code, description in added.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if str(code).startswith("4"):
                    response.setdefault("content", error_body)
    return result
