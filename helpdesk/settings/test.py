"""Tests: private throwaway embedded servers unless DATABASE_URL/REDIS_URL point elsewhere.

The URLs are put in the environment, so a Celery worker or any other child process the
tests start talks to the same servers.
"""

import os

from helpdesk.embedded import throwaway_services

throwaway_services()

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-memory mail for the test process; a Celery worker started by the tests writes its mail
# to files instead (TEST_EMAIL_DIR), where the test reads what was sent.
if os.environ.get("TEST_EMAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["TEST_EMAIL_DIR"]
else:
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
# Remembered knowledge-base results would outlive each test's rolled-back articles (the cache
# is one Redis for the whole run): off, except in the tests of that cache (settings fixture).
KB_SEARCH_CACHE_SECONDS = 0
