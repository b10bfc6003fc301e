"""seed_demo is idempotent and builds a believable plant; add_member creates users and roles."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collaboration.models import AuditEntry
from twins.models import Asset, AssetType, Connection, Factory, Layout, Membership, Twin

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Factory, AssetType, Layout, Asset, Connection, Membership, Twin, AuditEntry)]


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert counts() == first


def test_demo_plant_is_believable():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    plant = Factory.objects.get(slug="demo-plant")
    assert plant.name == "Demo Plant" and (plant.floor_width_m, plant.floor_depth_m) == (60, 40)
    layout = plant.baseline_layout
    assert layout.status == "approved"
    assert layout.assets.count() >= 30
    kinds = set(AssetType.objects.values_list("kind", flat=True))
    assert kinds == {"source", "machine", "buffer", "sink", "conveyor", "robot", "operator", "decor"}
    placed_kinds = set(layout.assets.values_list("asset_type__kind", flat=True))
    assert {"source", "machine", "buffer", "sink", "robot"} <= placed_kinds
    assert layout.assets.filter(asset_type__kind="sink").count() >= 2  # two lines
    assert layout.connections.count() >= 15
    roles = dict(Membership.objects.filter(factory=plant).values_list("user__username", "role"))
    assert roles == {"olivia": "owner", "maggie": "manager", "alice": "engineer", "bob": "engineer", "victor": "viewer"}
    bound = set(layout.assets.exclude(twin_key="").values_list("twin_key", flat=True))
    assert bound and bound <= set(Twin.objects.filter(factory=plant).values_list("key", flat=True))


def test_add_member_creates_the_user_with_the_role():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("add_member", "demo-plant", "newbie", "engineer", "--password", "pw-123456", stdout=open("/dev/null", "w"))
    membership = Membership.objects.get(user__username="newbie")
    assert membership.role == "engineer" and membership.user.check_password("pw-123456")
    call_command("add_member", "demo-plant", "newbie", "viewer", stdout=open("/dev/null", "w"))
    assert Membership.objects.get(user__username="newbie").role == "viewer"


def test_add_member_names_an_unknown_factory():
    with pytest.raises(CommandError, match="No factory with slug 'nowhere'"):
        call_command("add_member", "nowhere", "x", "viewer")
