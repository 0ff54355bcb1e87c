from django.contrib import admin

from .models import CannedReply, Category, Ticket, TicketEvent, TierMembership, Vendor, VendorContact


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
