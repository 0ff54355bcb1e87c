"""Test-only URLconf: the project's URLs plus views that crash, to look at the error answers."""

from django.http import Http404
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from helpdesk.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)
from helpdesk.urls import urlpatterns as base


def boom(request):
    raise RuntimeError("secret-marker")


def api_plain_404(request):
    raise Http404("secret-marker")


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def api_boom(request):
    """A DRF view that crashes (after reading the body, if any)."""
    request.data  # noqa: B018 (parse the body first)
    raise RuntimeError("secret-marker")


urlpatterns = [
    path("boom/", boom),
    path("api/test-boom/", api_boom),
    path("api/test-plain-boom/", boom),
    path("api/test-plain-404/", api_plain_404),
    *base,
]
