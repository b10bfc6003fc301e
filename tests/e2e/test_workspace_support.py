"""Shared steps of the workspace journeys (no tests here): REST calls with the page's own session, opening a
layout, finding and clicking assets on screen, and waiting for saves. The page's CSP forbids eval, so waits
poll `page.evaluate` (allowed) instead of `wait_for_function`."""
import time

from tests.e2e.conftest import wait_scene

DEMO_TIMEOUT_MS = 60_000


class Rest:
    """The REST API as the page's user: same cookies, the CSRF header Django wants for unsafe methods."""

    def __init__(self, request, cookies_from):
        self.request = request
        self.cookies_from = cookies_from

    def _headers(self):
        token = next((c["value"] for c in self.cookies_from.cookies() if c["name"] == "csrftoken"), "")
        return {"X-CSRFToken": token, "Accept": "application/json"}

    def get(self, url):
        return self.request.get(url, headers=self._headers())

    def json(self, url):
        response = self.get(url)
        assert response.ok, f"GET {url} -> {response.status} {response.text()}"
        return response.json()

    def post(self, url, data):
        return self.request.post(url, data=data, headers=self._headers())

    def patch(self, url, data):
        return self.request.patch(url, data=data, headers=self._headers())

    def delete(self, url, headers=None):
        return self.request.delete(url, headers={**self._headers(), **(headers or {})})


def rest(page) -> Rest:
    return Rest(page.request, page.context)


def api(page, method, url, data=None):
    """A JSON request in the page's session (cookie + CSRF header), as the browser itself would make it."""
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    return page.request.fetch(url, method=method, data=data, headers={"X-CSRFToken": token} if method != "GET" else None)


def json_ok(response, status=200):
    assert response.status == status, f"{response.status} {response.text()[:500]}"
    return response.json()


def login_rest(browser, stack, username: str) -> tuple:
    """A second, independent session (its own cookies): what another person's browser or script would be."""
    context = browser.new_context(base_url=stack.base_url)
    response = context.request.post("/api/auth/login/", data={"username": username, "password": username})
    assert response.ok, response.text()
    return context, Rest(context.request, context)


def branch_demo(page, stack, name: str) -> int:
    """An editable draft copy of the (approved, read-only) demo baseline, made by the page's user."""
    response = rest(page).post(f"/api/layouts/{stack.layout_id()}/branch/", {"name": name})
    assert response.status == 201, response.text()
    draft = response.json()
    assert draft["status"] == "draft"
    return draft["id"]


def open_layout(page, layout_id: int):
    page.goto(f"/layouts/{layout_id}/")
    try:
        wait_scene(page, timeout=DEMO_TIMEOUT_MS)
    except Exception as exc:
        loading = page.locator("[data-testid='loading']")
        state = loading.inner_text() if loading.count() else "(no loading panel)"
        raise AssertionError(f"layout {layout_id} never became ready: {state!r}; console: {page.console_errors}") from exc
    # The first frame is in; let the initial camera settle before reading screen positions.
    page.evaluate("window.metaverse.frameAll()")
    page.wait_for_timeout(300)


def poll(page, probe, *, timeout=15.0, interval_ms=150, what="condition"):
    """Re-evaluate `probe()` (Python) until it is truthy; the page keeps running meanwhile."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        page.wait_for_timeout(interval_ms)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


def wait_until(page, predicate, timeout=60.0, interval=0.1, message="condition"):
    """`poll` with the argument names the panel journeys use."""
    return poll(page, predicate, timeout=timeout, interval_ms=interval * 1000, what=message)


def open_live_layout(page, layout_id: int):
    """Open a layout and wait for its first frame and an online socket (not for "load": several WebGL pages
    on a small CI machine); console warnings are kept in `page.console_warnings`."""
    page.console_warnings = []
    page.on("console", lambda msg: page.console_warnings.append(msg.text) if msg.type == "warning" else None)
    page.goto(f"/layouts/{layout_id}/", wait_until="domcontentloaded")
    wait_scene(page, timeout=90_000)
    page.locator("[data-testid=connection-state][data-state=online]").wait_for(timeout=15_000)


def assert_quiet_console(*pages):
    """No page logged an error or a warning (pages opened with open_live_layout keep their warnings)."""
    for page in pages:
        assert not page.console_errors, page.console_errors
        assert not page.console_warnings, page.console_warnings


def open_panel(page, layout_id: int):
    """Open a layout live and its simulation panel; returns the panel."""
    open_live_layout(page, layout_id)
    page.get_by_test_id("sim-toggle").click()
    panel = page.get_by_test_id("sim-panel")
    panel.wait_for(state="visible")
    return panel


def idle(page):
    """Wait until every queued edit has been answered by the server."""
    page.evaluate("async () => { await window.metaverse.idle(); return true; }")
    poll(page, lambda: page.evaluate("window.metaverse.editor.savingCount") == 0, what="the page's saves to finish")


def asset_named(page, name: str) -> dict:
    asset = page.evaluate("(n) => window.metaverse.findAsset(n)", name)
    assert asset, f"no asset called {name!r} in the scene"
    return asset


def screen_of(page, asset_id: int) -> dict:
    pos = page.evaluate("(id) => window.metaverse.assetScreenPosition(id)", asset_id)
    assert pos and pos["visible"], f"asset {asset_id} is not on screen: {pos}"
    return pos


def focus_on(page, asset_ids):
    """Fly the camera (instantly) to these assets so that they are big enough to click."""
    page.evaluate("(ids) => window.metaverse.frameAssets(ids)", list(asset_ids))
    page.wait_for_timeout(250)


def click_asset(page, asset_id: int):
    pos = screen_of(page, asset_id)
    page.mouse.move(pos["x"], pos["y"])
    page.mouse.click(pos["x"], pos["y"])


def selection(page) -> list:
    return page.evaluate("window.metaverse.editor.selection")


def select_by_click(page, asset_id: int):
    """Click the asset where it is drawn; the editor must then have exactly it selected."""
    focus_on(page, [asset_id])
    click_asset(page, asset_id)
    poll(page, lambda: selection(page) == [asset_id], timeout=5, what=f"asset {asset_id} selected by a click")


def scene_counts(page) -> dict:
    return page.evaluate("({assets: window.metaverse.editor.assets.size, connections: window.metaverse.editor.connections.size})")


def benign(errors, *allowed_statuses) -> list:
    """Console errors minus Chromium's own "Failed to load resource" lines for the HTTP statuses a journey
    provokes on purpose (a 409 conflict, a 403 refusal): the browser logs those for any non-2xx fetch."""
    def expected(text):
        return "Failed to load resource" in text and any(f"status of {s}" in text for s in allowed_statuses)

    return [e for e in errors if not expected(e)]
