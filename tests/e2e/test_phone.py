"""Trygg on a phone and a desktop: axe-core finds nothing on the pages of this issue, at 390×844
and 1280×800, for a pupil, a guardian and a teacher (R-A11Y-01, R-I18N-01)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.e2e.axe_check import axe_violations

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PAGES = ("/", "/messages/", "/messages/notices/", "/me/", "/meetings/", "/offline/")
# Screenshots for a person to look at, when asked for (TRYGG_SCREENS_DIR=/some/dir).
SHOTS = os.environ.get("TRYGG_SCREENS_DIR", "")


@pytest.mark.parametrize("username", ["emma.4a", "mor.emma", "ola.9b"])
def test_r_a11y_01_axe_finds_nothing_on_the_phone_pages(new_page, username) -> None:
    page = new_page()
    sign_in(page, username)
    found = {}
    for size_name, size in SIZES.items():
        page.set_viewport_size(size)
        for path in PAGES:
            page.goto(path)
            expect(page.locator("h1")).to_have_count(1)
            violations = axe_violations(page)
            if violations:
                found[f"{size_name} {path}"] = violations
            # Nothing scrolls sideways on a phone (WCAG 1.4.10).
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
            if SHOTS:
                name = f"{username}-{size_name}-{path.strip('/').replace('/', '-') or 'home'}.png"
                page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
    assert found == {}


def test_axe_is_really_running(page) -> None:
    """The injected axe-core reports a page built with known faults, so a silent check fails the suite."""
    page.set_content('<html><body><img src="data:,"><ul role="status"><li>Saved</li></ul>'
                     '<button></button></body></html>')
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "button-name", "html-has-lang"} <= ids


def test_on_a_phone_the_header_is_one_line_and_the_menu_opens_from_one_button(new_page) -> None:
    """At 390×844 the header is brand and "Meny"; the menu opens and closes with that button."""
    page = new_page()
    page.set_viewport_size(SIZES["phone"])
    sign_in(page, "mor.emma")
    page.goto("/")
    toggle = page.get_by_role("button", name="Meny")
    expect(toggle).to_be_visible()
    assert page.locator(".site-header").bounding_box()["height"] <= 64
    nav = page.get_by_role("navigation", name="Hovedmeny")
    expect(nav).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Meldinger")).to_be_visible()
    assert nav.get_by_role("link", name="Meldinger").bounding_box()["height"] >= 44
    page.set_viewport_size(SIZES["desktop"])
    expect(toggle).to_be_hidden()
    expect(nav).to_be_visible()


def test_a_chat_on_a_phone_shows_the_messages_not_the_chrome(new_page, live_server_url) -> None:
    """At 390×844 the composer is one line with "Send" beside it; one's own message offers no "Report",
    the other's does; axe finds nothing on the conversation page."""
    from tests.e2e.api_calls import call, token_of

    ola = token_of(live_server_url, "ola.9b")
    conversation = call(live_server_url, "POST", "/api/v1/conversations", ola,
                        {"kind": "direct", "member_usernames": ["far.jonas"], "school_owned": True})
    call(live_server_url, "POST", f"/api/v1/conversations/{conversation['id']}/messages", ola,
         {"body": "Jonas var flink i dag", "client_txn_id": "phone-1"})
    page = new_page()
    page.set_viewport_size(SIZES["phone"])
    sign_in(page, "far.jonas")
    page.goto(f"/messages/{conversation['id']}/")
    expect(page.locator("#conversation")).to_have_attribute("data-socket", "open")
    page.fill("#body", "Takk for beskjed")
    page.click("#send")
    mine = page.locator("#messages li.mine").filter(has_text="Takk for beskjed")
    expect(mine).to_have_count(1)
    expect(mine.locator(".message-report")).to_have_count(0)
    theirs = page.locator("#messages li").filter(has_text="Jonas var flink i dag")
    expect(theirs.locator(".message-report")).to_have_count(1)
    composer = page.locator("#composer").bounding_box()
    assert composer["height"] <= 120, composer
    send, body = page.locator("#send").bounding_box(), page.locator("#body").bounding_box()
    assert abs(send["y"] + send["height"] - (body["y"] + body["height"])) <= 2  # on the same line
    assert axe_violations(page) == []
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "far.jonas-phone-conversation.png"))


def test_removing_someone_from_the_lobby_asks_first_and_can_be_undone(signed_in_page, live_server_url) -> None:
    """"Remove" beside "Let in" asks before it acts, then waits with "Undo"; undone, the guardian
    is still waiting in the lobby."""
    from datetime import datetime, timedelta

    from tests.e2e.api_calls import call, token_of

    kari_token = token_of(live_server_url, "kari.4a")
    starts = (datetime.now().astimezone() + timedelta(days=1)).replace(microsecond=0).isoformat()
    meeting = call(live_server_url, "POST", "/api/v1/meetings", kari_token, {
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": starts,
        "title": "Samtale", "invitation_text": "Velkommen.",
    })
    mor = signed_in_page("mor.emma")
    mor.goto(f"/meetings/{meeting['id']}/")
    mor.click("[data-testid=join-link]")
    expect(mor.locator("#room")).to_have_attribute("data-state", "lobby")
    kari = signed_in_page("kari.4a")
    kari.goto(f"/meetings/{meeting['id']}/")
    kari.click("[data-testid=join-link]")
    expect(kari.locator("#room")).to_have_attribute("data-state", "admitted")
    row = kari.locator('#people li[data-username="mor.emma"]')
    row.locator("button.remove").click()
    expect(row).to_contain_text("Fjerne Marte Solheim fra møtet?")
    row.locator("button.remove-cancel").click()
    expect(row.locator("button.remove")).to_be_visible()
    row.locator("button.remove").click()
    row.locator("button.remove-yes").click()
    expect(row.locator(".remove-pending")).to_contain_text("Marte Solheim")
    row.locator("button.undo").click()
    expect(row.locator("button.admit")).to_be_visible()
    expect(mor.locator("#room")).to_have_attribute("data-state", "lobby")


def test_r_a11y_01_the_confirmation_after_saving_passes_axe(new_page) -> None:
    """The flash list after a save (here: the class-list consent saved unchanged) passes axe, at both
    sizes, and says honestly that nothing changed."""
    page = new_page()
    sign_in(page, "far.jonas")
    page.goto("/classes/")
    page.locator("a[href$='/consent/']").first.click()
    form = page.locator("form[data-consent-form]").first
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Ingenting ble endret")
    for size in SIZES.values():
        page.set_viewport_size(size)
        assert axe_violations(page) == []
