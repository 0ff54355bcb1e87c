"""The API token endpoint (mounted at /api/auth/token/): DRF's, with a documented answer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from .api import ERRORS
from .serializers import TokenSerializer


@extend_schema(
    summary="Get an API token",
    description="Exchange a username and password for the token to send as `Authorization: Token <key>`.",
    responses={200: TokenSerializer, 400: ERRORS[400]},
)
class TokenView(ObtainAuthToken):
    """DRF's ``obtain_auth_token`` with a documented answer."""

    # ObtainAuthToken names DRF's parsers itself; use the project's (a too-deep body is a 400).
    # The stubs type the setting as import strings; api_settings answers the imported classes.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # type: ignore[assignment]
