"""REST API of the agent workspace's own objects (mounted at /api/): saved queue views and macros.

The rules live with the pages' (``tickets.views.saved_views``, ``tickets.services.macros`` and
``tickets.permissions``); these views only read the input and call them.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from helpdesk.core.api import ValidatedInput, require
from helpdesk.core.models import User

from . import permissions, services
from .api import ERRORS
from .models import Macro, SavedView
from .serializers import MacroInput, MacroSerializer, SavedViewInput, SavedViewSerializer
from .services.macros import MacroFields
from .views import saved_views


@extend_schema_view(
    list=extend_schema(
        summary="Saved queue views: the caller's own and the shared ones",
        responses={200: SavedViewSerializer(many=True), 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        summary="One saved view", responses={200: SavedViewSerializer, 403: ERRORS[403], 404: ERRORS[404]}
    ),
    create=extend_schema(
        summary="Save a queue view (shared: managers only)",
        request=SavedViewInput,
        responses={201: SavedViewSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    destroy=extend_schema(summary="Delete one of the caller's own views", responses={204: None, 403: ERRORS[403]}),
)
class SavedViewViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ValidatedInput, viewsets.GenericViewSet
):
    """Saved queue views of agents and managers (403 for everyone else); the rules are in ``views.saved_views``."""

    serializer_class = SavedViewSerializer
    pagination_class = None

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        require(permissions.may_keep_views(request.user), "Only agents and managers keep saved views.")

    def get_queryset(self) -> QuerySet[SavedView]:
        return saved_views.saved_views_for(self.request.user)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated_input(SavedViewInput)
        user = request.user
        assert isinstance(user, User)  # initial() let only agents and managers in
        view = saved_views.save_view(by=user, name=data["name"], query=data["query"], shared=data["shared"])
        return Response(self.get_serializer(view).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: SavedView) -> None:
        user = self.request.user
        assert isinstance(user, User)  # initial() let only agents and managers in
        saved_views.delete_view(view=instance, by=user)


def _macro_fields(data: dict) -> MacroFields:
    return {
        "name": data["name"],
        "personal": data["personal"],
        "tier": data["tier"],
        "kind": data["kind"],
        "body": data["body"],
        "status": data["status"],
        "priority": data["priority"],
        "category": data["category"],
        "assign_to_me": data["assign_to_me"],
    }


@extend_schema_view(
    list=extend_schema(
        summary="Macros you may apply (yours and your tiers')",
        responses={200: MacroSerializer(many=True), 403: ERRORS[403]},
    ),
    retrieve=extend_schema(summary="One macro", responses={200: MacroSerializer, 403: ERRORS[403], 404: ERRORS[404]}),
    create=extend_schema(
        summary="Create a macro (tier macros: managers only)",
        request=MacroInput,
        responses={201: MacroSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Change a macro you may manage",
        request=MacroInput,
        responses={200: MacroSerializer, 400: ERRORS[400], 403: ERRORS[403], 404: ERRORS[404]},
    ),
    destroy=extend_schema(
        summary="Delete a macro you may manage", responses={204: None, 403: ERRORS[403], 404: ERRORS[404]}
    ),
)
class MacroViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ValidatedInput, viewsets.GenericViewSet):
    """Macros of agents and managers (403 for everyone else); the rules are in ``services.macros``."""

    serializer_class = MacroSerializer
    pagination_class = None
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        require(permissions.can_use_macros(request.user), "Only agents and managers keep macros.")

    def _user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # initial() let only agents and managers in
        return user

    def get_queryset(self) -> QuerySet[Macro]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema, built without a user
            return Macro.objects.none()
        return services.usable_macros(self._user())

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated_input(MacroInput)
        macro = services.save_macro(by=self._user(), fields=_macro_fields(data))
        return Response(self.get_serializer(macro).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs) -> Response:
        macro = self.get_object()
        require(permissions.can_manage_macro(self._user(), macro), "You may not change this macro.")
        data = self.validated_input(MacroInput)
        saved = services.save_macro(by=self._user(), fields=_macro_fields(data), macro_id=macro.pk)
        return Response(self.get_serializer(saved).data)

    def destroy(self, request, *args, **kwargs) -> Response:
        macro = self.get_object()
        require(permissions.can_manage_macro(self._user(), macro), "You may not delete this macro.")
        services.delete_macro(by=self._user(), macro_id=macro.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
