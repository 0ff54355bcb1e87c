"""Tests: private throwaway embedded servers unless DATABASE_URL/REDIS_URL point elsewhere.

The URLs are put in the environment, so a Celery worker or any other child process the
tests start talks to the same servers.
"""

from helpdesk.embedded import throwaway_services

throwaway_services()

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"  # noqa: F405
CONN_MAX_AGE = 0
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Templates only the tests render (e.g. a panel registered by a test on the ticket page).
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "templates"]  # noqa: F405
