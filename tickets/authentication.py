"""The old name of the session backend, kept so that sessions started under it stay signed in.

Users are loaded the standard way: Django's ``ModelBackend`` for sessions and DRF's
``TokenAuthentication`` for the API (``helpdesk/settings/base.py``); ``tickets.roles`` reads a
user's roles in one query the first time a request asks for them.

Before that, a backend of this module read the user and their roles in one hand-written statement,
and every session started under it stores this dotted path as its ``_auth_user_backend``. Django
loads a session's user only through a backend listed in ``AUTHENTICATION_BACKENDS`` under exactly
that path, so removing the name would sign all those users out.
"""

from typing import Any

from django.contrib.auth import backends
from django.http import HttpRequest


class ModelBackend(backends.ModelBackend):
    """Django's ``ModelBackend`` under its old name: loads the user of an old session (refusing an
    inactive or missing one, as Django does) but never signs anyone in, so a wrong password is
    checked once, by the backend listed before it."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        return None
