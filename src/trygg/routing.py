"""WebSocket routes of every app, collected in one place for the ASGI router."""

from __future__ import annotations

import importlib

from django.urls import URLPattern

APPS_WITH_SOCKETS = ("events", "meetings")


def _collect() -> list[URLPattern]:
    patterns: list[URLPattern] = []
    for app in APPS_WITH_SOCKETS:
        try:
            module = importlib.import_module(f"trygg.{app}.routing")
        except ModuleNotFoundError as exc:
            if exc.name != f"trygg.{app}.routing":
                raise
            continue
        patterns.extend(module.websocket_urlpatterns)
    return patterns


websocket_urlpatterns = _collect()
