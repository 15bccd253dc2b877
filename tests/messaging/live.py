"""Helpers for tests against a real ``trygg serve``: tokens, sends, and event sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any
from urllib.parse import urlparse

import httpx
from websockets.asyncio.client import ClientConnection, connect

_txn = itertools.count(1)


def token(base_url: str, username: str) -> str:
    response = httpx.post(base_url + "/api/v1/auth/token", json={"username": username, "password": "demo"})
    response.raise_for_status()
    return response.json()["token"]


def api(base_url: str, tok: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {tok}"}, timeout=30)


def open_chat(client: httpx.Client, *usernames: str, kind: str | None = None, school_owned: bool = False) -> int:
    response = client.post("/api/v1/conversations", json={
        "kind": kind or ("direct" if len(usernames) == 1 else "group"),
        "member_usernames": list(usernames), "school_owned": school_owned})
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def send(client: httpx.Client, conversation_id: int, body: str, txn: str | None = None) -> dict[str, Any]:
    txn = txn or f"live-{time.time_ns()}-{next(_txn)}"
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                           json={"body": body, "client_txn_id": txn})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def events_socket(base_url: str, tok: str, after: int | None) -> tuple[ClientConnection, dict[str, Any]]:
    """Open /ws/events, authenticate with the token frame and resume after ``after``."""
    parsed = urlparse(base_url)
    ws = await connect(f"ws://{parsed.netloc}/ws/events", origin=f"http://{parsed.netloc}", max_queue=None)
    await ws.send(json.dumps({"type": "auth", "token": tok}))
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello", hello
    await ws.send(json.dumps({"type": "resume", "after": after}))
    return ws, hello


async def collect(
    ws: ClientConnection, conversation_id: int, count: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Read frames until ``count`` new messages of the conversation have arrived."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        except TimeoutError:
            break
        if frame.get("type") == "message.new" and frame.get("conversation_id") == conversation_id:
            got.append(frame)
    return got
