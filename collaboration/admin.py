from django.contrib import admin

from twins.admin import ServiceAdmin, service_call

from .models import AuditEntry, AuditHead, Comment
from .services.comments import comment_delete, comment_resolve


@admin.register(Comment)
class CommentAdmin(ServiceAdmin):
    """Moderation through the comment services (audit entry, the room told): resolve, reopen or delete.
    Comments are written in the workspace by their authors, so the rest is shown read-only."""

    list_display = ["__str__", "layout", "asset", "resolved", "created_at"]
    list_filter = ["resolved", "layout__factory"]
    search_fields = ["text", "author__username"]
    readonly_fields = ["layout", "author", "text", "asset", "position", "camera", "parent", "mentions", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "resolved" in form.changed_data:
            service_call(request, comment_resolve, comment=obj, resolved=form.cleaned_data["resolved"], by=request.user)

    def delete_model(self, request, obj):
        if Comment.objects.filter(pk=obj.pk).exists():  # a reply goes with its parent, perhaps earlier in this batch
            service_call(request, comment_delete, comment=obj, by=request.user)


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
