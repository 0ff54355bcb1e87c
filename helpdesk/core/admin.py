from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Heartbeat, OutboxMessage, User


@admin.register(User)
class HelpdeskUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only view of the outbox; an admin may only put failed messages back in the queue."""

    list_display = ("id", "task", "status", "attempts", "created_at", "available_at", "done_at")
    list_filter = ("status", "task")
    search_fields = ("task", "dedupe_key")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry the selected failed messages")
    def retry_failed(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(status=OutboxMessage.Status.FAILED).update(
            status=OutboxMessage.Status.PENDING, attempts=0, available_at=timezone.now()
        )
        self.message_user(request, f"{count} message(s) queued again.")


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "at")
    readonly_fields = ("name", "at")
