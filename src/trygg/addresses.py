"""Trygg's own address for links that leave a page (notices, calendar feeds, meeting invitations).

``TRYGG_PUBLIC_URL`` when it is set; else, inside a request, the address the browser used; else
the address ``trygg serve`` or ``trygg demo`` listens on. Never a fixed port.
"""

from __future__ import annotations

from typing import Any


def public_url(request: Any = None) -> str:
    """Return the base address (scheme, host, port; no trailing slash) absolute links start with."""
    from django.conf import settings

    configured = str(getattr(settings, "TRYGG_PUBLIC_URL", "") or "").rstrip("/")
    if configured:
        return configured
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    listening = str(getattr(settings, "TRYGG_LISTEN_URL", "") or "").rstrip("/")
    return listening or "http://127.0.0.1:8000"
