"""The long poll, ``GET /api/v1/events``: the event log for clients without a socket."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from trygg.api_schemas import Out
from trygg.events import hub
from trygg.events.log import events_after

router = Router(tags=["events"])

LONG_POLL_MAX_SECONDS = 30.0


class EventsQuery(Schema):
    after: int = Field(default=0, ge=0)
    timeout: float = Field(default=25.0, ge=0, le=LONG_POLL_MAX_SECONDS)


class EventOut(Out):
    """An event frame: ``id`` and ``type``, ``prev`` (the id before it for this person), and the
    event's own fields (design.md: every event is ``{"id", "type", ...}``)."""

    id: int
    type: str
    prev: int | None = None


class EventsOut(Out):
    events: list[EventOut]
    last: int


@router.get("/events", response=EventsOut)
async def long_poll(request: HttpRequest, q: Query[EventsQuery]) -> dict[str, Any]:
    """Long-poll for clients without sockets: events after ``after``, waiting up to ``timeout`` s.

    Async, so a waiting client holds no thread. A push through the hub wakes it at once; without
    one (another process on SQLite) it re-reads the log every second.
    """
    person_id = request.auth.pk
    deadline = time.monotonic() + q.timeout
    pushed = asyncio.Event()
    listening = hub.listen(person_id, lambda _id, _prev, _text: pushed.set())
    await hub.joined()
    try:
        while True:
            pushed.clear()
            frames = await database_sync_to_async(events_after)(person_id, q.after)
            remaining = deadline - time.monotonic()
            if frames or remaining <= 0:
                return {"events": frames, "last": frames[-1]["id"] if frames else q.after}
            try:
                await asyncio.wait_for(pushed.wait(), min(remaining, 1.0))
            except TimeoutError:
                pass
    finally:
        hub.unlisten(person_id, listening)
