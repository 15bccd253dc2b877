"""A lesson on the SFU in Chromium with fake cameras (issue 16): sfu.js against a real Janus.

A ``trygg serve`` of its own, told where a Janus of its own is (``TRYGG_JANUS_URL``), on the
session's live database. The teacher and two pupils of 4A join from the lesson's link; the teacher
lets them in from the lobby; each page decodes the other two through Janus while sending one video
upstream; a raised hand reaches the teacher; the teacher mutes a pupil; ending disconnects all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import LiveDatabase, LiveServer, sign_in
from tests.e2e.api_calls import call, token_of
from tests.e2e.page_waits import wait_for_probe
from tests.e2e.test_meetings import MEDIA_CHROMIUM_ARGS
from trygg.meetings.janus_process import JanusServer, start_janus

pytestmark = [pytest.mark.e2e, pytest.mark.once_in_ci]

SFU_STATS = ("async () => { const s = window.tryggMeeting && window.tryggMeeting.sfu();"
             " return s ? await s.stats() : null; }")


@pytest.fixture(scope="module")
def janus() -> Iterator[JanusServer]:
    server = start_janus()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sfu_server(live_database: LiveDatabase, janus: JanusServer) -> Iterator[str]:
    env = {**live_database.env, "TRYGG_JANUS_URL": janus.url, "TRYGG_JANUS_ADMIN_KEY": janus.admin_key}
    server = LiveServer(env)
    yield server.url
    server.stop()


@pytest.fixture
def pages(browser: Any, sfu_server: str) -> Iterator[Callable[[str], Any]]:
    own = browser.browser_type.launch(executable_path="/usr/bin/chromium", args=MEDIA_CHROMIUM_ARGS)

    def make(username: str) -> Any:
        context = own.new_context(base_url=sfu_server, locale="nb-NO")
        context.set_default_timeout(20_000)
        page = context.new_page()
        sign_in(page, username)
        return page

    yield make
    own.close()


def wait_for_stats(page: Any, predicate: str, seconds: float = 40.0) -> dict[str, Any]:
    """Wait until the page's SFU statistics satisfy ``predicate`` (JS); return the last seen."""
    return wait_for_probe(page, SFU_STATS, predicate, seconds) or {}


def test_issue16_r_meet_01_lesson_through_janus_in_chromium(pages: Callable[[str], Any], sfu_server: str) -> None:
    token = token_of(sfu_server, "kari.4a")
    meeting = call(sfu_server, "POST", "/api/v1/meetings", token, {
        "kind": "lesson", "class_id": class_id_of_4a(sfu_server, token), "title": "Matte for 4A",
        "invitation_text": "Velkommen til mattetimen.", "starts_at": "2030-01-07T09:00:00+01:00",
    })
    link = meeting["link"]
    kari = pages("kari.4a")
    kari.goto(link)
    expect(kari.locator("#room")).to_have_attribute("data-state", "admitted")
    expect(kari.locator("#room")).to_have_attribute("data-media", "sfu")
    expect(kari.locator("#share-screen")).to_be_visible()

    pupils = {}
    for username in ("emma.4a", "noah.4a"):
        page = pages(username)
        page.goto(link)
        expect(page.locator("#room")).to_have_attribute("data-state", "lobby")
        kari.locator(f'#people li[data-username="{username}"] button.admit').click()
        expect(page.locator("#room")).to_have_attribute("data-state", "admitted")
        expect(page.locator("#raise-hand")).to_be_visible()
        expect(page.locator("#share-screen")).to_have_count(0)
        pupils[username] = page

    for page in (kari, *pupils.values()):
        stats = wait_for_stats(page, "(s) => s.inboundVideo >= 2 && s.framesDecoded > 0")
        assert stats.get("inboundVideo", 0) >= 2 and stats["framesDecoded"] > 0, stats
        assert stats["outboundVideo"] >= 1  # one camera up (its simulcast layers count as one stream each)
    # Names on the tiles come from Trygg's roster; the watermark is the viewer's own name.
    expect(kari.locator(".tile[data-feed] .tile-label").first).not_to_be_empty()
    expect(pupils["emma.4a"].locator(".tile .watermark span").first).to_be_visible()

    pupils["emma.4a"].locator("#raise-hand").click()
    expect(kari.locator('#people li[data-username="emma.4a"] .badge.hand')).to_be_visible()
    kari.locator('#people li[data-username="noah.4a"] button.mute').click()
    expect(pupils["noah.4a"].locator("#toggle-mic")).to_have_attribute("aria-pressed", "false")

    kari.on("dialog", lambda dialog: dialog.accept())
    kari.locator("#end").click()
    for page in pupils.values():
        expect(page.locator("#room")).to_have_attribute("data-state", "ended", timeout=5000)


def class_id_of_4a(base: str, token: str) -> int:
    checked = call(base, "GET", "/api/v1/classes", token)
    return next(c["id"] for c in checked if c.get("name") == "4A")
