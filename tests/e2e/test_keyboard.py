"""Four journeys with the keyboard alone, at 390×844 and 1280×800 (issue 13; R-A11Y-01, WCAG 2.1.1).

Each journey starts by typing the sign-in page's address and from there uses only Tab, Shift+Tab,
Enter, Space, arrow keys and typing: no clicks, no ``fill``, no ``goto``. A link or button is
reached by pressing Tab until it has focus; a menu that hides it (the phone's "Menu" button, a
message's "⋯") is opened with Enter on the way, as a person would. axe-core runs on every page of
every journey and must find nothing of any impact.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.api_calls import call, token_of
from tests.e2e.axe_check import axe_violations

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
MAX_TABS = 150

# After a Tab: "found" when focus is on the target; "open" when focus is on a closed disclosure
# (a button with aria-expanded="false" controlling the target's container, or a <summary> whose
# <details> holds the target), which Enter opens; "" to keep tabbing.
FOCUS_STEP = """(selector) => {
  const active = document.activeElement;
  if (!active) return "";
  if (active.matches(selector)) return "found";
  const target = document.querySelector(selector);
  if (!target) return "";
  const controls = active.getAttribute("aria-controls");
  if (active.getAttribute("aria-expanded") === "false" && controls
      && document.getElementById(controls)?.contains(target)) return "open";
  if (active.tagName === "SUMMARY" && !active.parentElement.open && active.parentElement.contains(target)) {
    return "open";
  }
  return "";
}"""


class Journey:
    """One person's journey by keyboard, with axe-core run on every page it reaches."""

    def __init__(self, page: Any, size: str) -> None:
        self.page = page
        self.size = size
        self.findings: dict[str, list[dict[str, Any]]] = {}
        page.set_viewport_size(SIZES[size])

    def check(self, label: str) -> None:
        """Run axe-core on the page as it is now; keep what it finds under ``label``."""
        found = axe_violations(self.page)
        if found:
            self.findings[f"{self.size} {label} ({self.page.url})"] = found

    def tab_to(self, selector: str) -> None:
        """Press Tab until ``selector`` has focus, opening a menu that hides it on the way."""
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            state = self.page.evaluate(FOCUS_STEP, selector)
            if state == "found":
                return
            if state == "open":
                self.page.keyboard.press("Enter")
        raise AssertionError(f"Tab never reached {selector} on {self.page.url}")

    def follow(self, selector: str, url: re.Pattern[str] | str, label: str) -> None:
        """Tab to a link or button, press Enter, wait for the next page and check it."""
        self.tab_to(selector)
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(url)
        self.check(label)

    def sign_in(self, username: str) -> None:
        """Type the sign-in page's address (the one ``goto``), then sign in with the keyboard."""
        self.page.goto("/login/")
        self.check("sign-in")
        self.tab_to("#id_username")
        self.page.keyboard.type(username)
        self.tab_to("#id_password")
        self.page.keyboard.type("demo")
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(lambda url: "/login/" not in url)
        self.check("home")


def _tomorrow() -> str:
    return (datetime.now().astimezone() + timedelta(days=1)).replace(microsecond=0).isoformat()


@pytest.mark.parametrize("size", list(SIZES))
def test_r_a11y_01_far_emma_sends_a_message_with_the_keyboard(new_page, live_server_url, size) -> None:
    """far.emma opens Messages, then kari.4a's conversation, writes and sends with Ctrl+Enter."""
    kari = token_of(live_server_url, "kari.4a")
    conversation = call(live_server_url, "POST", "/api/v1/conversations", kari,
                        {"kind": "direct", "member_usernames": ["far.emma"], "school_owned": True})
    call(live_server_url, "POST", f"/api/v1/conversations/{conversation['id']}/messages", kari,
         {"body": "Husk foreldremøtet på torsdag.", "client_txn_id": f"kbd-send-{size}"})
    journey = Journey(new_page(), size)
    journey.sign_in("far.emma")
    journey.follow('nav a[href="/messages/"]', re.compile(r"/messages/$"), "messages")
    journey.follow(f'a[href="/messages/{conversation["id"]}/"]', re.compile(rf"/messages/{conversation['id']}/$"),
                   "conversation")
    page = journey.page
    expect(page.locator("#conversation")).to_have_attribute("data-socket", "open")
    journey.tab_to("#body")
    page.keyboard.type(f"Takk, vi kommer ({size})")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#messages li.mine").filter(has_text=f"Takk, vi kommer ({size})")).to_have_count(1)
    journey.check("conversation after sending")
    assert journey.findings == {}


@pytest.mark.parametrize("size", list(SIZES))
def test_r_pup_02_emma_shows_an_adult_with_the_keyboard(new_page, live_server_url, size) -> None:
    """emma.4a finds a classmate's message in the 4A channel, presses "Show an adult", picks "Someone
    was mean to me" with the arrow keys, sends it and opens her case page, which says it in her words."""
    kari, noah = token_of(live_server_url, "kari.4a"), token_of(live_server_url, "noah.4a")
    channel = next(c for c in call(live_server_url, "GET", "/api/v1/conversations", kari)
                   if c["kind"] == "class" and "4A" in c["title"])
    announcement = call(live_server_url, "POST", f"/api/v1/conversations/{channel['id']}/messages", kari,
                        {"body": f"Hva liker dere best i friminuttet? ({size})", "client_txn_id": f"kbd-ann-{size}"})
    call(live_server_url, "POST", f"/api/v1/messages/{announcement['id']}/discussion", kari, {"open": True})
    nasty = call(live_server_url, "POST", f"/api/v1/conversations/{channel['id']}/messages", noah,
                 {"body": f"Emma får ikke være med oss ({size})", "client_txn_id": f"kbd-nasty-{size}",
                  "reply_to": announcement["id"]})
    journey = Journey(new_page(), size)
    page = journey.page
    journey.sign_in("emma.4a")
    journey.follow('nav a[href="/messages/"]', re.compile(r"/messages/$"), "messages")
    journey.follow(f'a[href="/messages/{channel["id"]}/"]', re.compile(rf"/messages/{channel['id']}/$"),
                   "class channel")
    journey.follow(f'#messages li[data-message-id="{nasty["id"]}"] .report-link',
                   re.compile(rf"/cases/report/\?message={nasty['id']}$"), "show an adult")
    expect(page.locator("[data-testid=reported-message]")).to_contain_text("Emma får ikke være med oss")
    journey.tab_to("input[name=category]")
    page.keyboard.press("Space")
    for _ in range(6):
        if page.locator("#category-bullying").is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(page.locator("#category-bullying")).to_be_checked()
    journey.follow("[data-testid=send-report]", re.compile(r"/cases/\d+/sent/$"), "report sent")
    case_id = int(re.search(r"/cases/(\d+)/sent/", page.url).group(1))
    journey.follow(f'main a[href="/cases/{case_id}/"]', re.compile(rf"/cases/{case_id}/$"), "her case")
    expect(page.locator("[data-testid=chosen]")).to_contain_text("Noen var slemme mot meg")
    expect(page.locator("[data-testid=confirm]")).to_have_count(0)
    assert journey.findings == {}


@pytest.mark.parametrize("size", list(SIZES))
def test_r_list_02_far_emma_opts_in_on_the_class_list_with_the_keyboard(new_page, size) -> None:
    """far.emma opens the class list from the menu, chooses what he shares, confirms that he read the
    public-list notice, turns his e-mail on with Space and saves with Enter; it stays on."""
    journey = Journey(new_page(), size)
    page = journey.page
    journey.sign_in("far.emma")
    journey.follow('nav a[href="/classes/"]', re.compile(r"/classes/$"), "class lists")
    journey.follow("main a[href$='/consent/']", re.compile(r"/classes/\d+/consent/$"), "consent")
    form = page.locator("[data-testid=consent-emma\\.4a]")
    switch = form.locator('[id="emma.4a-email"]')
    if switch.is_checked():  # the other size's run turned it on: this run turns it off and on again
        journey.tab_to('[id="emma.4a-email"]')
        page.keyboard.press("Space")
    notice = form.locator("[data-notice-read]")
    if notice.count() and notice.is_visible() and not notice.is_checked():
        journey.tab_to('[data-testid="consent-emma.4a"] [data-notice-read]')
        page.keyboard.press("Space")
    journey.tab_to('[id="emma.4a-email"]')
    page.keyboard.press("Space")
    expect(switch).to_be_checked()
    journey.tab_to('[data-testid="consent-emma.4a"] button[type=submit]')
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator('[id="emma.4a-email"]')).to_be_checked()
    journey.check("consent saved")
    assert journey.findings == {}


@pytest.mark.parametrize("size", list(SIZES))
def test_r_meet_10_far_emma_joins_a_development_talk_with_the_keyboard(new_page, live_server_url, size) -> None:
    """kari.4a calls a talk about emma.4a; far.emma finds it under Meetings, goes to it and waits in
    the lobby; kari.4a lets him in with the keyboard, and he is in the meeting."""
    kari_token = token_of(live_server_url, "kari.4a")
    meeting = call(live_server_url, "POST", "/api/v1/meetings", kari_token, {
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": _tomorrow(),
        "title": f"Utviklingssamtale ({size})", "invitation_text": "Velkommen til samtale.",
    })
    journey = Journey(new_page(), size)
    page = journey.page
    journey.sign_in("far.emma")
    journey.follow('nav a[href="/meetings/"]', re.compile(r"/meetings/$"), "meetings")
    journey.follow(f'main a[href="/meetings/{meeting["id"]}/"]', re.compile(rf"/meetings/{meeting['id']}/$"),
                   "meeting")
    journey.tab_to("[data-testid=join-link]")
    page.keyboard.press("Enter")
    expect(page.locator("#room")).to_have_attribute("data-state", "lobby")
    journey.check("lobby")

    host = Journey(new_page(), size)
    host.sign_in("kari.4a")
    host.follow('nav a[href="/meetings/"]', re.compile(r"/meetings/$"), "meetings (kari.4a)")
    host.follow(f'main a[href="/meetings/{meeting["id"]}/"]', re.compile(rf"/meetings/{meeting['id']}/$"),
                "meeting (kari.4a)")
    host.tab_to("[data-testid=join-link]")
    host.page.keyboard.press("Enter")
    expect(host.page.locator("#room")).to_have_attribute("data-state", "admitted")
    if host.page.locator("#guidelines-read").is_visible():
        host.tab_to("#guidelines-read")
        host.page.keyboard.press("Enter")
        expect(host.page.locator("#guidelines-done")).to_be_visible()
    host.tab_to('#people li[data-username="far.emma"] button.admit')
    host.page.keyboard.press("Enter")
    expect(page.locator("#room")).to_have_attribute("data-state", "admitted")
    journey.check("in the meeting")
    host.check("room (kari.4a)")
    assert {**journey.findings, **host.findings} == {}
