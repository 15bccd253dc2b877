"""Counts of what waits, live over the event socket: menu, home page, tab title (R-A11Y-01)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.api_calls import call, token_of

pytestmark = pytest.mark.e2e


def test_a_new_message_raises_the_counts_without_reload(signed_in_page, live_server_url) -> None:
    """far.emma sits on the home page; kari.4a writes to him; the menu, the home page and the tab
    title show the unread message at once, and reading it clears them."""
    page = signed_in_page("far.emma")
    page.goto("/")
    unread = page.locator("nav [data-count=messages] [aria-hidden=true]")
    start = int(unread.inner_text() or 0) if unread.is_visible() else 0
    kari = token_of(live_server_url, "kari.4a")
    conversation = call(live_server_url, "POST", "/api/v1/conversations", kari,
                        {"kind": "direct", "member_usernames": ["far.emma"], "school_owned": True})
    call(live_server_url, "POST", f"/api/v1/conversations/{conversation['id']}/messages", kari,
         {"body": "Husk matpakke i morgen", "client_txn_id": "count-1"})
    # Other browser tests share this server, so the test watches the count move, not its value.
    count = "document.querySelector('nav [data-count=messages] [aria-hidden=true]')"
    page.wait_for_function(f"() => Number({count}.textContent) > {start}")
    raised = int(unread.inner_text())
    expect(page.locator("main [data-count=messages]")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(\d+\) "))
    # Read on another device (here: the API): this page hears of it and lowers the count.
    far = token_of(live_server_url, "far.emma")
    call(live_server_url, "POST", f"/api/v1/conversations/{conversation['id']}/read", far, {})
    page.wait_for_function(f"() => Number({count}.textContent) < {raised}")
