"""STUN/TURN servers for the browsers' WebRTC connections, read from the environment at call time.

``TRYGG_ICE_SERVERS`` is a JSON list of RTCIceServer dictionaries, for example
``[{"urls": ["stun:turn.example.kommune.no:3478"]},
  {"urls": ["turn:turn.example.kommune.no:3478?transport=udp"], "username": "trygg", "credential": "…"}]``.
The default is an empty list: two browsers on one machine or one network need no server. See
docs/meetings.md for a coturn setup. A malformed value is logged (without its content, which may
hold a TURN password) and treated as empty rather than breaking every join.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)


def ice_servers() -> list[dict[str, Any]]:
    """Return the configured ICE servers; only well-formed entries with ``urls`` are passed on."""
    raw = str(settings.TRYGG_ICE_SERVERS or "").strip() or "[]"
    try:
        value = json.loads(raw)
    except ValueError:
        log.warning("TRYGG_ICE_SERVERS is not valid JSON; using no ICE servers")
        return []
    if not isinstance(value, list):
        log.warning("TRYGG_ICE_SERVERS is not a JSON list; using no ICE servers")
        return []
    servers = []
    for entry in value:
        if not isinstance(entry, dict) or not entry.get("urls"):
            continue
        urls = entry["urls"]
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            continue
        server: dict[str, Any] = {"urls": urls}
        for key in ("username", "credential"):
            if isinstance(entry.get(key), str):
                server[key] = entry[key]
        servers.append(server)
    return servers
