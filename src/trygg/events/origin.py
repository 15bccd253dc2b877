"""Which pages may open Trygg's sockets: the Origin check in front of every WebSocket route.

A browser always sends ``Origin``, and a page of another site must not open a socket with the
person's cookie (cross-site WebSocket hijacking). An origin is allowed when its scheme, host and
port are exactly those of the server the socket was opened on (the ``Host`` it asked for, with
``https`` for ``wss``), of ``TRYGG_PUBLIC_URL`` or of ``TRYGG_CSRF_TRUSTED_ORIGINS``; the host must
also be one of ``ALLOWED_HOSTS``. Channels' ``AllowedHostsOriginValidator`` compared hosts only, so
``http://localhost:1`` and ``https://`` variants passed.

A client that sends no ``Origin`` is not a browser (a native app): it may connect, but its
cookies are ignored, so it signs in only with a first frame ``{"type": "auth", "token"}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def allowed_origins(scope: dict[str, Any]) -> set[tuple[str, str, int]]:
    """Return the origins (scheme, host, port) that may open a socket on this connection."""
    headers = dict(scope.get("headers") or [])
    found = set()
    host = headers.get(b"host", b"").decode("latin-1")
    if host:
        scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
        own = _origin(f"{scheme}://{host}")
        if own is not None:
            found.add(own)
    for url in [settings.TRYGG_PUBLIC_URL, *settings.CSRF_TRUSTED_ORIGINS]:
        listed = _origin(url)
        if listed is not None:
            found.add(listed)
    return found


def origin_allowed(origin: str, scope: dict[str, Any]) -> bool:
    """Return whether a browser page of ``origin`` may open a socket on this connection."""
    parsed = _origin(origin)
    if parsed is None or not validate_host(parsed[1], settings.ALLOWED_HOSTS):
        return False
    return parsed in allowed_origins(scope)


class OriginValidator:
    """ASGI middleware: refuse a socket from a foreign origin; drop the cookies of one without."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket":
            return await self.application(scope, receive, send)
        headers = scope.get("headers") or []
        origin = next((value for name, value in headers if name == b"origin"), None)
        if origin is None:
            scope = dict(scope, headers=[(n, v) for n, v in headers if n != b"cookie"])
            return await self.application(scope, receive, send)
        if not origin_allowed(origin.decode("latin-1"), scope):
            # Refused in the handshake (HTTP 403), as Channels' own validator does.
            await receive()
            await send({"type": "websocket.close"})
            return None
        return await self.application(scope, receive, send)
