from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from .models import (
    CannedReply,
    Category,
    InboundMail,
    OutboundMail,
    Ticket,
    TicketEvent,
    TierMembership,
    Vendor,
    VendorContact,
)


class VendorContactInline(admin.TabularInline):
    model = VendorContact
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "is_active")
    search_fields = ("name", "email")
    inlines = [VendorContactInline]


@admin.register(TierMembership)
class TierMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tier")
    list_filter = ("tier",)
    autocomplete_fields = ["user"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "route_tier", "is_active")
    list_filter = ("route_tier", "is_active")
    search_fields = ("name",)
    list_select_related = ("parent",)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "tier")
    list_filter = ("tier",)
    search_fields = ("title", "body")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tickets change only through the services (which record history); the admin only looks."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("id", "subject", "status", "tier", "priority", "requester", "assignee", "created_at")
    list_filter = ("status", "tier", "priority", "channel")
    search_fields = ("subject", "requester__username", "requester__email")
    list_select_related = ("requester", "assignee")
    date_hierarchy = "created_at"


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "kind", "actor", "at")
    list_filter = ("kind",)
    list_select_related = ("ticket", "actor")


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    """Every received e-mail, raw, with what became of it; held and failed ones can be processed again."""

    list_display = ("received_at", "sender", "subject", "status", "action", "ticket", "source", "size")
    list_filter = ("status", "action", "source")
    search_fields = ("sender", "subject", "message_id", "dedupe_key")
    list_select_related = ("ticket",)
    date_hierarchy = "received_at"
    actions = ["process_again"]
    exclude = ("raw",)
    readonly_fields = (
        "dedupe_key",
        "message_id",
        "sender",
        "subject",
        "source",
        "status",
        "action",
        "reason",
        "size",
        "received_at",
        "processed_at",
        "ticket",
        "ticket_message",
        "download",
        "preview",
    )

    def get_queryset(self, request):
        # The raw bytes (up to tens of MB) are read only when a page shows them.
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/raw/", self.admin_site.admin_view(self.raw_view), name="tickets_inboundmail_raw"),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk):
        """The message exactly as received, as a download (never rendered)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        mail = get_object_or_404(InboundMail, pk=pk)
        response = HttpResponse(bytes(mail.raw), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="inbound-{mail.pk}.eml"'
        return response

    @admin.display(description="Raw message")
    def download(self, obj):
        url = reverse("admin:tickets_inboundmail_raw", args=[obj.pk])
        return format_html('<a href="{}">Download .eml ({} bytes)</a>', url, obj.size)

    @admin.display(description="Start of the message")
    def preview(self, obj):
        text = bytes(obj.raw[:20000]).decode("utf-8", errors="replace")
        return format_html('<pre style="white-space:pre-wrap;max-height:40em;overflow:auto">{}</pre>', text)

    @admin.action(description="Process again (held, failed or pending messages)")
    def process_again(self, request, queryset):
        from .mail.inbound import process_inbound

        again = queryset.filter(
            status__in=[InboundMail.Status.HELD, InboundMail.Status.FAILED, InboundMail.Status.PENDING]
        )
        results = [process_inbound(pk).status for pk in again.values_list("pk", flat=True)]
        if results:
            self.message_user(request, f"Processed {len(results)} message(s): {', '.join(results)}.")
        else:
            self.message_user(request, "Nothing to process: only held, failed or pending messages are.")


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    """Every notification e-mail and its delivery; a row left 'sending' had an unknown outcome (never resent)."""

    list_display = ("created_at", "kind", "recipients", "subject", "status", "attempts", "sent_at", "ticket_pk")
    list_filter = ("status", "kind")
    search_fields = ("key", "subject", "message_id")
    date_hierarchy = "created_at"
