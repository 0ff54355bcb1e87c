"""REST API of the attention inbox (mounted at /api/notifications/): one's own notifications only.

Another person's notification is a 404, like a ticket one may not see. Reading marks nothing:
``POST {id}/read/`` and ``POST read-all/`` do.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.core.api import StrictPageSize, ValidatedInput
from helpdesk.core.models import User
from helpdesk.core.serializers import EmptyInput

from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="ticket.reference", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "ticket", "reference", "text", "created_at", "read_at"]
        read_only_fields = fields


class InboxPagination(StrictPageSize, PageNumberPagination):
    page_size = 30
    max_page_size = 100
    page_size_query_param = "page_size"


UNREAD = OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only the unread ones (`true`/`1`).")
DONE = inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ValidatedInput, viewsets.GenericViewSet):
    """The signed-in person's notifications, newest first."""

    serializer_class = NotificationSerializer
    pagination_class = InboxPagination
    filter_backends: list = []
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Notification]:
        user = self.request.user
        if not isinstance(user, User):
            return Notification.objects.none()
        found = Notification.objects.filter(user=user).select_related("ticket").order_by("-created_at", "-pk")
        if self.action == "list" and self.request.query_params.get("unread") in ("1", "true"):
            found = found.filter(read_at__isnull=True)
        return found

    @extend_schema(parameters=[UNREAD])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=EmptyInput, responses={200: DONE})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        note = self.get_object()
        self.validated_input(EmptyInput)
        marked = Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked": marked})

    @extend_schema(request=EmptyInput, responses={200: DONE})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        self.validated_input(EmptyInput)
        marked = self.get_queryset().filter(read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked": marked})
