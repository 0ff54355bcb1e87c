"""API authentication (kept apart from ``helpdesk.core.api``: DRF imports it while loading its views)."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the token's user with one plain SQL statement.

    Same answers (401 for an unknown token or an inactive user); ``request.auth`` is the
    token with its user. DRF's version compiled a ``select_related`` query on every call,
    which cost more than running it. A subclass may read more about the user in the same
    statement: ``extra_columns`` (SQL over the user ``u``) and ``keep_extra`` for their values.
    """

    extra_columns: str = ""

    def keep_extra(self, user, values: tuple) -> None:
        """Hold on to the values of ``extra_columns`` for ``user`` (nothing to keep here)."""

    def authenticate_credentials(self, key):
        user_model = get_user_model()
        fields = [f.attname for f in user_model._meta.concrete_fields]
        columns = ", ".join(f"u.{connection.ops.quote_name(f.column)}" for f in user_model._meta.concrete_fields)
        if self.extra_columns:
            columns += f", {self.extra_columns}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {Token._meta.db_table} t "  # noqa: S608 - names from the models
                f"JOIN {user_model._meta.db_table} u ON u.id = t.user_id WHERE t.key = %s",
                [key],
            )
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = user_model.from_db(connection.alias, fields, row[: len(fields)])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        self.keep_extra(user, row[len(fields) :])
        token = Token(key=key, user_id=user.pk)
        token.user = user
        return user, token
