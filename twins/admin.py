"""Admin for the plant model and twins. Edits that must stay consistent (versions, revisions, audit,
broadcast) go through the same services as the API, via save_model/delete_model and actions."""
from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .errors import ServiceError
from .models import (Alarm, AlarmRule, Asset, AssetType, Connection, Experiment, ExperimentPoint, Factory, Layout, Membership,
                     SimulationReplication, SimulationRun, TelemetryPoint, TelemetryRollup, Twin)
from .services.aas import factory_aas_import
from .services.alarms import alarm_rule_create, alarm_rule_delete, alarm_rule_update
from .services.assets import asset_create, asset_delete, asset_update
from .services.catalogue import asset_type_save, asset_type_set_model
from .services.connections import connection_create, connection_delete, connection_update
from .services.factories import factory_create, factory_update, membership_remove, membership_set
from .services.layouts import layout_approve, layout_archive, layout_branch, layout_create, layout_reject, layout_submit, layout_update
from .services.model_optimize import describe
from .services.twins import twin_create, twin_delete, twin_update


def service_call(request, func, *args, **kwargs):
    """Call a service for an admin request: its refusal becomes an error message instead of a 500."""
    try:
        return func(*args, **kwargs)
    except ServiceError as exc:
        messages.error(request, exc.message)
        request._service_refused = True  # noqa: SLF001 (read by ServiceAdmin)
        return None


def _refused(request) -> bool:
    return getattr(request, "_service_refused", False)


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose saves go through the services: when a service refused, no "changed successfully", no
    admin log entry for a change that did not happen, and back to the form instead of the saved object."""

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and _refused(request):
            return
        super().message_user(request, message, level, *args, **kwargs)

    def log_addition(self, request, obj, message):
        return None if _refused(request) else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if _refused(request) else super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(request.path) if _refused(request) else super().response_add(request, obj, post_url_continue)

    def delete_queryset(self, request, queryset):
        """"Delete selected" deletes one by one, each through delete_model (and so through its service)."""
        for obj in queryset:
            self.delete_model(request, obj)


def _changes(form, fields) -> dict:
    return {f: form.cleaned_data[f] for f in form.changed_data if f in fields}


class MembershipInlineForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:  # a membership is one user in one factory; another user is another row
            self.fields["user"].disabled = True


class MembershipInline(admin.TabularInline):
    """Saved by FactoryAdmin.save_formset through the membership services, never by the formset itself."""

    model = Membership
    form = MembershipInlineForm
    extra = 0
    autocomplete_fields = ["user"]


FACTORY_FIELDS = ["name", "description", "floor_width_m", "floor_depth_m"]


class AasImportForm(forms.Form):
    file = forms.FileField(help_text="An AAS V3.0 environment in JSON, at most a few MB.")


@admin.register(Factory)
class FactoryAdmin(ServiceAdmin):
    list_display = ["name", "slug", "floor_width_m", "floor_depth_m", "baseline_layout", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["baseline_layout", "created_at", "asset_administration_shell"]
    inlines = [MembershipInline]

    @admin.display(description="Asset Administration Shell")
    def asset_administration_shell(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="/api/factories/{}/aas/">Download (AAS V3.0 JSON)</a> · <a href="{}">Import…</a>',
                           obj.pk, reverse("admin:twins_factory_import_aas", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:pk>/import-aas/", self.admin_site.admin_view(self.import_aas), name="twins_factory_import_aas"),
                *super().get_urls()]

    def import_aas(self, request, pk):
        """The import through the same service as POST /api/factories/{id}/aas/ (owner; staff for the catalogue)."""
        factory = Factory.objects.get(pk=pk)
        form = AasImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                messages.error(request, "The file is not UTF-8 text: export the environment as JSON.")
            else:
                result = service_call(request, factory_aas_import, factory=factory, text=text, by=request.user)
                if result is not None:
                    t, a = result["twins"], result["asset_types"]
                    messages.success(request, f"Imported: {len(t['created'])} twins created, {len(t['existing'])} already there; "
                                              f"{len(a['created'])} asset types created, {len(a['updated'])} updated, "
                                              f"{len(a['unchanged'])} unchanged.")
                    return HttpResponseRedirect(reverse("admin:twins_factory_change", args=[pk]))
        context = {**self.admin_site.each_context(request), "factory": factory, "form": form, "title": "Import AAS"}
        return TemplateResponse(request, "admin/twins/factory/import_aas.html", context)

    def get_readonly_fields(self, request, obj=None):
        # The slug is chosen once, at creation (factory_update cannot change it).
        return [*self.readonly_fields, "slug"] if obj is not None else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def has_delete_permission(self, request, obj=None):
        # No service deletes a factory: its audit chain would go with it.
        return False

    def save_model(self, request, obj, form, change):
        """Through factory_create / factory_update like the API: validation and the audit entry."""
        if change:
            changes = _changes(form, FACTORY_FIELDS)
            result = service_call(request, factory_update, factory=Factory.objects.get(pk=obj.pk), changes=changes, by=request.user) if changes else obj
        else:
            data = {f: form.cleaned_data.get(f) for f in FACTORY_FIELDS}
            result = service_call(request, factory_create, slug=form.cleaned_data.get("slug"), by=request.user, **data)
        if result is not None:
            obj.pk = result.pk

    def save_formset(self, request, form, formset, change):
        """Memberships through membership_set / membership_remove: audit entry, the last owner kept, and a
        removed member's sockets closed (user.revoked)."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # fills new_objects / changed_objects / deleted_objects; writes nothing
        if form.instance.pk is None or _refused(request):
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        factory = Factory.objects.get(pk=form.instance.pk)
        for membership in formset.deleted_objects:
            service_call(request, membership_remove, factory=factory, username=Membership.objects.get(pk=membership.pk).user.username, by=request.user)
        for membership in [*(m for m, _ in formset.changed_objects), *formset.new_objects]:
            service_call(request, membership_set, factory=factory, username=membership.user.username, role=membership.role, by=request.user)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    list_display = ["user", "factory", "role", "created_at"]
    list_filter = ["role", "factory"]
    search_fields = ["user__username", "factory__name"]
    autocomplete_fields = ["user", "factory"]

    def get_readonly_fields(self, request, obj=None):
        # A membership is one user in one factory; another pair is another membership.
        return ["user", "factory", "created_at"] if obj is not None else ["created_at"]

    def save_model(self, request, obj, form, change):
        """Through membership_set like the API: audit entry, and never the factory's last owner demoted."""
        result = service_call(request, membership_set, factory=obj.factory, username=obj.user.username, role=obj.role, by=request.user)
        if result is not None:
            obj.pk = result.pk

    def delete_model(self, request, obj):
        """Through membership_remove: audit entry, the last owner kept, the member's sockets closed."""
        service_call(request, membership_remove, factory=obj.factory, username=obj.user.username, by=request.user)


CATALOGUE_FIELDS = ["name", "kind", "width_m", "depth_m", "height_m", "clearance_m", "color", "defaults"]


@admin.register(AssetType)
class AssetTypeAdmin(ServiceAdmin):
    list_display = ["name", "kind", "width_m", "depth_m", "height_m", "color", "model_file", "model_sizes"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["model_sizes", "model_original", "model_far_file"]

    @admin.display(description="Model size before → after")
    def model_sizes(self, obj):
        return describe(obj.model_stats)

    def save_model(self, request, obj, form, change):
        """Through the catalogue service (validation; layouts using a changed type hear of it); then the model
        file, checked before it is stored."""
        data = {f: form.cleaned_data[f] for f in CATALOGUE_FIELDS if f in form.cleaned_data and (not change or f in form.changed_data)}
        saved = service_call(request, asset_type_save, by=request.user, asset_type=AssetType.objects.get(pk=obj.pk) if change else None, data=data)
        if saved is None:
            return
        obj.pk = saved.pk
        upload = form.cleaned_data.get("model_file")
        if upload and hasattr(upload, "read") and "model_file" in form.changed_data:
            try:
                asset_type_set_model(asset_type=saved, content=upload.read(), filename=upload.name, by=request.user)
            except ServiceError as exc:
                messages.error(request, f"Model not stored: {exc.message}")


class AssetInline(admin.TabularInline):
    model = Asset
    extra = 0
    fields = ["name", "asset_type", "twin_key", "x", "z", "rotation_deg", "version"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class ConnectionInline(admin.TabularInline):
    model = Connection
    fk_name = "layout"
    extra = 0
    fields = ["source", "target", "buffer_capacity", "transport_speed_mps", "weight"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Layout)
class LayoutAdmin(ServiceAdmin):
    list_display = ["name", "factory", "status", "revision", "parent", "created_by", "updated_at"]
    list_filter = ["status", "factory"]
    search_fields = ["name", "description"]
    readonly_fields = ["status", "revision", "content_revision", "parent", "created_by", "created_at", "updated_at", "reject_reason"]
    inlines = [AssetInline, ConnectionInline]
    actions = ["branch", "submit", "approve", "reject", "archive"]

    def _each(self, request, queryset, func, verb, **kwargs):
        done = sum(1 for layout in queryset if service_call(request, func, layout=layout, by=request.user, **kwargs) is not None)
        if done:
            messages.success(request, f"{verb} {done} layout(s).")

    def get_readonly_fields(self, request, obj=None):
        # The factory is chosen once, when the layout is created; afterwards it is part of its identity.
        return [*self.readonly_fields, "factory"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Through the layout services like every other path: revision bump, audit entry and broadcast."""
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in ("name", "description")}
            if not changes:
                return
            result = service_call(request, layout_update, layout=Layout.objects.get(pk=obj.pk), changes=changes, by=request.user)
        else:
            result = service_call(request, layout_create, factory=form.cleaned_data["factory"], name=form.cleaned_data["name"],
                             description=form.cleaned_data.get("description", ""), by=request.user)
        if result is not None:
            obj.pk = result.pk

    def save_related(self, request, form, formsets, change):
        """The asset and connection inlines are read-only views: their changes go through their own admin."""
        for formset in formsets:  # nothing of theirs is saved here; the change message reads these
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description="Branch into a new draft")
    def branch(self, request, queryset):
        for layout in queryset:
            service_call(request, layout_branch, layout=layout, name=f"{layout.name} (branch)", by=request.user)

    @admin.action(description="Submit for review")
    def submit(self, request, queryset):
        self._each(request, queryset, layout_submit, "Submitted")

    @admin.action(description="Approve (becomes the baseline)")
    def approve(self, request, queryset):
        self._each(request, queryset, layout_approve, "Approved")

    @admin.action(description="Reject")
    def reject(self, request, queryset):
        self._each(request, queryset, layout_reject, "Rejected", reason="Rejected in the admin.")

    @admin.action(description="Archive")
    def archive(self, request, queryset):
        self._each(request, queryset, layout_archive, "Archived")


EDITABLE_ASSET_FIELDS = ["name", "asset_type", "twin_key", "x", "z", "rotation_deg", "params"]


@admin.register(Asset)
class AssetAdmin(ServiceAdmin):
    list_display = ["name", "layout", "asset_type", "twin_key", "x", "z", "rotation_deg", "version"]
    list_filter = ["asset_type__kind", "layout__factory", "layout"]
    search_fields = ["name", "twin_key", "uid"]
    readonly_fields = ["uid", "version"]
    list_select_related = ["layout", "asset_type"]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in EDITABLE_ASSET_FIELDS if f in form.cleaned_data}
        data["asset_type"] = data["asset_type"].pk
        if change:
            changes = {f: data[f] for f in form.changed_data if f in data}
            current = Asset.objects.get(pk=obj.pk)
            result = service_call(request, asset_update, asset=current, changes=changes, version=current.version, by=request.user)
        else:
            result = service_call(request, asset_create, layout=form.cleaned_data["layout"], data=data, by=request.user)
        if result is not None:
            obj.pk, obj.version = result.pk, result.version

    def delete_model(self, request, obj):
        service_call(request, asset_delete, asset=obj, version=obj.version, by=request.user)


@admin.register(Connection)
class ConnectionAdmin(ServiceAdmin):
    list_display = ["__str__", "layout", "buffer_capacity", "transport_speed_mps", "weight"]
    list_filter = ["layout__factory", "layout"]
    raw_id_fields = ["source", "target"]
    readonly_fields = ["uid", "version"]

    def save_model(self, request, obj, form, change):
        fields = ["buffer_capacity", "transport_speed_mps", "weight"]
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in fields}
            result = service_call(request, connection_update, connection=Connection.objects.get(pk=obj.pk), changes=changes, by=request.user)
        else:
            data = {f: form.cleaned_data[f] for f in fields}
            data.update(source=form.cleaned_data["source"].pk, target=form.cleaned_data["target"].pk)
            result = service_call(request, connection_create, layout=form.cleaned_data["layout"], data=data, by=request.user)
        if result is not None:
            obj.pk = result.pk

    def delete_model(self, request, obj):
        service_call(request, connection_delete, connection=obj, by=request.user)


@admin.register(Twin)
class TwinAdmin(ServiceAdmin):
    list_display = ["key", "name", "factory", "status", "updated_at"]
    list_filter = ["status", "factory"]
    search_fields = ["key", "name"]
    readonly_fields = ["status", "values", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # Telemetry finds a twin by factory and key: both are fixed once it exists.
        return [*self.readonly_fields, "factory", "key"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            changes = _changes(form, ["name"])
            result = service_call(request, twin_update, twin=Twin.objects.get(pk=obj.pk), changes=changes, by=request.user) if changes else obj
        else:
            result = service_call(request, twin_create, factory=form.cleaned_data["factory"], key=form.cleaned_data["key"],
                             name=form.cleaned_data["name"], by=request.user)
        if result is not None:
            obj.pk = result.pk

    def delete_model(self, request, obj):
        service_call(request, twin_delete, twin=obj, by=request.user)


@admin.register(TelemetryPoint)
class TelemetryPointAdmin(admin.ModelAdmin):
    list_display = ["twin", "name", "ts", "value", "text", "anomaly"]
    list_filter = ["name", "anomaly"]
    search_fields = ["twin__key", "name"]
    date_hierarchy = "ts"
    readonly_fields = ["twin", "name", "ts", "value", "text", "anomaly"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(TelemetryRollup)
class TelemetryRollupAdmin(admin.ModelAdmin):
    list_display = ["twin", "name", "bucket_start", "bucket_s", "count", "min", "max", "mean"]
    list_filter = ["name"]
    search_fields = ["twin__key", "name"]
    readonly_fields = ["twin", "name", "bucket_start", "bucket_s", "count", "min", "max", "mean"]

    def has_add_permission(self, request):
        return False


RULE_FIELDS = ["twin", "name", "op", "threshold", "hysteresis", "severity", "enabled"]


def _rule_data(form, fields) -> dict:
    data = {f: form.cleaned_data[f] for f in fields}
    if "twin" in data:
        data["twin"] = data["twin"].pk
    return data


@admin.register(AlarmRule)
class AlarmRuleAdmin(ServiceAdmin):
    list_display = ["twin", "name", "op", "threshold", "hysteresis", "severity", "enabled"]
    list_filter = ["severity", "enabled", "factory"]
    search_fields = ["twin__key", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["factory"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        """Through the alarm-rule services like the API: the twin must be of the rule's factory; audited."""
        if change:
            changes = _rule_data(form, [f for f in RULE_FIELDS if f in form.changed_data])
            result = service_call(request, alarm_rule_update, rule=AlarmRule.objects.get(pk=obj.pk), changes=changes, by=request.user) if changes else obj
        else:
            result = service_call(request, alarm_rule_create, factory=form.cleaned_data["factory"], data=_rule_data(form, RULE_FIELDS), by=request.user)
        if result is not None:
            obj.pk = result.pk

    def delete_model(self, request, obj):
        service_call(request, alarm_rule_delete, rule=obj, by=request.user)


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ["message", "twin", "severity", "active", "raised_at", "cleared_at", "acked_by", "acked_at"]
    list_filter = ["severity", "active"]
    search_fields = ["message", "twin__key"]
    readonly_fields = ["rule", "twin", "severity", "message", "value", "active", "raised_at", "cleared_at", "acked_by", "acked_at"]


@admin.register(SimulationRun)
class SimulationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "layout", "layout_revision", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "layout__factory"]
    search_fields = ["layout__name"]
    readonly_fields = ["layout", "layout_revision", "status", "progress", "params", "results", "error", "task_id", "attempts", "created_by", "created_at", "started_at", "finished_at"]


class ShownOnlyAdmin(admin.ModelAdmin):
    """Written by the simulation workers and the experiment services only: shown, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SimulationReplication)
class SimulationReplicationAdmin(ShownOnlyAdmin):
    list_display = ["run", "index"]


@admin.register(Experiment)
class ExperimentAdmin(ShownOnlyAdmin):
    list_display = ["id", "name", "layout", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "layout__factory"]
    search_fields = ["name", "layout__name"]


@admin.register(ExperimentPoint)
class ExperimentPointAdmin(ShownOnlyAdmin):
    list_display = ["experiment", "index", "run"]
