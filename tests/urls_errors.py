"""Test-only URLconf: the project's URLs plus a view that crashes, to look at the 500 page."""

from django.urls import path

from helpdesk.urls import urlpatterns as base


def boom(request):
    raise RuntimeError("secret-marker")


urlpatterns = [*base, path("boom/", boom)]
