"""An uploaded CAD model in the real workspace: Chromium decodes the meshopt-compressed file (three's decoder,
bundled; nothing from a CDN) and draws it, and the catalogue shows a thumbnail drawn from its far level."""
import pytest

from tests.e2e.conftest import shot, wait_scene

pytestmark = pytest.mark.e2e

SETUP = """
from django.contrib.auth import get_user_model
from tests.platform.cad_model import cad_machine_glb
from twins.models import Factory
from twins.services.assets import asset_create
from twins.services.catalogue import asset_type_save, asset_type_set_model
from twins.services.layouts import layout_create

staff, _ = get_user_model().objects.get_or_create(username="cad-staff", defaults={"is_staff": True})
press = asset_type_save(by=staff, data={"name": "CAD Press", "kind": "machine", "width_m": 2.2, "depth_m": 0.8, "height_m": 2.05})
press = asset_type_set_model(asset_type=press, content=cad_machine_glb(detail=5, texture_px=1024), filename="cad-press.glb", by=staff)
alice = get_user_model().objects.get(username="alice")
layout = layout_create(factory=Factory.objects.get(slug="demo-plant"), name="CAD model check", by=alice)
asset_create(layout=layout, data={"asset_type": press.id, "name": "P1", "x": 5, "z": 5}, by=alice)
print(layout.id, press.model_stats["near"]["triangles"], press.model_stats["far"]["triangles"])
"""


@pytest.fixture(scope="module")
def cad_layout(stack):
    layout, near, far = stack.manage("shell", "-c", SETUP).split()[-3:]
    return int(layout), int(near), int(far)


def test_the_workspace_draws_the_optimised_model_and_the_catalogue_its_thumbnail(open_as, cad_layout):
    layout, near_triangles, far_triangles = cad_layout
    page = open_as("alice")
    page.goto(f"/layouts/{layout}/")
    wait_scene(page)
    # The model replaces the box of its type once decoded: the frame then holds its near level's triangles
    # (polled from here: the page's CSP rightly forbids the eval that wait_for_function needs).
    for _ in range(60):
        if page.evaluate("window.metaverse.stats().triangles") >= near_triangles:
            break
        page.wait_for_timeout(500)
    assert page.evaluate("window.metaverse.stats().triangles") >= near_triangles > far_triangles, page.console_errors
    thumb = page.locator("[data-testid='thumb-CAD Press']")
    thumb.wait_for(timeout=30_000)
    assert thumb.evaluate("img => img.src.startsWith('data:image/webp') && img.naturalWidth === 80")
    shot(page, "cad-model-workspace")
    assert not page.console_errors, page.console_errors
    assert not page.get_by_text("Could not load the 3D model").count()
    # Drawn once: the next visit takes it from localStorage.
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('model-thumb:v1:')).length") == 1
    page.reload()
    page.locator("[data-testid='thumb-CAD Press']").wait_for(timeout=10_000)
