"""REST API of the tickets app (``/api/tickets/``): thin interfaces over ``tickets.services``.

Every lookup starts from ``permissions.visible_tickets`` so a ticket the user may not see is
a 404 before any other check; children (messages, attachments, events) are read through
their ticket. Commands are ``@action``s: they check the same predicates as the HTML pages,
validate the shape of their input, call one service and answer with the ticket. Services
raise ``PermissionDenied``/``ValidationError``, which the project's exception handler turns
into 403/400 JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from helpdesk.core.api import ValidatedInput, error_responses, require
from helpdesk.core.serializers import EmptyInput

from . import permissions, services
from .api_filters import ORDERINGS, TicketCursorPagination, TicketFilter, TicketFilterBackend
from .api_versions import IF_MATCH, STALE, if_match_versions, ticket_etag
from .downloads import AnyMediaRenderer, attachment_response
from .models import Attachment, Channel, MessageKind, Status, Ticket, TicketMessage
from .serializers import (
    ApplyMacroInput,
    AttachmentSerializer,
    AttachmentUploadInput,
    ComposedSerializer,
    ComposeInput,
    DeescalateInput,
    DetailSerializer,
    EscalateInput,
    EventSerializer,
    FollowUpSerializer,
    LinkProblemInput,
    MergeInput,
    MessageInput,
    MessageSerializer,
    ReasonInput,
    ReopenInput,
    ResolveInput,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TransitionInput,
    WatcherInput,
    compose_changes,
)

TICKET_RELATED = ("requester", "assignee", "category", "vendor")
ERRORS = error_responses(
    invalid="Refused: invalid input or a rule of the lifecycle; `detail` says why.",
    forbidden="You may not do this on this ticket.",
    missing="No such ticket (or you may not see it).",
)
REFUSED = "You may not do that on this ticket."


def _action_schema(request=EmptyInput, responses=TicketSerializer, *, if_match: bool = False, **kwargs):
    """The schema of an action; ``if_match`` for those that honour If-Match (412 on a stale one)."""
    if if_match:
        return extend_schema(
            request=request, responses={200: responses, **ERRORS, 412: STALE}, parameters=[IF_MATCH], **kwargs
        )
    return extend_schema(request=request, responses={200: responses, **ERRORS}, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="Tickets you may see",
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=["", *ORDERINGS],  # an empty value (a form's unset select) is the default
                description="Sort order (default, also when empty: -created_at).",
            ),
        ],
    ),
    retrieve=extend_schema(summary="One ticket", responses={200: TicketSerializer, 404: ERRORS[404]}),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ValidatedInput, viewsets.GenericViewSet):
    """Tickets: list, create, read, update allowed fields, and the lifecycle actions."""

    serializer_class = TicketSerializer
    pagination_class = TicketCursorPagination
    filter_backends = [TicketFilterBackend]
    filterset_class = TicketFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Ticket]:
        return permissions.visible_tickets(self.request.user).select_related(*TICKET_RELATED)

    def get_object(self) -> Ticket:
        """The ticket of the URL if the user may see it, else 404 (never 403)."""
        return generics.get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    # ------------------------------------------------------------------ helpers

    def _ticket_data(self, pk: int) -> dict:
        # Not through visible_tickets: after escalating, the actor may no longer see the ticket,
        # and the answer is the state they just produced.
        ticket = Ticket.objects.select_related(*TICKET_RELATED).get(pk=pk)
        return TicketSerializer(ticket, context=self.get_serializer_context()).data

    def _ticket_response(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        data = self._ticket_data(pk)
        return Response(data, status=status_code, headers={"ETag": ticket_etag(data["version"])})

    def _at_read_version(self, ticket: Ticket, change: Callable[[], object]) -> None:
        """Run ``change`` (the service calls of one action) only if the ticket is still at the
        version the client names in ``If-Match``; without the header, on the current ticket.

        For the actions that lock just this ticket; a mismatch raises ``StaleTicket`` (412).
        """
        expected = if_match_versions(self.request)
        if expected is None:
            change()
        else:
            services.change_at_version(ticket_id=ticket.pk, version=expected, change=change)

    def handle_exception(self, exc):
        if isinstance(exc, services.StaleTicket):
            # 412 with the current ETag, so the client can read the ticket again and decide.
            return Response(
                {"detail": " ".join(exc.messages), "version": exc.current.version},
                status=status.HTTP_412_PRECONDITION_FAILED,
                headers={"ETag": ticket_etag(exc.current.version)},
            )
        return super().handle_exception(exc)

    def _visible_attachments(self, ticket: Ticket) -> QuerySet[Attachment]:
        attachments = ticket.attachments.select_related("message", "uploaded_by")
        user = self.request.user
        # A visitor never gets this far (the API's IsAuthenticated); they would see no internal file.
        if not user.is_authenticated:
            return attachments.filter(message__isnull=True)
        if not permissions.can_see_internal(user, ticket):
            # The vendor conversation's files only for the vendor's people, never the requester.
            kinds = permissions.visible_message_kinds(user, ticket)
            attachments = attachments.filter(Q(message__isnull=True) | Q(message__kind__in=kinds))
        return attachments

    def retrieve(self, request, pk=None):
        ticket = self.get_object()
        data = self.get_serializer(ticket).data
        return Response(data, headers={"ETag": ticket_etag(ticket.version)})

    # ------------------------------------------------------------------ create / update

    @extend_schema(
        summary="Open a ticket", request=TicketCreateSerializer, responses={201: TicketSerializer, 400: ERRORS[400]}
    )
    def create(self, request):
        data = self.validated_input(TicketCreateSerializer)
        ticket = services.create_ticket(
            requester=data.get("requester") or request.user,
            by=request.user,
            subject=data["subject"],
            description=data["description"],
            category=data.get("category"),
            impact=data["impact"],
            urgency=data["urgency"],
            channel=Channel.API,
        )
        # The new ticket is in hand with its requester and category, and with the SLA summary
        # the sla app wrote onto it (RETURNING) while reacting to the creation: nothing is read back.
        data = TicketSerializer(ticket, context=self.get_serializer_context()).data
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Location"] = data["url"]
        return response

    @extend_schema(
        summary="Change category or priority (staff)",
        description="Subject and description are fixed after creation; status, tier and assignee change "
        "through the actions. Any other key is refused with a 400 naming it.",
        request=TicketUpdateSerializer,
        parameters=[IF_MATCH],
        responses={
            200: TicketSerializer,
            **ERRORS,
            412: STALE,
        },
    )
    def partial_update(self, request, pk=None):
        ticket = self.get_object()
        expected = if_match_versions(request)
        data = self.validated_input(TicketUpdateSerializer)
        if not data:
            return self._ticket_response(ticket.pk)
        require(permissions.can_work(request.user, ticket), REFUSED)

        def change() -> None:
            if "category" in data:
                services.change_category(ticket_id=ticket.pk, by=request.user, category=data["category"])
            if data.keys() & {"impact", "urgency", "priority", "priority_reason"}:
                # A new override without a reason keeps the reason of the current one.
                services.change_priority(
                    ticket_id=ticket.pk,
                    by=request.user,
                    impact=data.get("impact"),
                    urgency=data.get("urgency"),
                    priority=data.get("priority"),
                    reason=data.get("priority_reason", ticket.priority_reason if "priority" in data else ""),
                )

        # Both changes or neither, on the version the client read (a mismatch is a 412).
        services.change_at_version(ticket_id=ticket.pk, version=expected, change=change)
        return self._ticket_response(ticket.pk)

    # ------------------------------------------------------------------ conversation

    @extend_schema(summary="Conversation", responses={200: MessageSerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def messages(self, request, pk=None):
        """Public replies; staff readers also get the internal notes, and staff and the vendor's people
        the vendor conversation of a tier-4 ticket (``kind`` tells them apart)."""
        ticket = self.get_object()
        kinds = permissions.visible_message_kinds(request.user, ticket)
        messages = (
            ticket.messages.filter(kind__in=kinds)
            .select_related("author")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")))
        )
        return Response(MessageSerializer(messages, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Reply, add an internal note or write in the vendor conversation",
        description="A requester replying on a closed ticket starts a new ticket linked to it; the answer "
        "then carries that ticket instead of a message.",
        request=MessageInput,
        responses={
            201: PolymorphicProxySerializer(
                component_name="MessageOrFollowUp",
                serializers=[MessageSerializer, FollowUpSerializer],
                resource_type_field_name=None,
            ),
            **ERRORS,
        },
    )
    @messages.mapping.post
    def post_message(self, request, pk=None):
        ticket = self.get_object()
        data = self.validated_input(MessageInput)
        user = request.user
        if data["kind"] == MessageKind.INTERNAL:
            require(permissions.can_add_note(user, ticket), REFUSED)
            message = services.add_note(ticket_id=ticket.pk, by=user, body=data["body"])
        elif data["kind"] == MessageKind.VENDOR:
            require(permissions.can_write_to_vendor(user, ticket), REFUSED)
            message = services.add_vendor_message(ticket_id=ticket.pk, by=user, body=data["body"], channel=Channel.API)
        elif ticket.status == Status.CLOSED and permissions.can_follow_up(user, ticket):
            new = services.reply_to_closed(ticket_id=ticket.pk, by=user, body=data["body"])
            detail = f"{ticket.reference} is closed; your reply started {new.reference}."
            return Response({"detail": detail, "ticket": self._ticket_data(new.pk)}, status=status.HTTP_201_CREATED)
        else:
            require(permissions.can_reply(user, ticket), REFUSED)
            message = services.add_reply(ticket_id=ticket.pk, by=user, body=data["body"], channel=Channel.API)
        message = TicketMessage.objects.select_related("author").prefetch_related("attachments").get(pk=message.pk)
        return Response(MessageSerializer(message, context=self.get_serializer_context()).data, status=201)

    # ------------------------------------------------------------------ the composer and macros
    # (the ticket page's composer: one submit, one transaction; tickets.services.compose)

    @extend_schema(
        summary="Write and change fields in one go (the composer)",
        description="A reply, note or vendor message (`body`, optional) and any of status, priority, "
        "category and assignee (each changed only when sent), all or nothing. With If-Match, a change "
        "of fields is refused with 412 if the ticket changed since.",
        request=ComposeInput,
        parameters=[IF_MATCH],
        responses={200: ComposedSerializer, **ERRORS, 412: STALE},
    )
    @action(detail=True, methods=["post"])
    def compose(self, request, pk=None):
        ticket = self.get_object()
        user = request.user
        require(permissions.can_compose(user, ticket), REFUSED)
        data = self.validated_input(ComposeInput)
        versions = if_match_versions(request)
        changes = compose_changes(ticket, data)
        done = services.compose_ticket(
            ticket_id=ticket.pk,
            by=user,
            kind=data["kind"],
            body=data["body"],
            changes=changes,
            channel=Channel.API,
            version=max(versions) if versions and changes.any() else None,
        )
        return self._composed_response(done)

    @extend_schema(
        summary="Apply a macro",
        description="The macro's text (placeholders filled in) and field changes, all or nothing.",
        request=ApplyMacroInput,
        parameters=[IF_MATCH],
        responses={200: ComposedSerializer, **ERRORS, 412: STALE},
    )
    @action(detail=True, methods=["post"], url_path="apply-macro")
    def apply_macro(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(ApplyMacroInput)
        versions = if_match_versions(request)
        done = services.apply_macro(
            ticket_id=ticket.pk, macro_id=data["macro"], by=request.user, version=max(versions) if versions else None
        )
        return self._composed_response(done)

    def _composed_response(self, done: services.Composed) -> Response:
        message = None
        if done.message is not None:
            written = TicketMessage.objects.select_related("author").prefetch_related("attachments")
            message = MessageSerializer(written.get(pk=done.message.pk), context=self.get_serializer_context()).data
        data = self._ticket_data(done.ticket.pk)
        return Response({"message": message, "ticket": data}, headers={"ETag": ticket_etag(data["version"])})

    # ------------------------------------------------------------------ attachments

    @extend_schema(summary="Attachments", responses={200: AttachmentSerializer(many=True), 404: ERRORS[404]})
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filter_backends=[],
        parser_classes=[MultiPartParser, FormParser],
    )
    def attachments(self, request, pk=None):
        """Files of the ticket; those of internal notes only for staff readers."""
        ticket = self.get_object()
        data = AttachmentSerializer(self._visible_attachments(ticket), many=True).data
        return Response(data)

    @extend_schema(
        summary="Upload attachments",
        description="Multipart form: one or more `file` parts, optionally the `message` (your own, on this "
        "ticket) they belong to. The type is read from the content; over-limit uploads store nothing.",
        request={"multipart/form-data": AttachmentUploadInput},
        responses={201: AttachmentSerializer(many=True), **ERRORS},
    )
    @attachments.mapping.post
    def upload_attachments(self, request, pk=None):
        ticket = self.get_object()
        user = request.user
        require(permissions.can_reply(user, ticket), REFUSED)
        if ticket.status == Status.CLOSED and not permissions.can_work(user, ticket):
            # Same rule as a reply: a closed ticket is final for its requester and vendor.
            raise ValidationError("This ticket is closed; open a new ticket to send more files.")
        data = self.validated_input(AttachmentUploadInput)
        message = None
        if data.get("message") is not None:
            kinds = permissions.visible_message_kinds(user, ticket)
            message = ticket.messages.filter(pk=data["message"], kind__in=kinds, author=user).first()
            if message is None:
                raise ValidationError("No message of yours with that id on this ticket.")
            if message.is_internal:
                require(permissions.can_add_note(user, ticket), REFUSED)
        with transaction.atomic():
            saved = services.store_attachments(ticket=ticket, by=user, uploads=data["file"], message=message)
        saved_ids = [attachment.pk for attachment in saved]
        rows = Attachment.objects.filter(pk__in=saved_ids).select_related("message", "uploaded_by")
        return Response(AttachmentSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download an attachment",
        parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, always as a download."
            ),
            404: ERRORS[404],
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
        url_name="attachment-download",
        renderer_classes=[JSONRenderer, AnyMediaRenderer],
        pagination_class=None,
        filter_backends=[],
    )
    def download_attachment(self, request, pk=None, attachment_id=None):
        """Sent as an attachment, never rendered: nosniff and a sandboxing CSP, whatever its type."""
        ticket = self.get_object()
        attachment = generics.get_object_or_404(self._visible_attachments(ticket), pk=attachment_id)
        return attachment_response(attachment)

    # ------------------------------------------------------------------ history

    @extend_schema(summary="History", responses={200: EventSerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request, pk=None):
        """The append-only history; requesters and vendors get its public events with their public data only."""
        ticket = self.get_object()
        events = ticket.events.select_related("actor").exclude(
            kind__in=permissions.hidden_event_kinds(request.user, ticket)
        )
        if not permissions.can_see_internal(request.user, ticket):
            events = events.filter(internal=False)
        shown = permissions.without_hidden_files(
            request.user, ticket, permissions.visible_events(request.user, ticket, events)
        )
        return Response(EventSerializer(shown, many=True).data)

    # ------------------------------------------------------------------ actions

    @_action_schema(summary="Take this ticket (assign it to yourself)", if_match=True)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        self.validated_input(EmptyInput)
        self._at_read_version(ticket, lambda: services.claim_ticket(ticket_id=ticket.pk, by=request.user))
        return self._ticket_response(ticket.pk)

    @extend_schema(
        summary="Claim the next ticket of your tiers",
        description="Highest priority, oldest first. 204 (no body) when your queues are empty; 403 if you "
        "work no tier.",
        request=EmptyInput,
        responses={
            200: TicketSerializer,
            204: OpenApiResponse(description="Your queues are empty."),
            403: OpenApiResponse(description="Only agents of a tier take tickets from the queues."),
        },
    )
    @action(detail=False, methods=["post"], url_path="take-next", pagination_class=None, filter_backends=[])
    def take_next(self, request):
        self.validated_input(EmptyInput)
        ticket = services.take_next(by=request.user)
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._ticket_response(ticket.pk)

    @_action_schema(
        request=EscalateInput, summary="Functional escalation (up one or more tiers, with a note)", if_match=True
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(EscalateInput)
        self._at_read_version(
            ticket,
            lambda: services.escalate_ticket(
                ticket_id=ticket.pk,
                by=request.user,
                reason=data["reason"],
                to_tier=data.get("to_tier"),
                vendor=data.get("vendor"),
                vendor_reference=data.get("vendor_reference", ""),
            ),
        )
        return self._ticket_response(ticket.pk)

    @_action_schema(request=DeescalateInput, summary="De-escalate (down one or more tiers, with a note)", if_match=True)
    @action(detail=True, methods=["post"])
    def deescalate(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(DeescalateInput)
        self._at_read_version(
            ticket,
            lambda: services.deescalate_ticket(
                ticket_id=ticket.pk, by=request.user, reason=data["reason"], to_tier=data.get("to_tier")
            ),
        )
        return self._ticket_response(ticket.pk)

    @_action_schema(request=TransitionInput, summary="Change status (new/open/pending)", if_match=True)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(TransitionInput)
        self._at_read_version(
            ticket, lambda: services.change_status(ticket_id=ticket.pk, by=request.user, status=data["status"])
        )
        return self._ticket_response(ticket.pk)

    @_action_schema(request=ResolveInput, summary="Resolve with a resolution note", if_match=True)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(ResolveInput)
        self._at_read_version(ticket, lambda: services.resolve_ticket(ticket_id=ticket.pk, by=request.user, **data))
        return self._ticket_response(ticket.pk)

    @_action_schema(request=ReopenInput, summary="Reopen a resolved ticket", if_match=True)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.get_object()
        data = self.validated_input(ReopenInput)
        self._at_read_version(
            ticket, lambda: services.reopen_ticket(ticket_id=ticket.pk, by=request.user, reason=data["reason"])
        )
        return self._ticket_response(ticket.pk)

    @_action_schema(summary="Confirm the resolution (requester); the ticket closes", if_match=True)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        ticket = self.get_object()
        self.validated_input(EmptyInput)
        self._at_read_version(ticket, lambda: services.confirm_resolution(ticket_id=ticket.pk, by=request.user))
        return self._ticket_response(ticket.pk)

    @_action_schema(request=ReasonInput, summary="Hierarchical escalation: notify the managers", if_match=True)
    @action(detail=True, methods=["post"], url_path="notify-managers")
    def notify_managers(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(ReasonInput)
        self._at_read_version(
            ticket, lambda: services.notify_managers(ticket_id=ticket.pk, by=request.user, reason=data["reason"])
        )
        return self._ticket_response(ticket.pk)

    @_action_schema(summary="Open the ticket to a swarm", if_match=True)
    @action(detail=True, methods=["post"], url_path="open-swarm")
    def open_swarm(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        self.validated_input(EmptyInput)
        self._at_read_version(ticket, lambda: services.open_swarm(ticket_id=ticket.pk, by=request.user))
        return self._ticket_response(ticket.pk)

    @_action_schema(summary="Join the swarm (agents of any tier)", if_match=True)
    @action(detail=True, methods=["post"], url_path="join-swarm")
    def join_swarm(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.may_join_swarm(request.user, ticket), REFUSED)
        self.validated_input(EmptyInput)
        self._at_read_version(ticket, lambda: services.join_swarm(ticket_id=ticket.pk, by=request.user))
        return self._ticket_response(ticket.pk)

    @_action_schema(request=WatcherInput, responses=DetailSerializer, summary="Add a watcher")
    @action(detail=True, methods=["post"])
    def watchers(self, request, pk=None):
        """Whoever works the ticket adds anyone allowed; its requester adds colleagues by e-mail address.

        A requester gets the same answer whether the address is unknown, refused or added.
        """
        ticket = self.get_object()
        require(permissions.can_add_watcher(request.user, ticket), REFUSED)
        data = self.validated_input(WatcherInput)
        answer = services.add_watcher_by_address(ticket_id=ticket.pk, by=request.user, who=data["who"])
        return Response({"detail": answer})

    @_action_schema(request=MergeInput, summary="Merge this duplicate into another ticket")
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(MergeInput)
        if not self.get_queryset().filter(pk=data["into"]).exists():
            raise ValidationError(f"There is no ticket {data['into']} you may see.")
        services.merge_tickets(duplicate_id=ticket.pk, into_id=data["into"], by=request.user)
        return self._ticket_response(ticket.pk)

    @_action_schema(request=LinkProblemInput, summary="Point this incident at a problem ticket (null unlinks)")
    @action(detail=True, methods=["post"], url_path="link-problem")
    def link_problem(self, request, pk=None):
        ticket = self.get_object()
        require(permissions.can_work(request.user, ticket), REFUSED)
        data = self.validated_input(LinkProblemInput)
        problem_id = data["problem"]
        if problem_id is not None and not self.get_queryset().filter(pk=problem_id).exists():
            raise ValidationError(f"There is no ticket {problem_id} you may see.")
        services.link_to_problem(incident_id=ticket.pk, problem_id=problem_id, by=request.user)
        return self._ticket_response(ticket.pk)
