"""Absolute links out of Trygg (e-mails, text messages, calendar feeds): which address they start with.

In order: ``TRYGG_PUBLIC_URL`` when the operator set it (behind a proxy only the operator knows the
address people use); else the host of the request being answered; else, outside a request (the
notice worker), the address ``trygg demo`` or ``trygg serve`` listens on. No port is assumed
anywhere: a server on port 8100 sends links to port 8100.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

LISTEN_URL_VARIABLE = "TRYGG_LISTEN_URL"
_warned = False


def listen_url(host: str, port: int) -> str:
    """Return the base URL people on this machine reach a server listening on ``host:port`` at."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a comparison: every interface is reached at localhost
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def set_listen_url(host: str, port: int) -> str:
    """Record the address the server listens on, for links made outside a request.

    Put into the environment too, so uvicorn's worker processes (which re-read the settings) see it.
    """
    url = listen_url(host, port)
    settings.TRYGG_LISTEN_URL = url
    os.environ[LISTEN_URL_VARIABLE] = url
    return url


def public_url(request: Any = None) -> str:
    """Return the scheme, host and port absolute links start with, without a trailing slash."""
    configured = str(getattr(settings, "TRYGG_PUBLIC_URL", "") or "").rstrip("/")
    if configured:
        return configured
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    listening = str(getattr(settings, "TRYGG_LISTEN_URL", "") or "").rstrip("/")
    if listening:
        return listening
    global _warned
    if not _warned:
        _warned = True
        log.warning("TRYGG_PUBLIC_URL is not set and no server address is known; links name http://localhost")
    return "http://localhost"


def absolute(path: str, request: Any = None) -> str:
    """Return ``path`` (starting with /) as an absolute link."""
    return public_url(request) + path
