"""mypy's django-stubs plugin: the base settings, loaded without starting or reaching any server.

The plugin imports settings to learn the installed apps and models; it never connects, so the
URLs only need to parse.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://typecheck@localhost:5432/typecheck")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/0")

from .base import *  # noqa: F403
