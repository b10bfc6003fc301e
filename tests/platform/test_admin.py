"""The admin shows every model, and its edits go through the same services as the API."""
import pytest
from django.apps import apps
from django.contrib import admin

from collaboration.models import AuditEntry
from twins.models import Asset, Layout

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, people):
    root = people["staff"]
    root.is_superuser = True
    root.save()
    client.force_login(root)
    return client


def test_every_model_is_registered():
    ours = [m for m in apps.get_models() if m._meta.app_label in {"twins", "collaboration"}]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert not missing


@pytest.mark.parametrize("model", ["factory", "membership", "assettype", "layout", "asset", "connection", "twin", "telemetrypoint",
                                   "alarmrule", "alarm", "simulationrun"])
def test_changelists_render(admin_client, draft, model):
    assert admin_client.get(f"/admin/twins/{model}/").status_code == 200


def test_layout_change_page_shows_its_assets(admin_client, draft):
    response = admin_client.get(f"/admin/twins/layout/{draft.id}/change/")
    assert response.status_code == 200 and b"M1" in response.content


def test_admin_asset_edit_goes_through_the_service(admin_client, draft):
    asset = draft.assets.get(name="M1")
    form = {"uid": asset.uid, "layout": draft.id, "asset_type": asset.asset_type_id, "name": "M1 renamed", "twin_key": "",
            "x": "8.5", "z": "0", "rotation_deg": "0", "params": "{}"}
    response = admin_client.post(f"/admin/twins/asset/{asset.id}/change/", form)
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.name, asset.x, asset.version) == ("M1 renamed", 8.5, 2)
    assert Layout.objects.get(pk=draft.pk).revision == 1
    assert AuditEntry.objects.filter(action="asset.update", actor="staff").exists()


def test_admin_edit_of_a_read_only_layout_is_refused_with_a_message(admin_client, draft):
    Layout.objects.filter(pk=draft.pk).update(status="approved")
    asset = draft.assets.get(name="M1")
    form = {"layout": draft.id, "asset_type": asset.asset_type_id, "name": "Sneaky", "twin_key": "", "x": "1", "z": "0", "rotation_deg": "0", "params": "{}"}
    response = admin_client.post(f"/admin/twins/asset/{asset.id}/change/", form, follow=True)
    assert b"read-only" in response.content
    assert Asset.objects.get(pk=asset.pk).name == "M1"


def test_admin_actions_call_the_workflow_services(admin_client, draft):
    response = admin_client.post("/admin/twins/layout/", {"action": "submit", "_selected_action": [draft.id]}, follow=True)
    assert response.status_code == 200
    assert Layout.objects.get(pk=draft.pk).status == "in_review"
    admin_client.post("/admin/twins/layout/", {"action": "approve", "_selected_action": [draft.id]})
    draft.refresh_from_db()
    assert draft.status == "approved" and draft.factory.baseline_layout_id == draft.id


def test_audit_entries_are_read_only_in_the_admin(admin_client, draft, people):
    admin_client.post("/admin/twins/layout/", {"action": "submit", "_selected_action": [draft.id]})
    entry = AuditEntry.objects.first()
    assert admin_client.get(f"/admin/collaboration/auditentry/{entry.id}/change/").status_code == 200
    assert admin_client.post(f"/admin/collaboration/auditentry/{entry.id}/delete/", {"post": "yes"}).status_code == 403


def inline_data(response) -> dict:
    """The inline formsets' management and hidden fields, as the browser would post them back."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
    return data


def test_admin_layout_rename_goes_through_the_service(admin_client, draft):
    page = admin_client.get(f"/admin/twins/layout/{draft.id}/change/")
    form = {**inline_data(page), "name": "Renamed in the admin", "description": draft.description}
    response = admin_client.post(f"/admin/twins/layout/{draft.id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    layout = Layout.objects.get(pk=draft.pk)
    assert layout.name == "Renamed in the admin"
    assert layout.revision == draft.revision + 1, "the revision moves like any other change"
    assert AuditEntry.objects.filter(action="layout.update", actor="staff", layout_id_ref=draft.id).exists()


def test_admin_layout_add_goes_through_the_service(admin_client, draft):
    page = admin_client.get("/admin/twins/layout/add/")
    form = {**inline_data(page), "factory": draft.factory_id, "name": "Made in the admin", "description": ""}
    response = admin_client.post("/admin/twins/layout/add/", form)
    assert response.status_code == 302, response.content[:2000]
    made = Layout.objects.get(name="Made in the admin")
    assert made.created_by.username == "staff" and made.status == "draft"
    assert AuditEntry.objects.filter(action="layout.create", actor="staff", layout_id_ref=made.id).exists()
