"""Conversations people recognise, search and the "⋯" menu, in Chromium (issue 13 items 4 and 6):
titles with the other person's role, initials avatars, previews that hide sensitive text, search,
a keyboard-usable message menu with 44 px targets, and axe in light and dark mode at both sizes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.e2e.api_calls import call, token_of
from tests.e2e.axe_check import axe_violations

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SHOTS = os.environ.get("TRYGG_SCREENS_DIR", "")


WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _setup(base: str) -> dict:
    """Kari's direct chat with mor.emma (school) and a group "Klassetur 4A" whose last message is
    sensitive; every text is unique to this module, so a shared live server does not confuse it."""
    kari = token_of(base, "kari.4a")
    direct = call(base, "POST", "/api/v1/conversations", kari,
                  {"kind": "direct", "member_usernames": ["mor.emma"], "school_owned": True})
    call(base, "POST", f"/api/v1/conversations/{direct['id']}/messages", kari,
         {"body": "Husk bålpanne og ullsokker til turen", "client_txn_id": "conv-e2e-1"})
    group = call(base, "POST", "/api/v1/conversations", kari,
                 {"kind": "group", "title": "Klassetur 4A", "member_usernames": ["mor.emma", "far.emma"]})
    call(base, "POST", f"/api/v1/conversations/{group['id']}/messages", kari,
         {"body": "Emma trenger allergimedisin på turen", "client_txn_id": "conv-e2e-2", "sensitive": True})
    return {"direct": direct["id"], "group": group["id"], "kari": kari}


@pytest.fixture(scope="module")
def chats(live_server_url: str) -> dict:
    return _setup(live_server_url)


def test_r_chat_04_the_list_shows_who_with_role_avatar_preview_and_follows_live(new_page, chats,
                                                                                live_server_url) -> None:
    """mor.emma's list titles Kari's chat "<name> · kontaktlærer 4A" with initials, shows the last
    message and the unread count, shows only "Sensitiv melding" for the sensitive one, and moves
    the preview when Kari writes again."""
    page = new_page()
    page.set_viewport_size(SIZES["phone"])
    sign_in(page, "mor.emma")
    page.goto("/messages/")
    expect(page.locator("#chat-list")).to_have_attribute("data-socket", "open")
    direct = page.locator(f'li[data-conversation-id="{chats["direct"]}"]')
    expect(direct.get_by_test_id("conversation-title")).to_have_text(re.compile(r"^Kari .+ · kontaktlærer 4A$"))
    expect(direct.get_by_test_id("avatar")).to_have_text(re.compile(r"^K[A-ZÆØÅ]$"))
    expect(direct.get_by_test_id("preview")).to_have_text("Husk bålpanne og ullsokker til turen")
    expect(direct.locator(".unread")).not_to_have_class(re.compile("visually-hidden"))
    group = page.locator(f'li[data-conversation-id="{chats["group"]}"]')
    expect(group.get_by_test_id("conversation-title")).to_have_text("Klassetur 4A")
    expect(group.get_by_test_id("preview")).to_have_text(re.compile(r"Sensitiv melding$"))
    expect(page.locator("#chat-list")).not_to_contain_text("allergimedisin")
    call(live_server_url, "POST", f"/api/v1/conversations/{chats['direct']}/messages", chats["kari"],
         {"body": "Bussen går klokka åtte", "client_txn_id": "conv-e2e-live"})
    expect(direct.get_by_test_id("preview")).to_have_text("Bussen går klokka åtte")
    expect(direct.locator(".unread")).to_have_text(re.compile(r"^\d+ ulest$"))
    _shot(page, "mor.emma-phone-list")
    page.goto(f"/messages/{chats['direct']}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Kari")
    expect(heading).to_contain_text("kontaktlærer 4A")


def test_search_box_finds_a_message_and_says_when_nothing_is_found(new_page, chats) -> None:
    """Search on the list finds Kari's message by a word in it; the sensitive text finds nothing."""
    page = new_page()
    sign_in(page, "mor.emma")
    page.goto("/messages/")
    page.get_by_label("Søk i samtalene og meldingene dine").fill("ullsokker")
    page.get_by_role("button", name="Søk", exact=True).click()
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("Husk bålpanne og ullsokker til turen")
    results.get_by_role("link", name=re.compile("ullsokker")).click()
    page.wait_for_url(f"**/messages/{chats['direct']}/")
    page.goto("/messages/?q=allergimedisin")
    expect(page.get_by_test_id("search-results")).to_contain_text("Fant ingenting")


def test_the_message_menu_opens_and_closes_from_the_keyboard_with_44_px_targets(new_page, chats) -> None:
    """⋯ on Kari's message opens with Enter and offers "Meld fra"; Escape closes it and gives the
    focus back; on one's own message it offers "Endre" and "Slett", never "Meld fra"."""
    page = new_page()
    page.set_viewport_size(SIZES["phone"])
    sign_in(page, "mor.emma")
    page.goto(f"/messages/{chats['direct']}/")
    expect(page.locator("#conversation")).to_have_attribute("data-socket", "open")
    theirs = page.locator("#messages li").filter(has_text="Husk bålpanne og ullsokker").first
    button = theirs.locator(".message-menu > summary")
    expect(button).to_have_accessible_name("Hva du kan gjøre med meldingen")
    expect(theirs.get_by_role("button", name="Meld fra")).to_be_hidden()
    button.focus()
    page.keyboard.press("Enter")
    report = theirs.get_by_role("button", name="Meld fra")
    expect(report).to_be_visible()
    for box in (button.bounding_box(), report.bounding_box()):
        assert box["height"] >= 44 and box["width"] >= 44, box
    assert _fits(page), page.evaluate(WIDE)
    assert axe_violations(page) == []
    _shot(page, "mor.emma-phone-menu-open")
    page.keyboard.press("Tab")
    expect(report).to_be_focused()
    page.keyboard.press("Escape")
    expect(report).to_be_hidden()
    expect(button).to_be_focused()
    page.fill("#body", "Vi har ullsokker, takk")
    page.click("#send")
    mine = page.locator("#messages li.mine").filter(has_text="Vi har ullsokker, takk")
    mine.locator(".message-menu > summary").click()
    expect(mine.get_by_role("button", name="Endre")).to_be_visible()
    expect(mine.get_by_role("button", name="Slett")).to_be_visible()
    expect(mine.get_by_role("button", name="Meld fra")).to_have_count(0)
    mine.get_by_role("button", name="Endre").press("Enter")
    expect(mine.locator("textarea")).to_be_focused()


@pytest.mark.parametrize("username", ["mor.emma", "emma.4a"])
def test_r_a11y_01_axe_finds_nothing_in_dark_mode_on_the_chat_pages(browser, live_server_url, chats,
                                                                     username) -> None:
    """In dark mode (and with reduced motion asked for), at 390×844, 1280×800 and 320 px: the list, a search,
    a conversation with its menu open. Light mode is checked by test_phone; here the search page too."""
    for scheme in ("dark", "light"):
        context = browser.new_context(base_url=live_server_url, locale="nb-NO", color_scheme=scheme,
                                      reduced_motion="reduce")
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            sign_in(page, username)
            if username == "emma.4a":
                kari = chats["kari"]
                chat = call(live_server_url, "POST", "/api/v1/conversations", kari,
                            {"kind": "direct", "member_usernames": ["emma.4a"], "school_owned": True})
                call(live_server_url, "POST", f"/api/v1/conversations/{chat['id']}/messages", kari,
                     {"body": "Husk ullsokker i morgen, Emma", "client_txn_id": f"conv-e2e-emma-{scheme}"})
                conversation = chat["id"]
            else:
                conversation = chats["direct"]
            found = {}
            # 320 px too: nothing may scroll sideways on the smallest phones (WCAG 1.4.10).
            for size_name, size in {**SIZES, "narrow": {"width": 320, "height": 640}}.items():
                page.set_viewport_size(size)
                for path in ("/messages/", "/messages/?q=ullsokker", f"/messages/{conversation}/"):
                    page.goto(path)
                    expect(page.locator("h1")).to_have_count(1)
                    if path.endswith(f"{conversation}/"):
                        theirs = page.locator("#messages li:not(.mine) .message-menu summary").first
                        theirs.click()
                        expect(page.locator(".message-menu[open] .menu-items")).to_be_visible()
                    if scheme == "dark":
                        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
                        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
                    violations = axe_violations(page)
                    if violations:
                        found[f"{scheme} {size_name} {path}"] = violations
                    assert _fits(page), (path, page.evaluate(WIDE))
                    name = path.strip("/").replace("/", "-").replace("?q=", "search-") or "home"
                    _shot(page, f"{username}-{scheme}-{size_name}-{name}")
            assert found == {}
        finally:
            context.close()
