"""Local use (``make run``): starts embedded PostgreSQL/Redis when their URLs are not set."""

from helpdesk.embedded import ensure_services

ensure_services()

from .base import *  # noqa: E402,F403
