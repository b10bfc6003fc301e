"""The admin shows every model, and its edits go through the same services as the API."""
import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.apps import apps
from django.contrib import admin

from collaboration.models import AuditEntry
from twins.models import AlarmRule, Asset, Factory, Layout, Membership, Twin

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
                                   "alarmrule", "alarm", "simulationrun", "simulationreplication", "experiment", "experimentpoint"])
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


# --- factories, memberships, twins and alarm rules: one path for every change -----------------------------

class UserChannel:
    """Listens, on the real channel layer, to what the rooms hear about one user (user.revoked closes sockets)."""

    def __init__(self, user):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(f"user.{user.id}", self.channel)

    def next_message(self, timeout: float = 5.0) -> dict:
        async def receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return async_to_sync(receive)()


def factory_form(admin_client, factory, **changes) -> dict:
    page = admin_client.get(f"/admin/twins/factory/{factory.id}/change/")
    assert page.status_code == 200
    form = {**inline_data(page), "name": factory.name, "description": factory.description,
            "floor_width_m": factory.floor_width_m, "floor_depth_m": factory.floor_depth_m}
    return {**form, **changes}


def inline_row(form: dict, username: str) -> str:
    """The prefix of the membership row of this user in a factory form."""
    from django.contrib.auth import get_user_model

    user_id = get_user_model().objects.get(username=username).id
    return next(key[: -len("-user")] for key, value in form.items() if key.endswith("-user") and value == user_id)


def test_admin_factory_add_goes_through_the_service(admin_client, people):
    page = admin_client.get("/admin/twins/factory/add/")
    form = {**inline_data(page), "name": "Admin Works", "slug": "admin-works", "description": "", "floor_width_m": "50", "floor_depth_m": "30"}
    response = admin_client.post("/admin/twins/factory/add/", form)
    assert response.status_code == 302, response.content[:2000]
    made = Factory.objects.get(slug="admin-works")
    assert AuditEntry.objects.filter(factory=made, action="factory.create", actor="staff").exists()


def test_admin_factory_add_refused_by_the_service_reports_it(admin_client, people):
    page = admin_client.get("/admin/twins/factory/add/")
    form = {**inline_data(page), "name": "Huge", "slug": "huge", "description": "", "floor_width_m": "1e9", "floor_depth_m": "30"}
    response = admin_client.post("/admin/twins/factory/add/", form, follow=True)
    assert b"floor_width_m" in response.content and b"successfully" not in response.content
    assert not Factory.objects.filter(slug="huge").exists()


def test_admin_factory_edit_goes_through_the_service(admin_client, people):
    plant = people["plant"]
    response = admin_client.post(f"/admin/twins/factory/{plant.id}/change/", factory_form(admin_client, plant, name="Plant renamed"))
    assert response.status_code == 302, response.content[:2000]
    assert Factory.objects.get(pk=plant.pk).name == "Plant renamed"
    assert AuditEntry.objects.filter(factory=plant, action="factory.update", actor="staff", data__name="Plant renamed").exists()


def test_factories_are_not_deleted_in_the_admin(admin_client, people):
    assert admin_client.post(f"/admin/twins/factory/{people['plant'].id}/delete/", {"post": "yes"}).status_code == 403
    assert Factory.objects.filter(pk=people["plant"].pk).exists()


def test_admin_inline_role_change_goes_through_the_service(admin_client, people):
    form = factory_form(admin_client, people["plant"])
    form[f"{inline_row(form, 'victor')}-role"] = "engineer"
    response = admin_client.post(f"/admin/twins/factory/{people['plant'].id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert Membership.objects.get(factory=people["plant"], user=people["victor"]).role == "engineer"
    assert AuditEntry.objects.filter(action="member.set", actor="staff", object_id="victor", data__role="engineer").exists()


def test_admin_inline_removal_audits_and_closes_the_members_sockets(admin_client, people, django_capture_on_commit_callbacks):
    victor = UserChannel(people["victor"])
    form = factory_form(admin_client, people["plant"])
    form[f"{inline_row(form, 'victor')}-DELETE"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/twins/factory/{people['plant'].id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert not Membership.objects.filter(factory=people["plant"], user=people["victor"]).exists()
    assert AuditEntry.objects.filter(action="member.remove", actor="staff", object_id="victor").exists()
    assert victor.next_message() == {"type": "user.revoked", "user": people["victor"].id, "factory": people["plant"].id}


def test_admin_inline_cannot_remove_the_last_owner(admin_client, people):
    form = factory_form(admin_client, people["plant"])
    form[f"{inline_row(form, 'olivia')}-DELETE"] = "on"
    response = admin_client.post(f"/admin/twins/factory/{people['plant'].id}/change/", form, follow=True)
    assert b"at least one owner" in response.content and b"successfully" not in response.content
    assert Membership.objects.filter(factory=people["plant"], user=people["olivia"], role="owner").exists()


def test_admin_inline_member_add_goes_through_the_service(admin_client, people):
    form = factory_form(admin_client, people["plant"])
    prefix = "memberships"
    n = int(form[f"{prefix}-TOTAL_FORMS"])
    form.update({f"{prefix}-TOTAL_FORMS": n + 1, f"{prefix}-{n}-user": people["mallory"].id, f"{prefix}-{n}-role": "viewer",
                 f"{prefix}-{n}-factory": people["plant"].id})
    response = admin_client.post(f"/admin/twins/factory/{people['plant'].id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert Membership.objects.filter(factory=people["plant"], user=people["mallory"], role="viewer").exists()
    assert AuditEntry.objects.filter(factory=people["plant"], action="member.set", actor="staff", object_id="mallory").exists()


def test_admin_membership_add_and_role_change_go_through_the_service(admin_client, people):
    plant, mallory = people["plant"], people["mallory"]
    response = admin_client.post("/admin/twins/membership/add/", {"user": mallory.id, "factory": plant.id, "role": "viewer"})
    assert response.status_code == 302, response.content[:2000]
    membership = Membership.objects.get(factory=plant, user=mallory)
    response = admin_client.post(f"/admin/twins/membership/{membership.id}/change/", {"role": "manager"})
    assert response.status_code == 302, response.content[:2000]
    assert Membership.objects.get(pk=membership.pk).role == "manager"
    roles = list(AuditEntry.objects.filter(factory=plant, action="member.set", object_id="mallory").order_by("seq").values_list("data__role", flat=True))
    assert roles == ["viewer", "manager"]


def test_admin_membership_cannot_demote_the_last_owner(admin_client, people):
    membership = Membership.objects.get(factory=people["plant"], user=people["olivia"])
    response = admin_client.post(f"/admin/twins/membership/{membership.id}/change/", {"role": "viewer"}, follow=True)
    assert b"at least one owner" in response.content and b"successfully" not in response.content
    assert Membership.objects.get(pk=membership.pk).role == "owner"


@pytest.mark.parametrize("how", ["delete_view", "action"])
def test_admin_membership_delete_audits_and_closes_the_members_sockets(admin_client, people, django_capture_on_commit_callbacks, how):
    membership = Membership.objects.get(factory=people["plant"], user=people["alice"])
    alice = UserChannel(people["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        if how == "delete_view":
            response = admin_client.post(f"/admin/twins/membership/{membership.id}/delete/", {"post": "yes"})
        else:
            response = admin_client.post("/admin/twins/membership/", {"action": "delete_selected", "_selected_action": [membership.id], "post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEntry.objects.filter(action="member.remove", actor="staff", object_id="alice").exists()
    assert alice.next_message() == {"type": "user.revoked", "user": people["alice"].id, "factory": people["plant"].id}


def test_admin_twin_add_rename_and_delete_go_through_the_services(admin_client, people):
    plant = people["plant"]
    response = admin_client.post("/admin/twins/twin/add/", {"factory": plant.id, "key": "press-9", "name": "Press 9"})
    assert response.status_code == 302, response.content[:2000]
    twin = Twin.objects.get(factory=plant, key="press-9")
    response = admin_client.post(f"/admin/twins/twin/{twin.id}/change/", {"name": "Press nine"})
    assert response.status_code == 302, response.content[:2000]
    assert Twin.objects.get(pk=twin.pk).name == "Press nine"
    assert admin_client.post(f"/admin/twins/twin/{twin.id}/delete/", {"post": "yes"}).status_code == 302
    assert not Twin.objects.filter(pk=twin.pk).exists()
    actions = list(AuditEntry.objects.filter(factory=plant, object_type="twin").order_by("seq").values_list("action", flat=True))
    assert actions == ["twin.create", "twin.update", "twin.delete"]


def rule_form(twin, **changes) -> dict:
    return {"factory": twin.factory_id, "twin": twin.id, "name": "temperature", "op": ">", "threshold": "80", "hysteresis": "2",
            "severity": "warning", "enabled": "on", **changes}


def test_admin_alarm_rule_add_change_and_delete_go_through_the_services(admin_client, people):
    twin = Twin.objects.create(factory=people["plant"], key="oven", name="Oven")
    response = admin_client.post("/admin/twins/alarmrule/add/", rule_form(twin))
    assert response.status_code == 302, response.content[:2000]
    rule = AlarmRule.objects.get(twin=twin)
    form = rule_form(twin, threshold="90")
    del form["factory"]
    response = admin_client.post(f"/admin/twins/alarmrule/{rule.id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert AlarmRule.objects.get(pk=rule.pk).threshold == 90
    assert admin_client.post(f"/admin/twins/alarmrule/{rule.id}/delete/", {"post": "yes"}).status_code == 302
    actions = list(AuditEntry.objects.filter(factory=people["plant"], object_type="alarm_rule").order_by("seq").values_list("action", flat=True))
    assert actions == ["alarm_rule.create", "alarm_rule.update", "alarm_rule.delete"]


def test_admin_alarm_rule_on_another_factorys_twin_is_refused(admin_client, people):
    foreign = Twin.objects.create(factory=people["other"], key="oven", name="Oven")
    response = admin_client.post("/admin/twins/alarmrule/add/", {**rule_form(foreign), "factory": people["plant"].id}, follow=True)
    assert b"Twin must be a twin of this factory" in response.content
    assert not AlarmRule.objects.exists()


def test_admin_comment_moderation_goes_through_the_services(admin_client, people, draft):
    from collaboration.models import Comment
    from collaboration.services.comments import comment_create

    comment = comment_create(layout=draft, data={"text": "Too close to the wall"}, by=people["alice"])
    assert admin_client.get("/admin/collaboration/comment/add/").status_code == 403
    response = admin_client.post(f"/admin/collaboration/comment/{comment.id}/change/", {"resolved": "on"})
    assert response.status_code == 302, response.content[:2000]
    assert Comment.objects.get(pk=comment.pk).resolved
    assert admin_client.post(f"/admin/collaboration/comment/{comment.id}/delete/", {"post": "yes"}).status_code == 302
    assert not Comment.objects.filter(pk=comment.pk).exists()
    actions = list(AuditEntry.objects.filter(object_type="comment", actor="staff").order_by("seq").values_list("action", flat=True))
    assert actions == ["comment.resolve", "comment.delete"]
