"""The installable app in Chromium: installability, the offline start, and a push to the real worker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in

pytestmark = pytest.mark.e2e


def _worker_ready(page: object) -> None:
    """Wait until the service worker is active and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        with page.expect_event("load"):
            page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")


def test_chromium_reports_trygg_installable(browser, live_server_url, tmp_path) -> None:
    """The manifest and the service worker pass Chromium's own installability checks.

    Chromium never offers to install from a private window, and Playwright's contexts are private:
    the check runs in a context with a profile on disk, as a person's browser has.
    """
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, base_url=live_server_url
    )
    try:
        _check_installable(context.pages[0] if context.pages else context.new_page())
    finally:
        context.close()


def _check_installable(page: object) -> None:
    page.goto("/login/")
    _worker_ready(page)
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest.get("errors") == []
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_started_without_a_connection_the_app_says_it_is_offline(page) -> None:
    """Offline, the start page is the honest offline page from the shell cache, not the browser's error."""
    sign_in(page, "mor.emma")
    _worker_ready(page)
    page.context.set_offline(True)
    try:
        page.goto("/")
        expect(page.get_by_test_id("offline")).to_be_visible()
        expect(page.locator("h1")).to_have_text("Ingen forbindelse")
        # The offline page is the same for everyone on the device: it names nobody.
        assert "Marte" not in page.content()
        # The shell's stylesheet came from the cache too.
        assert page.evaluate("getComputedStyle(document.body).display") == "flex"
    finally:
        page.context.set_offline(False)
