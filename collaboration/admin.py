from django.contrib import admin

from .models import AuditEntry, AuditHead, Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "layout", "asset", "resolved", "created_at"]
    list_filter = ["resolved", "layout__factory"]
    search_fields = ["text", "author__username"]
    raw_id_fields = ["layout", "asset", "parent"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the chain is only ever appended to, by the services."""

    list_display = ["seq", "factory", "ts", "actor", "action", "object_type", "object_id"]
    list_filter = ["factory", "action"]
    search_fields = ["actor", "action", "object_id"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]


@admin.register(AuditHead)
class AuditHeadAdmin(ReadOnlyAdmin):
    """Read-only: each factory's newest audit entry, moved only by the append that writes it."""

    list_display = ["factory", "seq", "hash", "updated_at"]
    readonly_fields = [f.name for f in AuditHead._meta.fields]
