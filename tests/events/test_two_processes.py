"""A message sent through one server process reaches a socket held by another.

With ``REDIS_URL`` the channel layer spans processes, so the push itself must arrive (the sockets'
log poll is set to a minute, so only the push can be fast). Without Redis (in-memory layer) a push
cannot cross processes, and the documented fallback is the log: the next event the socket's own
process pushes carries ``prev``, which reveals the gap, and the socket reads the missed event from
the log before it (in order); the timer poll and a resume catch up too. The test asserts whichever
the environment promises and never skips.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import LiveDatabase, LiveServer
from tests.messaging.live import api, collect, events_socket, open_chat, send, token

REDIS = bool(os.environ.get("REDIS_URL"))


@pytest.fixture(scope="module")
def two_servers():
    database = LiveDatabase("twoproc")
    env = dict(database.env)
    env["TRYGG_EVENTS_POLL_SECONDS"] = "60"
    env["TRYGG_RATE_LIMITS"] = "off"  # a burst of sends is the load under test, not abuse
    first = LiveServer(env, workers=1)
    second = LiveServer(env, workers=1)
    yield first.url, second.url
    first.stop()
    second.stop()
    database.drop()


async def test_message_through_one_process_reaches_socket_on_another(two_servers) -> None:
    url_a, url_b = two_servers
    kari_on_a = api(url_a, token(url_a, "kari.4a"))
    kari_on_b = api(url_b, token(url_b, "kari.4a"))
    receiver_token = token(url_b, "mor.emma")
    conversation_id = open_chat(kari_on_a, "mor.emma")
    ws, hello = await events_socket(url_b, receiver_token, None)
    started = time.monotonic()
    through_a = send(kari_on_a, conversation_id, "Hei fra prosess A")
    if REDIS:
        frames = await collect(ws, conversation_id, 1, timeout=10)
        assert [f["message"]["id"] for f in frames] == [through_a["id"]]
        assert time.monotonic() - started < 3  # far below the one-minute poll: the push crossed
        through_b = send(kari_on_b, conversation_id, "Hei fra prosess B")
        frames = await collect(ws, conversation_id, 1, timeout=10)
        assert [f["message"]["id"] for f in frames] == [through_b["id"]]
    else:
        # No cross-process push on the in-memory layer ...
        assert await collect(ws, conversation_id, 1, timeout=1.5) == []
        # ... but the next push from B's own process shows the gap, and the log fills it in order.
        through_b = send(kari_on_b, conversation_id, "Hei fra prosess B")
        frames = await collect(ws, conversation_id, 2, timeout=5)
        assert [f["message"]["id"] for f in frames] == [through_a["id"], through_b["id"]]
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids)
    await ws.close()
    # Either way the log is the truth: a resume on process B from before both delivers each once.
    ws2, _ = await events_socket(url_b, receiver_token, hello["latest"])
    again = await collect(ws2, conversation_id, 3, timeout=3)
    assert [f["message"]["id"] for f in again] == [through_a["id"], through_b["id"]]
    await ws2.close()
