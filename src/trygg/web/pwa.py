"""The installable app: the web manifest, the service worker script and the offline page.

The service worker caches only the shell (the offline page, the stylesheet, the shared script and
the icons). Signed-in pages are never cached (they carry names and messages, and a phone may be
shared); started without a connection, the app shows the offline page, which says so honestly.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

THEME_COLOUR = "#0b5cad"
BACKGROUND_COLOUR = "#f6f7f9"
OFFLINE_URL = "/offline/"
# Static files the shell needs to draw the offline page and the installed app's icon.
SHELL_STATIC = (
    "web/trygg.css",
    "web/trygg.js",
    "web/icons/icon-192.png",
    "web/icons/icon-512.png",
    "web/icons/maskable-192.png",
    "web/icons/maskable-512.png",
    "web/icons/badge-96.png",
)


def _icons() -> list[dict[str, str]]:
    icons = []
    for size in (192, 512):
        icons.append({"src": static(f"web/icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png",
                      "purpose": "any"})
        icons.append({"src": static(f"web/icons/maskable-{size}.png"), "sizes": f"{size}x{size}",
                      "type": "image/png", "purpose": "maskable"})
    return icons


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """Return the web manifest, in the reader's language."""
    data = {
        "id": "/",
        "name": "Trygg",
        "short_name": "Trygg",
        "description": _("Messages, meetings and reports between school and home."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": _icons(),
    }
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


@cache
def _worker_source() -> tuple[str, str]:
    """Return the service worker's script and a version that changes whenever a shell file does."""
    path = finders.find("web/sw.js")
    source = open(path, encoding="utf-8").read()  # noqa: SIM115,PTH123 - read once per process
    digest = hashlib.sha256(source.encode())
    for name in SHELL_STATIC:
        with open(finders.find(name), "rb") as fh:  # noqa: PTH123
            digest.update(fh.read())
    return source, digest.hexdigest()[:16]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Return the service worker, served from the root so its scope is the whole app."""
    source, version = _worker_source()
    shell = [OFFLINE_URL] + [static(name) for name in SHELL_STATIC]
    head = f"const VERSION = {json.dumps(version)};\nconst SHELL = {json.dumps(shell)};\n" \
           f"const OFFLINE_URL = {json.dumps(OFFLINE_URL)};\n"
    response = HttpResponse(head + source, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on every start; a cached script would delay updates.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Return the page the service worker shows when there is no connection: no names, no data."""
    response = render(request, "web/offline.html", {"theme_colour": THEME_COLOUR})
    # The service worker caches this page; it must be the same for everyone on the device.
    response["Cache-Control"] = "no-cache"
    response["Vary"] = "Accept-Language, Cookie"
    return response
