"""The sockets-per-person cap holds across processes (issue 12 §3, R-PRIV-01).

It was counted in each process, so with ``--workers 4`` a person could hold 40 sockets. With
Redis it is counted there: two real ``trygg serve`` processes on one database and one Redis (a
``redis-server`` of this test's own, on its own port) hold at most 10 sockets of a person
together, the oldest closed with 4429 wherever it is. A process killed with -9 cannot uncount its
sockets; they stop counting once they miss three heartbeats (here 1 s each).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveDatabase, LiveServer
from tests.messaging.live import token
from tests.services import RedisServer

CAP = 10
HEARTBEAT = 1.0
TOO_MANY_SOCKETS = 4429


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[LiveServer, LiveServer]]:
    redis = RedisServer()
    environ = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TRYGG_CHANNEL_PREFIX")}
    environ["REDIS_URL"] = redis.url()
    database = LiveDatabase("socketcap", environ)
    env = {**database.env, "TRYGG_SOCKETS_HEARTBEAT_SECONDS": str(HEARTBEAT)}
    first = LiveServer(env)
    second = LiveServer(env)
    yield first, second
    first.stop()
    second.stop()
    database.drop()
    redis.stop()


async def signed_in(server: LiveServer, raw: str) -> ClientConnection:
    netloc = urlparse(server.url).netloc
    ws = await connect(f"ws://{netloc}/ws/events", origin=f"http://{netloc}")
    await ws.send(json.dumps({"type": "auth", "token": raw}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
    return ws


async def is_open(ws: ClientConnection) -> bool:
    """Whether the socket still answers a ping with a pong (a closed one raises or returns)."""
    try:
        await ws.send(json.dumps({"type": "ping"}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if frame.get("type") == "pong":
                return True
    except ConnectionClosed:
        return False


async def closed_with(ws: ClientConnection) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except ConnectionClosed:
        return ws.close_code


async def test_r_priv_01_two_processes_hold_at_most_10_sockets_of_a_person_the_oldest_closed(two_servers) -> None:
    first, second = two_servers
    raw = token(first.url, "mor.emma")
    on_first = [await signed_in(first, raw) for _ in range(6)]
    on_second = [await signed_in(second, raw) for _ in range(6)]
    # 12 signed in, 10 allowed: the two oldest, both on the first process, were closed by the second's sign-ins.
    assert [await closed_with(ws) for ws in on_first[:2]] == [TOO_MANY_SOCKETS, TOO_MANY_SOCKETS]
    assert all([await is_open(ws) for ws in on_first[2:] + on_second])
    # One more on the first process closes the oldest left, wherever it is.
    newest = await signed_in(first, raw)
    assert await closed_with(on_first[2]) == TOO_MANY_SOCKETS
    assert all([await is_open(ws) for ws in on_first[3:] + on_second + [newest]])
    # A socket that closes stops counting: one place frees one.
    await on_second[0].close()
    await asyncio.sleep(0.5)
    another = await signed_in(second, raw)
    assert all([await is_open(ws) for ws in on_first[3:] + on_second[1:] + [newest, another]])
    for ws in on_first[3:] + on_second[1:] + [newest, another]:
        await ws.close()


async def test_sockets_of_a_killed_process_stop_counting_after_three_heartbeats(two_servers) -> None:
    first, second = two_servers
    raw = token(first.url, "far.emma")
    on_first = [await signed_in(first, raw) for _ in range(4)]
    held_by_second = [await signed_in(second, raw) for _ in range(6)]
    second.kill()
    killed_at = time.monotonic()
    for ws in held_by_second:
        await closed_with(ws)
    try:
        # At first the killed process's six still count (for all Redis knows they are held): one
        # more makes 11, and the oldest, a live one on the first process, is closed.
        on_first.append(await signed_in(first, raw))
        assert await closed_with(on_first.pop(0)) == TOO_MANY_SOCKETS
        # Three heartbeats later they no longer count: six more fit beside the four left.
        await asyncio.sleep(max(0.0, 3 * HEARTBEAT + 1.5 - (time.monotonic() - killed_at)))
        on_first += [await signed_in(first, raw) for _ in range(6)]
        assert len(on_first) == CAP
        assert all([await is_open(ws) for ws in on_first])
        for ws in on_first:
            await ws.close()
    finally:
        second.start()
