import functools
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    """Headers Django and django-csp do not set, on every response.

    * Permissions-Policy turns off browser features the helpdesk never uses.
    * The site serves no cross-origin clients, so any ``Access-Control-Allow-*`` header a
      library adds (django-axes puts ``*`` on its JSON lockout answer) is removed: no CORS
      wildcard ever leaves the server.
    """

    PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    CORS_HEADERS = (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Allow-Credentials",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        for header in self.CORS_HEADERS:
            if header in response:
                del response[header]
        return response


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every answer that depends on who asks.

    A browser's back button, a shared proxy or a CDN must never keep a signed-in page or an API
    answer: after a sign-out, on a shared computer, the next person would read it. An answer
    depends on the user when the request is signed in (session or API token), carries
    credentials (``Authorization``), or the answer says it varies on ``Cookie`` or
    ``Authorization``. A view that chose its own ``Cache-Control`` (attachment downloads,
    static files served by WhiteNoise) keeps it; anonymous public answers stay cacheable.

    Listed first in ``MIDDLEWARE`` so that, on the way out, it sees the ``Vary`` headers the
    session and CSRF middleware add.
    """

    PERSONAL_VARY = frozenset({"cookie", "authorization", "*"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and self._personal(request, response):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def _personal(self, request, response) -> bool:
        if "HTTP_AUTHORIZATION" in request.META:
            return True
        # DRF puts the user it authenticated (by token too) back on the Django request.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True
        vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
        return bool(vary & self.PERSONAL_VARY)


class UserTimeZoneMiddleware:
    """Times on pages in the signed-in person's own zone (``User.time_zone``), else the desk's.

    An unknown zone name (set before it was checked, or a zone removed from the system's
    database) falls back to the desk's zone instead of failing the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Without a session cookie nobody is signed in: the session is left unread, so an answer
        # that asks nothing of it (the favicon's redirect) stays shareable.
        signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated
        zone_name = getattr(request.user, "time_zone", "") if signed_in else ""
        zone = _zone(zone_name) if zone_name else None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
