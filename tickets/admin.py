from django.contrib import admin

from .models import TierMembership, Vendor, VendorContact


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
