"""Safety signals in a real browser (issue 14): a threat is nudged, sent anyway, offered to an adult
by its receiver and told to the contact teacher without its text; self-harm shows the help line."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_a11y import check_page

pytestmark = pytest.mark.e2e

THREAT = "Jeg skal banke deg etter skolen i dag"
SELFHARM = "jeg vil ikke leve mer, jeg vil skade meg selv"


def open_direct(page, username: str) -> None:
    page.goto("/messages/")
    page.check(f"#new-conversation input[name=members][value='{username}']")
    page.click("#new-conversation button[type=submit]")
    page.wait_for_url(re.compile(r"/messages/\d+/$"))


def test_r_pup_02_r_safe_02_threat_nudged_sent_anyway_shown_to_adult_alert_without_text(signed_in_page):
    """R-PUP-02, R-SAFE-02, R-CASE-10, R-STAFF-06: sara.9b writes a threat to jonas.9b and sees the
    nudge, sends anyway; jonas.9b is offered "show an adult"; ola.9b (contact teacher 9B) gets an alert
    naming Sara, without the text."""
    ola = signed_in_page("ola.9b")
    ola.goto("/safety/alerts/")
    expect(ola.locator("#safety-alerts-page")).to_have_attribute("data-socket", "open")
    sara = signed_in_page("sara.9b")
    open_direct(sara, "jonas.9b")
    conversation_url = sara.url
    sara.fill("#body", THREAT)
    sara.click("#send")
    nudge = sara.locator("[data-testid=nudge]")
    expect(nudge).to_be_visible()
    expect(nudge.locator("[data-category=threat]")).to_have_count(1)
    # Nothing is sent before "send anyway".
    expect(sara.locator("#messages li").filter(has_text=THREAT)).to_have_count(0)
    # R-A11Y-01 holds with the nudge open.
    assert check_page(sara) == []
    nudge.get_by_role("button", name=re.compile("Send likevel|Send anyway")).click()
    expect(sara.locator("#messages li").filter(has_text=THREAT)).to_have_count(1)
    # The writer is not offered to report her own message as a threat.
    expect(sara.locator("[data-testid=show-an-adult]")).to_have_count(0)

    jonas = signed_in_page("jonas.9b")
    jonas.goto(conversation_url)
    offer = jonas.locator("#messages li").filter(has_text=THREAT).locator("[data-testid=show-an-adult]")
    expect(offer).to_be_visible()
    assert check_page(jonas) == []
    offer.get_by_role("button", name=re.compile("Vis en voksen|Show an adult")).click()
    expect(jonas).to_have_url(re.compile(r"/cases/\d+/sent/$"))

    # ola.9b's open page hears the alert at once, then shows it.
    expect(ola.locator("[data-testid=new-alerts]")).to_be_visible()
    ola.locator("[data-testid=new-alerts] a").click()
    alert = ola.locator("[data-testid=safety-alert][data-category=threat]").first
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Sara Dahle")
    expect(ola.locator("main")).not_to_contain_text("banke")
    assert check_page(ola) == []
    alert.get_by_role("button", name=re.compile("Merk som sett|Mark as seen")).click()
    expect(ola.locator("[data-testid=safety-alert][data-category=threat]").first).not_to_have_class(
        re.compile("unread"))


def test_r_pup_02_emma_writing_about_hurting_herself_sees_the_help_line(signed_in_page):
    """R-PUP-02: emma.4a writes to her contact teacher that she wants to hurt herself; before sending
    she sees the help lines of Norway (Kors på halsen 800 33 321, Alarmtelefonen 116 111) in Norwegian."""
    emma = signed_in_page("emma.4a")
    open_direct(emma, "kari.4a")
    emma.fill("#body", SELFHARM)
    emma.click("#send")
    nudge = emma.locator("[data-testid=nudge]")
    expect(nudge.locator("[data-category=selfharm]")).to_have_count(1)
    lines = nudge.locator("[data-testid=help-lines]")
    expect(lines).to_contain_text("Kors på halsen")
    expect(lines).to_contain_text("800 33 321")
    expect(lines).to_contain_text("116 111")
    assert check_page(emma) == []


def test_r_safe_01_a_threatening_photo_caption_is_nudged_before_upload(signed_in_page):
    """A caption is read as a message is: sara.9b sees the nudge before the photo goes, and can send anyway."""
    from tests.e2e.test_attachments import png

    sara = signed_in_page("sara.9b")
    open_direct(sara, "jonas.9b")
    sara.locator("#attach-details summary").click()
    sara.set_input_files("#attach-file", files=[{"name": "bilde.png", "mimeType": "image/png", "buffer": png()}])
    sara.check("#attach-nobody")
    sara.fill("#attach-caption", "Jeg skal drepe deg 🔪")
    sara.click("#attach-send")
    nudge = sara.locator("[data-testid=attach-nudge]")
    expect(nudge.locator("[data-category=threat]")).to_have_count(1)
    expect(sara.locator("#messages .attachment")).to_have_count(0)
    nudge.get_by_role("button").click()
    expect(sara.locator("#messages .attachment")).to_have_count(1)
