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
PAGES = ("/", "/messages/", "/messages/notices/", "/offline/")
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
