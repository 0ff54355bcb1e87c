"""The API's token authentication: the user and their roles in one statement."""

from helpdesk.core.authentication import TokenAuthentication as UserTokenAuthentication

from . import roles


class TokenAuthentication(UserTokenAuthentication):
    """Reads the token's user and the user's roles together: every API call checks roles."""

    extra_columns = roles.ROLE_COLUMNS

    def keep_extra(self, user, values: tuple) -> None:
        roles.keep_roles(user, values)
