"""Reading the signed-in user: API tokens and sessions (kept apart from ``helpdesk.core.api``:
DRF imports this module while loading its views).

Both read the user with one plain SQL statement instead of an ORM query compiled on every
request, and let a subclass read more about the user in the same statement:
``extra_columns`` (SQL over the user ``u``) and ``keep_extra`` for their values.
"""

from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


def fetch_user(source: str, condition: str, params: list, extra_columns: str = ""):
    """The user row ``source`` (which names the user table ``u``) gives under ``condition``.

    Returns ``(user, extra values)`` or None when no row matches.
    """
    user_model = get_user_model()
    fields = [f.attname for f in user_model._meta.concrete_fields]
    columns = ", ".join(f"u.{connection.ops.quote_name(f.column)}" for f in user_model._meta.concrete_fields)
    if extra_columns:
        columns += f", {extra_columns}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {source} WHERE {condition}", params)  # noqa: S608 - names from models
        row = cursor.fetchone()
    if row is None:
        return None
    return user_model.from_db(connection.alias, fields, row[: len(fields)]), row[len(fields) :]


class ExtraUserColumns:
    extra_columns: str = ""

    def keep_extra(self, user, values: tuple) -> None:
        """Hold on to the values of ``extra_columns`` for ``user`` (nothing to keep here)."""


class TokenAuthentication(ExtraUserColumns, authentication.TokenAuthentication):
    """DRF's token authentication, same answers (401 for an unknown token or an inactive user);
    ``request.auth`` is the token with its user."""

    def authenticate_credentials(self, key):
        users = get_user_model()._meta.db_table
        found = fetch_user(
            f"{Token._meta.db_table} t JOIN {users} u ON u.id = t.user_id", "t.key = %s", [key], self.extra_columns
        )
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, extra = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        self.keep_extra(user, extra)
        token = Token(key=key, user_id=user.pk)
        token.user = user
        return user, token


class ModelBackend(ExtraUserColumns, backends.ModelBackend):
    """Django's model backend; the user of a session is read with one plain SQL statement."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user_id = user_model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = fetch_user(f"{user_model._meta.db_table} u", "u.id = %s", [user_id], self.extra_columns)
        if found is None:
            return None
        user, extra = found
        if not self.user_can_authenticate(user):
            return None
        self.keep_extra(user, extra)
        return user
