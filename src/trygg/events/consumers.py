"""The event socket, ``/ws/events``: every event of the signed-in person, in order, exactly once.

Protocol (JSON frames):

* Authentication: the session cookie, or a first frame ``{"type": "auth", "token": <bearer>}``
  (``trygg.events.sockets``). The server answers ``{"type": "hello", "person_id", "latest"}``; ``latest`` is the newest
  event id in the person's stream at that moment.
* ``{"type": "resume", "after": <event id>}`` starts (or restarts) the stream: every event after
  that id is sent from the log in order, then live events follow. ``after: null`` means "from
  ``latest``". Nothing is sent before the first resume.
* Every event frame is ``{"id", "type", "prev", ...}``; ``prev`` is the previous event in the
  person's stream, so a client can check it missed nothing.
* ``{"type": "ping"}`` → ``{"type": "pong", "last": <last event id sent>}``.

Exactly once, in order: the socket keeps ``cursor``, the id of the last event it sent, and sends
an event only if its id is above the cursor. Pushes come from this process's hub
(``trygg.events.hub``) into the socket's inbox, and one task sends them in order under the
lock a resume holds while it replays the log, so a push that arrives meanwhile waits until the
replay is done, and is then dropped if the replay already sent it. A push whose ``prev`` is above
the cursor means an event was lost on the way (a full channel, another process without Redis):
the socket reads the log from
the cursor before sending it. A lost last push, with nothing after it, is caught by the hub's sweep:
one read of the stream heads per process every ``TRYGG_EVENTS_POLL_SECONDS``, which hints only the
sockets whose stream grew past their cursor (``trygg.events.hub``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from typing import Any

from channels.db import database_sync_to_async

from trygg.events import hub
from trygg.events.log import events_after, latest_event_id
from trygg.events.sockets import SignedInSocket

log = logging.getLogger(__name__)

REPLAY_BATCH = 500
# Pushes waiting for a socket that does not keep up; past this they are dropped, and the socket
# finds the gap from the next push's ``prev`` (or its timer) and reads the log instead.
INBOX_LIMIT = 1000


class EventsConsumer(SignedInSocket):
    # No channel of its own on the channel layer: pushes and closes reach the socket through the
    # hub, one membership per process. With Redis, a channel per socket was a pending receive per
    # socket for nothing, and each socket that closed waited up to a second for its cancelled
    # receive (200 sockets closing took three minutes in tests/events/test_socket_bounds.py).
    # Channels gives a consumer no layer when its alias names none.
    channel_layer_alias = "trygg.events.no-layer"
    cursor: int | None = None

    async def opened(self) -> None:
        self.cursor = None
        self.lock = asyncio.Lock()
        self.listening: int | None = None
        self.inbox: deque[tuple[int, int | None, str]] = deque()
        self.drainer: asyncio.Task[None] | None = None
        # Pushes arrive from the pusher's or the hub's task; the drainer runs in the socket's own
        # context, as its handlers do (asgiref refuses a database call from a request's context).
        self.context = contextvars.copy_context()

    async def signed_in(self, person: Any) -> None:
        self.listening = hub.listen(person.pk, self._on_push)
        await hub.joined()
        latest = await database_sync_to_async(latest_event_id)(person.pk)
        self.latest_at_hello = latest
        await self.send_json({"type": "hello", "person_id": person.pk, "latest": latest})

    def release(self) -> None:
        super().release()
        if self.listening is not None:
            hub.unlisten(self.person.pk, self.listening)
            self.listening = None

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.drainer is not None:
            self.drainer.cancel()

    async def receive_frame(self, kind: Any, content: dict[str, Any]) -> None:
        if kind == "resume":
            after = content.get("after")
            if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 0):
                await self.error("bad_after")
                return
            async with self.lock:
                self.cursor = self.latest_at_hello if after is None else after
                await self._catch_up()
        elif kind == "ping":
            await self.send_json({"type": "pong", "last": self.cursor})
        elif kind == "auth":
            await self.error("already_signed_in")
        else:
            await self.error("unknown_frame")

    async def _catch_up(self) -> None:
        """Send everything in the log after the cursor (call with the lock held)."""
        assert self.cursor is not None
        while True:
            frames = await database_sync_to_async(events_after)(self.person.pk, self.cursor, REPLAY_BATCH)
            for frame in frames:
                if frame["id"] > self.cursor:
                    await self.send_json(frame)
                    self.cursor = frame["id"]
            if len(frames) < REPLAY_BATCH:
                return

    def _on_push(self, event_id: int, prev: int | None, text: str) -> None:
        """A live event from the hub (a hint: the log decides), already encoded; sent in order."""
        if text == hub.SWEEP_TEXT and (self.cursor is None or event_id <= self.cursor):
            return  # the sweep's hint for a socket that is up to date: the common case, no task
        if len(self.inbox) >= INBOX_LIMIT:
            return
        self.inbox.append((event_id, prev, text))
        if self.drainer is None or self.drainer.done():
            self.drainer = asyncio.get_running_loop().create_task(self._drain(), context=self.context.copy())

    async def _drain(self) -> None:
        while self.inbox:
            event_id, prev, text = self.inbox.popleft()
            try:
                await self._push(event_id, prev, text)
            except Exception as exc:  # noqa: BLE001 - the socket resumes from the log
                log.warning("push to a socket failed (%s); it resumes from the log", type(exc).__name__)
                self.inbox.clear()
                return

    async def _push(self, event_id: int, prev: int | None, text: str) -> None:
        if self.cursor is None:
            return
        async with self.lock:
            if event_id <= self.cursor:
                return
            if prev is not None and prev <= self.cursor:
                await self.send(text_data=text)
                self.cursor = event_id
            else:
                log.debug("gap before event %s (prev %s, cursor %s): reading the log", event_id, prev, self.cursor)
                await self._catch_up()
