"""The installable app in Chromium: installability, the offline start, and a push to the real worker."""

from __future__ import annotations

import json

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


# Before a push is delivered: a promise of the next notification the service worker reports shown.
LISTEN = """() => {
  window.__shown = new Promise((resolve) => navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "trygg.push") resolve(event.data.notification);
  }, { once: true }));
}"""


def _registration_id(cdp: object, page: object) -> str:
    """Return the id DevTools gives the page's service worker registration."""
    found: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: found.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _round in range(100):  # each evaluate lets Playwright hand over the events that arrived
        live = [r for r in found if not r.get("isDeleted")]
        if live:
            return live[0]["registrationId"]
        page.evaluate("1")
    raise AssertionError("no service worker registration reported")


def test_r_staff_06_push_over_devtools_shows_a_neutral_notice_that_opens_the_messages(
    new_page, live_server_url
) -> None:
    """A push delivered to the real service worker shows Trygg's neutral notice; a click opens /messages/."""
    from trygg.notifications.texts import push_payload

    page = new_page()
    page.context.grant_permissions(["notifications"], origin=live_server_url)
    sign_in(page, "mor.emma")
    page.goto("/messages/notices/")
    _worker_ready(page)
    # The button that turns push on is offered: this browser has what push needs.
    expect(page.get_by_role("button", name="Slå på for denne enheten")).to_be_visible()
    cdp = page.context.new_cdp_session(page)
    payload = push_payload("nb", ["new_message"], 2, False)
    registration = _registration_id(cdp, page)
    page.evaluate(LISTEN)
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server_url, "registrationId": registration, "data": json.dumps(payload),
    })
    shown = [page.evaluate("window.__shown")]
    assert shown == [{"title": payload["title"], "body": payload["body"], "tag": payload["tag"], "url": "/messages/"}]
    assert "Marte" not in json.dumps(shown) and "Solheim" not in json.dumps(shown)
    workers = [w for w in page.context.service_workers if w.url.endswith("/sw.js")]
    worker = workers[-1] if workers else page.context.wait_for_event("serviceworker")
    # The worker's own click handler works out where a click goes from the notification's data.
    target = worker.evaluate("(url) => clickTarget({data: {url}})", shown[0]["url"])
    assert target == live_server_url + "/messages/"
    # A payload pointing outside Trygg is not followed: the click opens Trygg's home page instead.
    page.evaluate(LISTEN)
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server_url, "registrationId": registration,
        "data": json.dumps({**payload, "tag": "elsewhere", "url": "https://evil.example/"}),
    })
    elsewhere = page.evaluate("window.__shown")["url"]
    assert elsewhere == "/"  # the worker kept no address outside Trygg
    assert worker.evaluate("(url) => clickTarget({data: {url}})", "https://evil.example/") == live_server_url + "/"
