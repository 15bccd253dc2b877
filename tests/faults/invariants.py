"""The fault suite's invariant checker: what a fault may never do to messages.

A *burst* is senders that each send numbered messages one after another as fast as the server
answers, the way a client with an outbox does: a send that got no answer (the connection cut, a
503) is sent again with the same ``client_txn_id`` until it is answered. An answered send is
*acknowledged*. A *resuming socket* is a receiver's ``/ws/events`` that, whenever it loses its
connection, connects again and resumes after the last event it got.

After the fault, ``check`` compares four accounts of the same messages and asserts that they agree:

* the acknowledged sends (each sender's, in its own order),
* the REST message list of each conversation (``GET /conversations/{id}/messages``),
* the event log (``GET /api/v1/events``, the long poll's reading of it),
* the frames the resuming socket received, across all its reconnections;

0 lost (every acknowledged send is in each of the other three), 0 doubled (no message and no
event twice, no message that no one acknowledged), order kept (each sender's messages in the
order it sent them, event ids increasing, each frame's ``prev`` the event before it).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

# Answers a client with an outbox retries: the server or one of its parts is away.
RETRIED_STATUSES = {502, 503, 504}


@dataclass
class Sender:
    """One sender's numbered messages into one conversation, retried until acknowledged."""

    url: str
    token: str
    conversation_id: int
    label: str
    count: int
    acked: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    # Retried sends the server already had (answered 200, the first answer was lost): the
    # server committed it but the client never heard, the case idempotency is for.
    already_had: int = 0
    statuses: dict[int | str, int] = field(default_factory=dict)
    error: BaseException | None = None
    pause: float = 0.0
    # The conversation's newest message before the burst (a conversation may be used again).
    after_message: int = 0

    def body(self, i: int) -> str:
        return f"{self.label} {i}"

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"},
                              timeout=10) as client:
                for i in range(self.count):
                    self._send(client, i)
                    if self.pause:
                        time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - reported by check()
            self.error = exc

    def _send(self, client: httpx.Client, i: int) -> None:
        payload = {"body": self.body(i), "client_txn_id": f"{self.label}-{i}"}
        tried = 0
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            tried += 1
            try:
                answer = client.post(f"/api/v1/conversations/{self.conversation_id}/messages", json=payload)
            except httpx.TransportError as exc:
                self.statuses[type(exc).__name__] = self.statuses.get(type(exc).__name__, 0) + 1
                time.sleep(0.05)
                continue
            self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
            if answer.status_code in (200, 201):
                if tried > 1:
                    self.retries += 1
                    self.already_had += answer.status_code == 200
                self.acked.append({"i": i, **answer.json()})
                return
            if answer.status_code in RETRIED_STATUSES:
                time.sleep(min(float(answer.headers.get("Retry-After", 1)), 0.2))
                continue
            raise AssertionError(f"send {i} of {self.label} answered {answer.status_code}: {answer.text[:300]}")
        raise AssertionError(f"send {i} of {self.label} was not acknowledged within 90 s")

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"sender-{self.label}", daemon=True)
        thread.start()
        return thread


class ResumingSocket:
    """A receiver's ``/ws/events`` that reconnects and resumes after its last event, for ever."""

    def __init__(self, url: str, token: str) -> None:
        self.netloc = urlparse(url).netloc
        self.token = token
        self.frames: list[dict[str, Any]] = []
        # (event id, prev) per event frame, across reconnections.
        self.chain: list[tuple[int, int | None]] = []
        self.last: int | None = None
        self.start_after: int | None = None
        self.connections = 0
        self.close_codes: list[int | None] = []
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            try:
                await self._connection()
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                self.close_codes.append(code)
            await asyncio.sleep(0.1)

    async def _connection(self) -> None:
        async with connect(f"ws://{self.netloc}/ws/events", origin=f"http://{self.netloc}", open_timeout=5,
                           max_queue=None) as ws:
            await ws.send(json.dumps({"type": "auth", "token": self.token}))
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if hello.get("type") != "hello":
                raise ConnectionClosed(None, None)
            if self.last is None:
                self.last = self.start_after = hello["latest"]
            self.connections += 1
            await ws.send(json.dumps({"type": "resume", "after": self.last}))
            self.ready.set()
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    if "id" not in frame or frame.get("type") in ("hello", "pong", "error"):
                        continue
                    self.chain.append((frame["id"], frame.get("prev")))
                    self.last = max(self.last, frame["id"])
                    if frame.get("type") == "message.new":
                        self.frames.append(frame)
            finally:
                self.close_codes.append(ws.close_code)

    def message_ids(self, conversation_id: int) -> list[int]:
        return [f["message"]["id"] for f in self.frames if f.get("conversation_id") == conversation_id]

    async def wait_for(self, wanted: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not wanted():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True


def rest_messages(url: str, token: str, conversation_id: int, after: int = 0) -> list[dict[str, Any]]:
    """Every message of the conversation the receiver sees after ``after``, oldest first, page by page."""
    got: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while True:
            page = client.get(f"/api/v1/conversations/{conversation_id}/messages",
                              params={"after": after, "limit": 200})
            assert page.status_code == 200, page.text[:300]
            rows = page.json()
            if not rows:
                return got
            got.extend(rows)
            after = rows[-1]["id"]


def logged_events(url: str, token: str, after: int) -> list[dict[str, Any]]:
    """Every event of the receiver after ``after``, read from the log without waiting."""
    got: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while True:
            page = client.get("/api/v1/events", params={"after": after, "timeout": 0})
            assert page.status_code == 200, page.text[:300]
            events = page.json()["events"]
            if not events:
                return got
            got.extend(events)
            after = page.json()["last"]


def check(url: str, receiver_token: str, senders: list[Sender], socket: ResumingSocket) -> dict[str, Any]:
    """Assert the invariants (module docstring) and return what was counted."""
    for sender in senders:
        assert sender.error is None, f"{sender.label}: {sender.error!r}"
        assert [a["i"] for a in sender.acked] == list(range(sender.count)), f"{sender.label} did not finish"
    assert socket.start_after is not None
    log = logged_events(url, receiver_token, socket.start_after)
    log_ids = [e["id"] for e in log]
    assert log_ids == sorted(set(log_ids)), "the event log repeats or reorders events"
    socket_ids = [event_id for event_id, _prev in socket.chain]
    assert len(socket_ids) == len(set(socket_ids)), "the socket received an event twice"
    assert socket_ids == sorted(socket_ids), "the socket received events out of order"
    previous = socket.start_after
    for event_id, prev in socket.chain:
        assert prev is None or prev == previous, f"event {event_id} says prev {prev}, the socket had {previous}"
        previous = event_id
    # Everything the log holds for the receiver reached the socket, in the same order.
    assert socket_ids == log_ids, "the socket and the event log disagree"
    for conversation_id in sorted({s.conversation_id for s in senders}):
        mine = [s for s in senders if s.conversation_id == conversation_id]
        acked = sorted(a["id"] for s in mine for a in s.acked)
        assert len(acked) == len(set(acked)), "two acknowledged sends are one message"
        rest = rest_messages(url, receiver_token, conversation_id, min(s.after_message for s in mine))
        rest_ids = [m["id"] for m in rest]
        lost, extra = sorted(set(acked) - set(rest_ids)), sorted(set(rest_ids) - set(acked))
        assert rest_ids == acked, f"REST list vs acknowledged: lost {lost}, extra {extra}, " \
                                  f"doubled {len(rest_ids) - len(set(rest_ids))}"
        for sender in mine:
            bodies = [m["body"] for m in rest if m["id"] in {a["id"] for a in sender.acked}]
            assert bodies == [sender.body(i) for i in range(sender.count)], f"{sender.label}: order not kept"
        logged = [e["message"]["id"] for e in log
                  if e["type"] == "message.new" and e.get("conversation_id") == conversation_id]
        assert logged == acked, "the event log vs acknowledged sends"
        assert socket.message_ids(conversation_id) == acked, "the socket vs acknowledged sends"
    statuses: dict[str, int] = {}
    for sender in senders:
        for status, times in sender.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + times
    return {
        "sent": sum(s.count for s in senders),
        "retried": sum(s.retries for s in senders),
        "committed_but_unanswered": sum(s.already_had for s in senders),
        "socket_connections": socket.connections,
        "close_codes": sorted({c for c in socket.close_codes if c is not None}),
        "statuses": statuses,
    }
