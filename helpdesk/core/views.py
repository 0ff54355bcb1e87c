"""Health endpoint and error views.

The error handlers (``handler400/403/404/500`` in ``helpdesk.urls``) answer the API's JSON
``{"detail": ...}`` for paths under /api/ and Django's templated pages everywhere else: an API
client never gets an HTML page, whatever failed (unknown URL, a crash outside DRF's handler).
"""

from datetime import timedelta

import redis
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpdesk.embedded import redis_client_kwargs

from . import ratelimit
from .api import json_error
from .models import Heartbeat

API_PREFIX = "/api/"


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy", and the page must still answer
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _check_redis() -> dict:
    timeout = settings.REDIS_TIMEOUT_SECONDS
    try:
        # No retries: redis-py's own client otherwise retries three times with back-off, which
        # made a hung Redis cost this page some 15 s.
        client = redis.Redis(
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            **redis_client_kwargs(settings.REDIS_URL),
        )
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _check_heartbeats(database_ok: bool) -> dict:
    names = ("beat", "worker")
    if not database_ok:
        return {name: {"ok": False, "last": None} for name in names}
    now = timezone.now()
    stale = timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS)
    seen = dict(Heartbeat.objects.filter(name__in=names).values_list("name", "at"))
    result = {}
    for name in names:
        last = seen.get(name)
        result[name] = {
            "ok": last is not None and now - last <= stale,
            "last": last.isoformat() if last else None,
            "age_seconds": round((now - last).total_seconds()) if last else None,
        }
    return result


@never_cache
@require_GET
def healthz(request):
    """JSON state of the database, Redis and the last beat/worker heartbeat, and an overall status.

    ``ok`` (200): all fine. ``degraded`` (200, so a load balancer keeps the node): Redis is out
    of reach, and perhaps therefore the worker's heartbeat is stale (it gets no tasks without
    Redis); pages and the API still answer from PostgreSQL and background work waits in the
    outbox. ``unhealthy`` (503): anything else fails. ``failing`` names the failed checks.
    """
    database = _check_database()
    checks = {"database": database, "redis": _check_redis(), **_check_heartbeats(database["ok"])}
    failing = [name for name, check in checks.items() if not check["ok"]]
    if not failing:
        status = "ok"
    elif "redis" in failing and set(failing) <= {"redis", "worker"}:
        status = "degraded"
    else:
        status = "unhealthy"
    body = {"status": status, "failing": failing, "version": settings.HELPDESK_VERSION, **checks}
    return JsonResponse(body, status=503 if status == "unhealthy" else 200)


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX) or request.path_info == API_PREFIX.rstrip("/")


def bad_request(request, exception):
    """Django raised SuspiciousOperation outside DRF: 400, or 413 for a body over the upload limits."""
    too_large = isinstance(exception, (RequestDataTooBig, TooManyFieldsSent))
    if not _is_api(request):
        response = defaults.bad_request(request, exception)
        if too_large:
            response.status_code = 413  # the same page; the status tells a client why
        return response
    if too_large:
        return json_error(413, "The request body is too large.")
    return json_error(400, "The request could not be read.")


def permission_denied(request, exception):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return json_error(403, "You do not have permission to perform this action.")


def page_not_found(request, exception):
    # The message of the exception is not shown: it can name URL patterns or lookups.
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return json_error(404, "Not found.")


def server_error(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return json_error(500, "Server error: the request failed on our side and was logged.")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "forgot your password?" form, rate-limited per e-mail address asked for (so nobody
    can flood someone's mailbox) and per client address. A refusal shows the form again with the
    message and the address typed (429); the answer never says whether the address has an account.
    """

    def form_valid(self, form):
        try:
            ratelimit.enforce(ratelimit.PASSWORD_RESET, identity=form.cleaned_data["email"])
        except ratelimit.RateLimited as refusal:
            form.add_error(None, refusal)
            return self.form_invalid(form)
        return super().form_valid(form)
