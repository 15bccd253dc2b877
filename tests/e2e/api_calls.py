"""JSON calls to the live server from browser tests, for the setup a page does not need to show."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def call(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(base + path, method=method,  # noqa: S310 - the local live server
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        raw = response.read()
        return json.loads(raw) if raw else None


def token_of(base: str, username: str) -> str:
    return call(base, "POST", "/api/v1/auth/token", body={"username": username, "password": "demo"})["token"]
