"""The pages issue 13 wrote for families, checked by axe-core at 390×844 and 1280×800 (R-A11Y-01)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in, step_up_in_browser
from tests.e2e.api_calls import call, token_of
from tests.e2e.axe_check import axe_violations

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def test_r_a11y_01_the_short_guidelines_my_reports_and_the_case_at_follow_up_pass_axe(
        new_page, live_server_url) -> None:
    """emma.4a and mor.emma: the guidelines in short, My reports and the case page asking "is it over?"
    (the case moved to follow-up by rektor) have nothing axe-core reports, and nothing scrolls sideways."""
    mor_token = token_of(live_server_url, "mor.emma")
    case_id = call(live_server_url, "POST", "/api/v1/reports", mor_token,
                   {"category": "exclusion", "description": "Holdt utenfor", "harmed_usernames": ["emma.4a"]}
                   )["case_id"]
    rektor = new_page()
    sign_in(rektor, "rektor")
    step_up_in_browser(rektor, "rektor")
    rektor.goto(f"/cases/{case_id}/")
    for status in ("assessed", "actions", "follow_up"):
        rektor.click("[data-testid=next-status]")
        expect(rektor.locator("#case")).to_have_attribute("data-status", status)
    found = {}
    for username in ("emma.4a", "mor.emma"):
        page = new_page()
        sign_in(page, username)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for path in ("/guidelines/short/", "/cases/", f"/cases/{case_id}/"):
                page.goto(path)
                expect(page.locator("h1")).to_have_count(1)
                if path.endswith(f"{case_id}/"):
                    expect(page.locator("[data-testid=confirm]")).to_be_visible()
                violations = axe_violations(page)
                if violations:
                    found[f"{username} {size} {path}"] = violations
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    assert found == {}
