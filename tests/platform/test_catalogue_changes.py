"""A change to a catalogue type that the simulation reads (kind, default parameters) is a change to every
layout using it: each records `asset_type.update` (revision, content revision, audit, broadcast); a cosmetic
change (colour, size) is not. The admin edits the catalogue through the same service."""
import pytest

from collaboration.models import AuditEntry
from tests.builders import make_layout
from twins.errors import Invalid
from twins.models import AssetType, Layout
from twins.services.catalogue import asset_type_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def machine_type(draft):
    return draft.assets.get(name="M1").asset_type


def revisions(layout):
    layout = Layout.objects.get(pk=layout.pk)
    return layout.revision, layout.content_revision


def test_new_default_parameters_reach_every_layout_using_the_type(people, draft, machine_type):
    unrelated = make_layout(factory=people["other"], name="No machines here")
    before, unrelated_before = revisions(draft), revisions(unrelated)
    asset_type_save(by=people["staff"], asset_type=machine_type, data={"defaults": {"cycle_time_s": 12.0, "cycle_cv": 0.0}})
    revision, content_revision = revisions(draft)
    assert revision == before[0] + 1 and content_revision == revision, "runs of this layout are now stale"
    assert revisions(unrelated) == unrelated_before
    entry = AuditEntry.objects.get(action="asset_type.update", layout_id_ref=draft.id)
    assert entry.actor == "staff" and entry.data["defaults"] == {"cycle_time_s": 12.0, "cycle_cv": 0.0}


def test_a_cosmetic_change_leaves_the_layouts_alone(people, draft, machine_type):
    before = revisions(draft)
    asset_type_save(by=people["staff"], asset_type=machine_type, data={"color": "#123456", "height_m": 3.5})
    assert revisions(draft) == before
    assert not AuditEntry.objects.filter(action="asset_type.update").exists()


def test_a_rejected_change_changes_nothing(people, draft, machine_type):
    before = revisions(draft)
    with pytest.raises(Invalid):
        asset_type_save(by=people["staff"], asset_type=machine_type, data={"defaults": {"cycle_time_s": -1}})
    assert revisions(draft) == before and AssetType.objects.get(pk=machine_type.pk).defaults == machine_type.defaults


def test_the_admin_edits_the_catalogue_through_the_service(client, people, draft, machine_type):
    staff = people["staff"]
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    form = {"name": machine_type.name, "kind": machine_type.kind, "width_m": machine_type.width_m, "depth_m": machine_type.depth_m,
            "height_m": machine_type.height_m, "clearance_m": 0.0, "color": "#zzzzzz",
            "defaults": '{"cycle_time_s": 20.0, "cycle_cv": 0.0}'}
    response = client.post(f"/admin/twins/assettype/{machine_type.id}/change/", form, follow=True)
    assert b"Color must look like #RRGGBB" in response.content, "the service validates, the admin shows its message"
    assert b"was changed successfully" not in response.content
    assert AssetType.objects.get(pk=machine_type.pk).defaults == machine_type.defaults
    before = revisions(draft)
    response = client.post(f"/admin/twins/assettype/{machine_type.id}/change/", {**form, "color": "#00aa00"})
    assert response.status_code == 302
    assert AssetType.objects.get(pk=machine_type.pk).defaults == {"cycle_time_s": 20.0, "cycle_cv": 0.0}
    assert revisions(draft)[1] == before[0] + 1
