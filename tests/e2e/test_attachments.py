"""A photo in the class channel in a real browser against a live ASGI server (R-PAR-02).

The story: kari.4a takes a photo on the class trip with emma.4a in it and sends it to the 4A class
channel. The class (noah.4a) sees nothing until mor.emma, who has parental responsibility for
emma, gives permission on her "photos waiting for your answer" page; then it appears live.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import zlib

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO
from tests.e2e.api_calls import call, token_of

pytestmark = pytest.mark.e2e


def png(width: int = 48, height: int = 32) -> bytes:
    """Return a small valid PNG: a grey picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x90" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_r_par_02_photo_of_a_pupil_is_invisible_to_the_class_until_the_guardian_grants_it(
    live_server_url, live_database, signed_in_page
):
    """R-PAR-02: kari.4a attaches a photo naming emma.4a in the 4A channel; she sees it waiting for
    permission, noah.4a sees no photo (not even after a reload) and the API gives him nothing; mor.emma
    finds it on her requests page and gives permission; noah's open page then shows the photo, live."""
    base = live_server_url
    subprocess.run([sys.executable, "-m", "trygg.cli", "messaging", "sync-channels"], env=live_database.env,
                   cwd=REPO, check=True, capture_output=True)
    channel = next(c for c in call(base, "GET", "/api/v1/conversations", token_of(base, "kari.4a"))
                   if c["kind"] == "class" and "4A" in c["title"])
    conversation_url = f"/messages/{channel['id']}/"

    noah = signed_in_page("noah.4a")
    noah.goto(conversation_url)
    expect(noah.locator("#conversation")).to_have_attribute("data-socket", "open")

    kari = signed_in_page("kari.4a")
    kari.goto(conversation_url)
    expect(kari.locator("#conversation")).to_have_attribute("data-socket", "open")
    kari.locator("#attach-details summary").click()
    kari.set_input_files("#attach-file", files=[{"name": "klassetur.png", "mimeType": "image/png", "buffer": png()}])
    kari.select_option("#attach-pictured", "emma.4a")
    kari.fill("#attach-caption", "Klassetur til skogen")
    kari.click("#attach-send")
    waiting = kari.locator("[data-testid=pending-attachments] li[data-status=pending]")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".pictured")).to_contain_text("Emma")
    attachment_id = int(waiting.get_attribute("data-attachment-id"))

    # The class sees nothing: not on the open page, not after a reload, not through the API.
    noah_token = token_of(base, "noah.4a")
    listed = call(base, "GET", f"/api/v1/conversations/{channel['id']}/messages", noah_token)
    assert not [m for m in listed if m.get("attachment")]
    expect(noah.locator("#messages .attachment")).to_have_count(0)
    noah.reload()
    expect(noah.locator("#conversation")).to_have_attribute("data-socket", "open")
    expect(noah.locator("#messages .attachment")).to_have_count(0)
    expect(noah.locator("#messages li").filter(has_text="Klassetur til skogen")).to_have_count(0)
    assert noah.request.get(f"/api/v1/attachments/{attachment_id}/file").status == 404

    # mor.emma is told on her messages page and answers on the requests page.
    mor = signed_in_page("mor.emma")
    mor.goto("/messages/")
    mor.locator("[data-testid=photo-requests] a").click()
    mor.wait_for_url(re.compile(r"/messages/photos/$"))
    request = mor.locator(f'[data-testid=attachment-requests] li[data-attachment-id="{attachment_id}"]')
    expect(request.locator("img.attachment-thumb")).to_be_visible()
    request.locator("button[name=grant][value=yes]").click()
    mor.wait_for_url(re.compile(r"/messages/photos/$"))
    expect(mor.locator(f'li[data-attachment-id="{attachment_id}"]')).to_have_count(0)

    # noah's open page shows it without a reload, and the picture really loads.
    photo = noah.locator(f'#messages .attachment[data-attachment-id="{attachment_id}"] img')
    expect(photo).to_have_count(1)
    expect(noah.locator("#messages li").filter(has_text="Klassetur til skogen")).to_have_count(1)
    noah.wait_for_function(
        "(id) => { const img = document.querySelector(`.attachment[data-attachment-id=\"${id}\"] img`);"
        " return img && img.complete && img.naturalWidth === 48; }",
        arg=attachment_id,
    )
    # kari's page says it is shared.
    expect(kari.locator(f'[data-testid=pending-attachments] li[data-attachment-id="{attachment_id}"]')) \
        .to_have_attribute("data-status", "visible")


def test_r_stf_02_a_colleague_grants_a_staff_party_photo_on_the_conversation_page(
    live_server_url, signed_in_page
):
    """R-STF-02: kari.4a's photo of ola.9b in a staff group waits for ola; ola answers with the button
    on the conversation page itself, and nils.9b's open page then shows the photo without a reload."""
    base = live_server_url
    kari_token = token_of(base, "kari.4a")
    group = call(base, "POST", "/api/v1/conversations", kari_token,
                 {"kind": "group", "title": "Julebord", "member_usernames": ["ola.9b", "nils.9b"]})
    conversation_url = f"/messages/{group['id']}/"
    nils = signed_in_page("nils.9b")
    nils.goto(conversation_url)
    expect(nils.locator("#conversation")).to_have_attribute("data-socket", "open")
    ola = signed_in_page("ola.9b")
    ola.goto(conversation_url)
    expect(ola.locator("#conversation")).to_have_attribute("data-socket", "open")

    kari = signed_in_page("kari.4a")
    kari.goto(conversation_url)
    kari.locator("#attach-details summary").click()
    kari.set_input_files("#attach-file", files=[{"name": "julebord.png", "mimeType": "image/png", "buffer": png()}])
    kari.select_option("#attach-pictured", "ola.9b")
    kari.click("#attach-send")
    expect(kari.locator("[data-testid=pending-attachments] li[data-status=pending]")).to_have_count(1)

    # ola is asked on the page he has open (live), with the answer buttons.
    asked = ola.locator("[data-testid=pending-attachments] li[data-status=pending]")
    expect(asked).to_have_count(1)
    expect(nils.locator("[data-testid=pending-attachments] li")).to_have_count(0)
    expect(nils.locator("#messages .attachment")).to_have_count(0)
    asked.get_by_role("button", name=re.compile("Gi tillatelse|Give permission")).click()
    expect(ola.locator("[data-testid=pending-attachments] li[data-status=visible]")).to_have_count(1)
    expect(nils.locator("#messages .attachment img")).to_have_count(1)
    expect(kari.locator("#messages .attachment img")).to_have_count(1)
