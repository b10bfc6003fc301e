"""A newcomer's first journey: log in as the demo engineer and see the demo plant in 3D."""
import pytest

from tests.e2e.conftest import shot, wait_scene

pytestmark = pytest.mark.e2e


def test_login_page_logs_in_and_lists_the_demo_plant(stack, browser):
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto("/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice")
    page.keyboard.press("Enter")
    page.wait_for_url(stack.base_url + "/")
    page.get_by_text("Demo Plant").first.wait_for(timeout=15_000)
    page.get_by_text("Baseline 2026").first.wait_for(timeout=15_000)
    # The factory's twins and asset types download as an AAS environment (CONTRACT §10), from the page.
    link = page.locator("[data-testid^=aas-download-]").first
    href = link.get_attribute("href")
    assert href.startswith("/api/factories/") and href.endswith("/aas/") and link.get_attribute("download")
    with page.expect_download() as download:
        link.click()
    assert b"assetAdministrationShells" in open(download.value.path(), "rb").read()
    shot(page, "home-alice")
    context.close()


def test_engineer_sees_the_demo_layout_in_3d(stack, open_as):
    page = open_as("alice")
    layout = stack.layout_id()
    page.goto(f"/layouts/{layout}/")
    wait_scene(page)
    stats = page.evaluate("window.metaverse.stats()")
    expected = int(stack.manage("shell", "-c", f"from twins.models import Asset; print(Asset.objects.filter(layout={layout}).count())").strip().splitlines()[-1])
    assert stats["assets"] == expected
    assert stats["drawCalls"] > 0 and stats["triangles"] > 0
    page.wait_for_timeout(500)
    shot(page, "demo-layout-alice")
    assert not page.console_errors, page.console_errors


def test_a_non_member_gets_404_for_the_layout_page(stack, open_as):
    stack.manage("add_member", "demo-plant", "outsider", "viewer", "--password", "outsider")
    stack.manage("shell", "-c", "from twins.models import Membership; Membership.objects.filter(user__username='outsider').delete()")
    page = open_as("outsider")
    response = page.goto(f"/layouts/{stack.layout_id()}/")
    assert response.status == 404
