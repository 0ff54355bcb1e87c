"""Reading the signed-in user with their roles in one statement: every request checks roles."""

from helpdesk.core import authentication

from . import roles


class WithRoles(authentication.ExtraUserColumns):
    extra_columns = roles.ROLE_COLUMNS

    def keep_extra(self, user, values: tuple) -> None:
        roles.keep_roles(user, values)


class TokenAuthentication(WithRoles, authentication.TokenAuthentication):
    """The API's token authentication."""


class ModelBackend(WithRoles, authentication.ModelBackend):
    """The session backend (signing in with a password is Django's, unchanged)."""
