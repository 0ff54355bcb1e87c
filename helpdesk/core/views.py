"""Health endpoint and error views."""

from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from helpdesk.embedded import redis_client_kwargs

from .models import Heartbeat


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy", and the page must still answer
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _check_redis() -> dict:
    try:
        client = redis.Redis(socket_timeout=1, socket_connect_timeout=1, **redis_client_kwargs(settings.REDIS_URL))
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
    """JSON state of the database, Redis and the last beat/worker heartbeat: 200 if all are fine, else 503."""
    database = _check_database()
    checks = {"database": database, "redis": _check_redis(), **_check_heartbeats(database["ok"])}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unhealthy", "version": settings.HELPDESK_VERSION, **checks}
    return JsonResponse(body, status=200 if healthy else 503)
