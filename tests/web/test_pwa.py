"""The installable app's parts as the server hands them out: manifest, icons, worker, offline page."""

from __future__ import annotations

import json

from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image


def test_manifest_names_the_app_with_plain_and_maskable_icons(demo) -> None:
    """The manifest is open to everyone (the login page installs too) and has what Chromium checks."""
    response = Client(HTTP_ACCEPT_LANGUAGE="da").get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    data = json.loads(response.content)
    assert data["name"] == "Trygg" and data["start_url"] == "/" and data["display"] == "standalone"
    assert data["theme_color"] == "#0b5cad"
    # R-I18N-01: the description speaks the reader's language.
    assert data["lang"] == "da" and "skole" in data["description"].lower()
    purposes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= purposes
    for icon in data["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]


def test_maskable_icon_keeps_its_drawing_inside_the_safe_zone() -> None:
    """A launcher may cut a maskable icon to a circle of 80 %: everything outside is plain background."""
    with Image.open(finders.find("web/icons/maskable-512.png")) as image:
        rgba = image.convert("RGBA")
        background = rgba.getpixel((0, 0))
        assert background[3] == 255  # a maskable icon fills its whole square
        centre, radius = 256, 0.4 * 512
        for x in range(0, 512, 4):
            for y in range(0, 512, 4):
                if (x - centre) ** 2 + (y - centre) ** 2 > radius**2:
                    assert rgba.getpixel((x, y)) == background, (x, y)


def test_service_worker_is_served_from_the_root_and_keeps_only_the_shell(demo) -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    source = response.content.decode()
    shell = json.loads(source.split("const SHELL = ", 1)[1].split(";\n", 1)[0])
    assert "/offline/" in shell and "/static/web/trygg.css" in shell
    # Pages carry names and messages: only the offline page and static files are kept.
    assert all(url == "/offline/" or url.startswith("/static/") for url in shell)


def test_offline_page_is_open_and_names_nobody(api_client, person) -> None:
    """The offline page is the same for everyone on a device: no name, no navigation of a person."""
    client = Client()
    client.force_login(person("mor.emma"))
    response = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 200
    text = response.content.decode()
    assert person("mor.emma").name not in text
    assert Client().get("/offline/").status_code == 200
