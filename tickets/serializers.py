"""Serializers of the ticket API. They check the shape of input only; rules live in the services.

Output serializers read what the view's queryset already loaded (``select_related`` /
``prefetch_related``); none of them queries the database. Input serializers are strict:
a key they do not accept is a 400 that names it, so a client never believes a field was
written when it was dropped (mass assignment).
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.core.serializers import RequiredTextField, StrictSerializer

from . import permissions, services
from .models import (
    Attachment,
    Category,
    EventKind,
    Level,
    Macro,
    MessageKind,
    Priority,
    SavedView,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    Tier,
    Vendor,
)

URL_NAMESPACE = "tickets_api"

# Impact and urgency share one value set; their own labels say what each level means to the
# person filling them in (and keep the two apart in the OpenAPI schema's enums).
IMPACT_CHOICES = [
    (Level.HIGH, "High: many people or a critical service"),
    (Level.MEDIUM, "Medium: a team or an important service"),
    (Level.LOW, "Low: one person, with a workaround"),
]
URGENCY_CHOICES = [
    (Level.HIGH, "High: work has stopped"),
    (Level.MEDIUM, "Medium: work is slowed down"),
    (Level.LOW, "Low: it can wait"),
]


# --------------------------------------------------------------------------- output


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class NamedBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


TICKET_DETAIL_ROUTE = f"{URL_NAMESPACE}:ticket-detail"


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the API shows it. ``priority_reason`` is for staff readers only, ``vendor_reference``
    for staff readers and the ticket's vendor (``permissions.can_see_vendor_reference``)."""

    STAFF_ONLY: ClassVar[frozenset[str]] = frozenset({"priority_reason", "sla_due_at", "sla_breached"})

    url = serializers.HyperlinkedIdentityField(view_name=TICKET_DETAIL_ROUTE)
    reference = serializers.CharField(read_only=True)
    requester = UserBriefSerializer(read_only=True)
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    category = NamedBriefSerializer(read_only=True, allow_null=True)
    vendor = NamedBriefSerializer(read_only=True, allow_null=True)
    vendor_reference = serializers.CharField(
        read_only=True, required=False, help_text="Staff readers and the ticket's vendor only."
    )
    priority_reason = serializers.CharField(read_only=True, required=False, help_text="Staff readers only.")
    impact = serializers.ChoiceField(choices=IMPACT_CHOICES, read_only=True)
    urgency = serializers.ChoiceField(choices=URGENCY_CHOICES, read_only=True)
    sla_due_at = serializers.DateTimeField(
        read_only=True,
        required=False,
        allow_null=True,
        help_text="Staff readers only: the nearest due time of the running SLA/OLA/UC clocks (null: none runs).",
    )
    sla_breached = serializers.BooleanField(
        read_only=True, required=False, help_text="Staff readers only: a clock of the open ticket missed its target."
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text="Goes up with every change of the ticket's fields; the ETag carries it. Send it back as "
        "If-Match on PATCH so an edit built on an older read is refused (412) instead of overwriting.",
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "url",
            "subject",
            "description",
            "status",
            "tier",
            "priority",
            "impact",
            "urgency",
            "priority_reason",
            "channel",
            "category",
            "requester",
            "assignee",
            "vendor",
            "vendor_reference",
            "is_swarm",
            "is_problem",
            "problem",
            "merged_into",
            "resolution_note",
            "created_at",
            "updated_at",
            "version",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "sla_due_at",
            "sla_breached",
        ]
        read_only_fields = fields

    def _staff_reader(self) -> bool:
        # Once per serializer: a list page's tickets share one child serializer and one reader.
        if not hasattr(self, "_is_staff_reader"):
            request = self.context.get("request")
            self._is_staff_reader = request is not None and permissions.is_staff_reader(request.user)
        return self._is_staff_reader

    def _vendor_reference_reader(self, ticket: Ticket) -> bool:
        request = self.context.get("request")
        return request is not None and permissions.can_see_vendor_reference(request.user, ticket)

    def to_representation(self, instance: Ticket) -> dict:
        """DRF's field-by-field representation, less what this reader may not see.

        Keys keep the ``Meta.fields`` order. The staff-only keys and ``vendor_reference`` are left
        out of the answer rather than sent empty, so a requester cannot tell a blank value from a
        hidden one. They stay declared fields (not removed in ``get_fields``) so that the OpenAPI
        schema, built without a reader, documents them as optional.
        """
        data = super().to_representation(instance)
        if not self._staff_reader():
            for name in self.STAFF_ONLY:
                data.pop(name, None)
        if not self._vendor_reference_reader(instance):
            data.pop("vendor_reference", None)
        return data


# What a client can read on a ticket: writing any of it outside the writable fields is "read-only".
TICKET_READABLE: frozenset[str] = frozenset(
    {*TicketSerializer.Meta.fields}
    | {f.name for f in Ticket._meta.get_fields() if not f.auto_created or f.concrete}
    | {"messages", "attachments", "events"}
)


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = UserBriefSerializer(read_only=True)
    internal = serializers.BooleanField(source="is_internal", read_only=True, help_text="Attached to an internal note.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "created_at", "uploaded_by", "message", "internal"]
        fields += ["download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_download_url(self, attachment: Attachment) -> str:
        return reverse(
            f"{URL_NAMESPACE}:ticket-attachment-download",
            kwargs={"pk": attachment.ticket_id, "attachment_id": attachment.pk},
        )


class MessageSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "kind", "author", "body", "channel", "created_at", "attachments"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    # A plain string in the schema: an enum named "kind" would collide with the message kinds.
    kind = serializers.CharField(read_only=True, help_text="One of: " + ", ".join(EventKind.values) + ".")
    actor = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "at", "data", "internal"]
        read_only_fields = fields


class FollowUpSerializer(serializers.Serializer):
    """Answer to a requester's reply on a closed ticket: the new ticket it started."""

    detail = serializers.CharField()
    ticket = TicketSerializer()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


# --------------------------------------------------------------------------- input


class TicketCreateSerializer(StrictSerializer):
    readable = TICKET_READABLE

    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(help_text="Markdown.")
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    impact = serializers.ChoiceField(choices=IMPACT_CHOICES, default=Level.MEDIUM)
    urgency = serializers.ChoiceField(choices=URGENCY_CHOICES, default=Level.MEDIUM)
    requester = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        help_text="Agents and managers only: open the ticket on behalf of this user.",
    )

    def locked_fields(self) -> set[str]:
        return set() if permissions.can_create_for_others(self._user()) else {"requester"}


class TicketUpdateSerializer(StrictSerializer):
    """PATCH: category and priority, for staff. Status, tier and assignee change through actions."""

    readable = TICKET_READABLE

    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    impact = serializers.ChoiceField(choices=IMPACT_CHOICES, required=False)
    urgency = serializers.ChoiceField(choices=URGENCY_CHOICES, required=False)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, help_text="Overrides the matrix; needs a priority_reason."
    )
    priority_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def locked_fields(self) -> set[str]:
        return set() if permissions.is_staff_reader(self._user()) else set(self.fields)

    def validate(self, attrs: dict) -> dict:
        if "priority_reason" in attrs and "priority" not in attrs:
            raise serializers.ValidationError({"priority_reason": "Send it with the priority it explains."})
        return attrs


class MessageInput(StrictSerializer):
    body = RequiredTextField(trim_whitespace=False, help_text="Markdown.")
    kind = serializers.ChoiceField(choices=MessageKind.choices, default=MessageKind.PUBLIC)


class AttachmentUploadInput(StrictSerializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False), help_text="One or more files."
    )
    message = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of your own message on this ticket to attach the files to."
    )


class EscalateInput(StrictSerializer):
    reason = RequiredTextField(help_text="Escalation note: what was tried, what is known.")
    to_tier = serializers.IntegerField(
        min_value=Tier.T1, max_value=Tier.T4, required=False, allow_null=True, help_text="Default: one tier up."
    )
    vendor = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all(), required=False, allow_null=True)
    vendor_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class DeescalateInput(StrictSerializer):
    reason = RequiredTextField(help_text="De-escalation note.")
    to_tier = serializers.IntegerField(
        min_value=Tier.T1, max_value=Tier.T3, required=False, allow_null=True, help_text="Default: one tier down."
    )


class TransitionInput(StrictSerializer):
    status = serializers.ChoiceField(choices=Status.choices)


class ResolveInput(StrictSerializer):
    resolution_note = RequiredTextField()
    resolve_incidents = serializers.BooleanField(default=False, help_text="A problem also resolves its incidents.")


class ReopenInput(StrictSerializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class ReasonInput(StrictSerializer):
    reason = RequiredTextField()


class MergeInput(StrictSerializer):
    into = serializers.IntegerField(min_value=1, help_text="Id of the ticket this duplicate is merged into.")


class LinkProblemInput(StrictSerializer):
    problem = serializers.IntegerField(min_value=1, allow_null=True, help_text="Problem ticket id; null unlinks.")


class WatcherInput(StrictSerializer):
    who = serializers.CharField(
        max_length=254, help_text="A colleague's e-mail address (agents may also give a username)."
    )


class DetailSerializer(serializers.Serializer):
    """An answer that is only a sentence (adding a watcher: the same sentence whatever happened)."""

    detail = serializers.CharField()


class SavedViewSerializer(serializers.ModelSerializer):
    """A saved queue view: its name, whether it is shared, and the queue query string it opens.

    ``mine``: the view belongs to the caller (only then may they delete it). Writing goes
    through ``SavedViewInput`` and ``tickets.views.saved_views.save_view``.
    """

    mine = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "shared", "query", "mine", "created_at"]
        read_only_fields = fields

    def get_mine(self, view: SavedView) -> bool:
        return view.owner_id == self.context["request"].user.pk


class SavedViewInput(StrictSerializer):
    """Save a view: a name, the queue query string (cleaned to the queue's filters and sort), shared or not."""

    name = serializers.CharField(max_length=80)
    query = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    shared = serializers.BooleanField(required=False, default=False)


# --------------------------------------------------------------------------- macros and the composer
# (the ticket page's composer and macros; rules in tickets.services.compose / tickets.services.macros)


class MacroSerializer(serializers.ModelSerializer):
    """A macro: personal (``personal``) or for the agents of ``tier`` (every tier when null).

    ``mine``: the caller may change or delete it (their own, or a tier macro for managers).
    """

    personal = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField()

    class Meta:
        model = Macro
        fields = ["id", "name", "personal", "tier", "kind", "body", "status", "priority", "category", "assign_to_me"]
        fields += ["mine", "created_at"]
        read_only_fields = fields

    def get_personal(self, macro: Macro) -> bool:
        return macro.owner_id is not None

    def get_mine(self, macro: Macro) -> bool:
        user = self.context["request"].user
        return permissions.can_manage_macro(user, macro)


class MacroInput(StrictSerializer):
    name = serializers.CharField(max_length=80)
    personal = serializers.BooleanField(default=True, help_text="False: a tier macro (managers only).")
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=MessageKind.choices, default=MessageKind.PUBLIC)
    body = serializers.CharField(
        allow_blank=True, default="", help_text="Markdown; placeholders {requester}, {reference}, {subject}, {agent}."
    )
    status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True, default=None)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    assign_to_me = serializers.BooleanField(default=False)


class ComposeInput(StrictSerializer):
    """One composer submit: a message (optional) and the fields to change (each only when sent)."""

    kind = serializers.ChoiceField(choices=MessageKind.choices, default=MessageKind.PUBLIC)
    body = serializers.CharField(allow_blank=True, default="", trim_whitespace=False, help_text="Markdown.")
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    impact = serializers.ChoiceField(choices=IMPACT_CHOICES, required=False)
    urgency = serializers.ChoiceField(choices=URGENCY_CHOICES, required=False)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_null=True, help_text="Overrides the matrix; needs a reason."
    )
    priority_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )


class ApplyMacroInput(StrictSerializer):
    macro = serializers.IntegerField(min_value=1)


class ComposedSerializer(serializers.Serializer):
    """What a composer submit did: the message written (or null) and the ticket as it is now."""

    message = MessageSerializer(read_only=True, allow_null=True)
    ticket = serializers.DictField(read_only=True, help_text="The ticket, as GET /api/tickets/{id}/ answers it.")


def compose_changes(ticket: Ticket, data: dict) -> services.FieldChanges:
    """The field changes of a composer call: each field only when it was sent."""
    priority: services.PriorityChange | services.Keep = services.KEEP
    if data.keys() & {"impact", "urgency", "priority", "priority_reason"}:
        priority = services.PriorityChange(
            impact=data.get("impact"),
            urgency=data.get("urgency"),
            priority=data.get("priority"),
            reason=data.get("priority_reason", ticket.priority_reason if "priority" in data else ""),
        )
    return services.FieldChanges(
        status=data.get("status", services.KEEP),
        priority=priority,
        category=data.get("category", services.KEEP),
        assignee=data.get("assignee", services.KEEP),
    )
