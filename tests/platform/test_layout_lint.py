"""Layout checks (CONTRACT.md §11): rotated footprints that overlap, clearance, unconnected flow assets and
what the simulation refuses; members only; a big plant checked quickly through the spatial index."""
import math

import pytest

from tests.builders import make_asset_type, make_layout
from twins.models import Asset
from twins.services.lint import footprint, layout_lint


def kinds(result):
    return sorted((i["kind"], tuple(sorted(i["assets"]))) for i in result["issues"])


def test_a_footprint_turns_like_the_scene():
    # A 4 × 1 m box turned 90° about +y: its long side runs along z.
    box = footprint(0, 0, 4.0, 1.0, 90.0)
    minx, minz, maxx, maxz = box.bounds
    assert (maxx - minx, maxz - minz) == (pytest.approx(1.0), pytest.approx(4.0))
    # three.js turns local +x by +θ about +y to (cos θ, −sin θ): the corner (2, 0.5) at 30° lands there.
    t = math.radians(30)
    corner = (2 * math.cos(t) + 0.5 * math.sin(t), -2 * math.sin(t) + 0.5 * math.cos(t))
    assert any(math.isclose(x, corner[0]) and math.isclose(z, corner[1]) for x, z in footprint(0, 0, 4, 1, 30).exterior.coords)


@pytest.mark.django_db
def test_rotated_footprints_overlap_and_clearance(people):
    layout = make_layout(factory=people["plant"], assets=0)
    long = make_asset_type("machine", defaults={"cycle_time_s": 1.0})
    long.width_m, long.depth_m, long.clearance_m = 4.0, 1.0, 0.0
    long.save()
    a = Asset.objects.create(layout=layout, asset_type=long, name="A", x=0, z=0, rotation_deg=0)
    # B at x = 2.6 along x reaches back to x = 0.6, into A (which ends at 2.0); turned 90° it spans only
    # x = 2.1 … 3.1 and is clear of A by 0.1 m.
    b = Asset.objects.create(layout=layout, asset_type=long, name="B", x=2.6, z=0, rotation_deg=0)
    assert ("overlap", (a.id, b.id)) in kinds(layout_lint(layout))
    b.rotation_deg = 90
    b.save()
    assert not [i for i in layout_lint(layout)["issues"] if i["kind"] in ("overlap", "clearance")]
    b.rotation_deg = 0
    b.x = 4.5  # 0.5 m gap
    b.save()
    assert not [i for i in layout_lint(layout)["issues"] if i["kind"] in ("overlap", "clearance")]
    long.clearance_m = 1.0
    long.save()
    issue = next(i for i in layout_lint(layout)["issues"] if i["kind"] == "clearance")
    assert sorted(issue["assets"]) == [a.id, b.id] and "0.50 m apart" in issue["message"]
    b.params = {"clearance_m": 0.0}
    b.save()
    long.clearance_m = 0.0
    long.save()
    a.params = {"clearance_m": 0.4}
    a.save()
    assert not [i for i in layout_lint(layout)["issues"] if i["kind"] == "clearance"]


@pytest.mark.django_db
def test_unconnected_and_unsimulatable_issues(people, client_for):
    layout = make_layout(factory=people["plant"], assets=2, line=True)
    assert layout_lint(layout)["issues"] == []
    lonely = Asset.objects.create(layout=layout, asset_type=make_asset_type("machine", defaults={"cycle_time_s": 1.0}),
                                  name="Lonely", x=30, z=30)
    result = client_for(people["victor"]).get(f"/api/layouts/{layout.id}/lint/").json()
    assert ("unconnected", (lonely.id,)) in kinds(result)
    unsim = next(i for i in result["issues"] if i["kind"] == "unsimulatable")
    assert unsim["assets"] == [lonely.id] and "cannot be simulated" in unsim["message"]
    assert client_for(people["mallory"]).get(f"/api/layouts/{layout.id}/lint/").status_code == 404


@pytest.mark.django_db
def test_a_plant_of_5000_assets_is_checked_through_the_index(people, django_assert_max_num_queries):
    layout = make_layout(factory=people["plant"], assets=0)
    t = make_asset_type("buffer")
    t.width_m = t.depth_m = 1.0  # on a 1.5 m grid: 0.5 m apart
    t.save()
    Asset.objects.bulk_create([Asset(layout=layout, asset_type=t, name=f"B{k}", x=(k % 100) * 1.5, z=(k // 100) * 1.5)
                               for k in range(5000)])
    Asset.objects.create(layout=layout, asset_type=t, name="Stacked", x=0.2, z=0.2)
    with django_assert_max_num_queries(8):
        result = layout_lint(layout)
    overlaps = [i for i in result["issues"] if i["kind"] == "overlap"]
    assert len(overlaps) == 1 and "Stacked" in overlaps[0]["message"]
