"""Real-time delivery over /ws/events against a real uvicorn server (design rule 3)."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest

from tests.messaging.live import api, collect, events_socket, open_chat, send, token


@pytest.fixture(scope="module")
def live(trygg_server) -> str:
    return trygg_server.url


async def test_r_rt_resume_after_killed_socket_gets_all_200_in_order_exactly_once(live) -> None:
    """A receiver's socket is killed mid-stream while 200 messages are sent; it reconnects with
    resume and has every message once, in order, with ids increasing; then live pushes continue."""
    sender = api(live, token(live, "ola.9b"))
    receiver_token = token(live, "mor.sara")
    conversation_id = open_chat(sender, "mor.sara")
    ws, hello = await events_socket(live, receiver_token, None)

    def send_all() -> None:
        for i in range(200):
            send(sender, conversation_id, f"melding {i}")

    thread = threading.Thread(target=send_all)
    thread.start()
    first = await collect(ws, conversation_id, 40)
    assert len(first) == 40
    ws.transport.abort()  # a dead network, not a polite close
    await asyncio.sleep(0.3)
    last_seen = first[-1]["id"]
    ws2, _hello = await events_socket(live, receiver_token, last_seen)
    rest = await collect(ws2, conversation_id, 160, timeout=60)
    await asyncio.to_thread(thread.join)
    got = first + rest
    assert [f["message"]["body"] for f in got] == [f"melding {i}" for i in range(200)]
    ids = [f["id"] for f in got]
    assert ids == sorted(ids) and len(set(ids)) == 200
    # Live pushes follow the replay without a gap or a repeat.
    send(sender, conversation_id, "etterpå")
    after = await collect(ws2, conversation_id, 2, timeout=2)
    assert [f["message"]["body"] for f in after] == ["etterpå"]
    await ws2.close()


async def test_same_client_txn_id_twice_gives_one_message_and_one_event(live) -> None:
    sender = api(live, token(live, "nils.9b"))
    receiver_token = token(live, "far.jonas")
    conversation_id = open_chat(sender, "far.jonas")
    ws, _hello = await events_socket(live, receiver_token, None)
    first = send(sender, conversation_id, "Hei", txn="same-txn-live")
    again = send(sender, conversation_id, "Hei", txn="same-txn-live")
    assert first["id"] == again["id"] and first["event_id"] == again["event_id"]
    frames = await collect(ws, conversation_id, 2, timeout=2)
    assert [f["message"]["id"] for f in frames] == [first["id"]]
    await ws.close()


async def test_socket_without_auth_is_closed_and_bad_token_refused(live) -> None:
    from urllib.parse import urlparse

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    netloc = urlparse(live).netloc
    async with connect(f"ws://{netloc}/ws/events", origin=f"http://{netloc}") as ws:
        await ws.send(json.dumps({"type": "auth", "token": "not-a-token"}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame == {"type": "error", "error": "not_signed_in"}
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    async with connect(f"ws://{netloc}/ws/events", origin=f"http://{netloc}") as ws:
        await ws.send(json.dumps({"type": "resume", "after": 0}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_events_are_only_for_their_recipients(live) -> None:
    """A message in a conversation reaches its members' sockets, not an outsider's."""
    sender = api(live, token(live, "kari.4a"))
    conversation_id = open_chat(sender, "far.emma")
    member, _ = await events_socket(live, token(live, "far.emma"), None)
    outsider, _ = await events_socket(live, token(live, "verge.noah"), None)
    send(sender, conversation_id, "Til far")
    assert len(await collect(member, conversation_id, 1, timeout=5)) == 1
    assert await collect(outsider, conversation_id, 1, timeout=1) == []
    await member.close()
    await outsider.close()


def test_long_poll_returns_missed_events_and_waits_for_new(live) -> None:
    """GET /api/v1/events?after=&timeout= serves clients without sockets."""
    sender = api(live, token(live, "ola.9b"))
    reader = api(live, token(live, "mor.ali"))
    conversation_id = open_chat(sender, "mor.ali")
    start = reader.get("/api/v1/events", params={"after": 0, "timeout": 0}).json()["last"]
    send(sender, conversation_id, "første")
    got = reader.get("/api/v1/events", params={"after": start, "timeout": 5}).json()
    bodies = [e["message"]["body"] for e in got["events"] if e["type"] == "message.new"]
    assert bodies == ["første"]
    last = got["last"]

    def later() -> None:
        import time

        time.sleep(0.5)
        send(sender, conversation_id, "andre")

    threading.Thread(target=later).start()
    waited = reader.get("/api/v1/events", params={"after": last, "timeout": 10}).json()
    assert [e["message"]["body"] for e in waited["events"] if e["type"] == "message.new"] == ["andre"]
    assert all(e["id"] > last for e in waited["events"])
    assert httpx.get(live + "/api/v1/events").status_code == 401
    assert reader.get("/api/v1/events", params={"after": -1}).status_code == 400


def test_a_waiting_long_poll_holds_up_no_other_request(live) -> None:
    """While one client's long poll waits, other requests to the same process are answered.

    The server runs sync views in one shared thread (trygg/asgi.py); the long poll must wait on the
    event loop, not in that thread, or every other request would queue behind it.
    """
    reader = api(live, token(live, "mor.ali"))
    other = api(live, token(live, "kari.4a"))
    last = reader.get("/api/v1/events", params={"after": 0, "timeout": 0}).json()["last"]
    done = threading.Event()

    def poll() -> None:
        reader.get("/api/v1/events", params={"after": last, "timeout": 8})
        done.set()

    waiter = threading.Thread(target=poll)
    waiter.start()
    try:
        for _ in range(5):
            assert other.get("/api/v1/me").json()["username"] == "kari.4a"
        assert not done.is_set(), "the long poll returned before the other requests were answered"
    finally:
        waiter.join()


async def _stream(ws, until: set[int], timeout: float = 60) -> list[dict]:
    """Every event frame the socket sends until the message ids ``until`` have all arrived."""
    frames: list[dict] = []
    seen: set[int] = set()
    deadline = asyncio.get_running_loop().time() + timeout
    while not until <= seen:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        except TimeoutError:
            break
        if "id" in frame and frame.get("type") not in ("hello", "pong"):
            frames.append(frame)
            if frame.get("type") == "message.new":
                seen.add(frame["message"]["id"])
    return frames


async def test_concurrent_sends_from_many_clients_reach_every_socket_complete_in_order_once(live) -> None:
    """Issue 15: on PostgreSQL sends run on several database threads at once, and pushes may reach
    the event loop in another order than their commits. Four members send 20 messages each at the
    same time into one group; every member's socket still gets every message exactly once, with
    event ids increasing and each frame's ``prev`` the id of the frame before it (nothing skipped)."""
    senders = ["ola.9b", "nils.9b", "rektor", "mor.sara"]
    listeners = [*senders, "far.jonas"]
    tokens = {name: token(live, name) for name in listeners}
    clients = {name: api(live, tokens[name]) for name in senders}
    conversation_id = open_chat(clients["ola.9b"], *[n for n in listeners if n != "ola.9b"])
    sockets = [await events_socket(live, tokens[name], None) for name in listeners]
    sent: list[int] = []

    def send_all(name: str) -> None:
        for i in range(20):
            sent.append(send(clients[name], conversation_id, f"{name} {i}")["id"])

    threads = [threading.Thread(target=send_all, args=(name,)) for name in senders]
    for thread in threads:
        thread.start()
    await asyncio.to_thread(lambda: [thread.join() for thread in threads])
    assert len(sent) == 80
    for (ws, hello), name in zip(sockets, listeners, strict=True):
        frames = await _stream(ws, set(sent))
        ids = [frame["id"] for frame in frames]
        assert ids == sorted(set(ids)), f"{name}: event ids out of order or doubled"
        previous = hello["latest"]
        for frame in frames:
            assert frame["prev"] == previous, f"{name}: a gap before event {frame['id']}"
            previous = frame["id"]
        messages = [frame["message"]["id"] for frame in frames if frame["type"] == "message.new"]
        assert sorted(messages) == sorted(sent), f"{name}: messages missing or doubled"
        await ws.close()
