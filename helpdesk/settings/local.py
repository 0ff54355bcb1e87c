"""Local use (``make run``): starts embedded PostgreSQL/Redis when their URLs are not set."""

from helpdesk.embedded import ensure_services

ensure_services()

from .base import *  # noqa: E402,F403

# One line per mail on the console ("mail to x@y: subject") instead of the raw MIME message,
# so the demo's notifications do not push the URL and the accounts out of sight.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="helpdesk.core.mail.OneLineEmailBackend")  # noqa: F405
