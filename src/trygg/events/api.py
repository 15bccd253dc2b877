"""The long poll, ``GET /api/v1/events``: the event log for clients without a socket."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from trygg.api_schemas import Out
from trygg.database import request_begins, request_ends
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
async def long_poll(request: HttpRequest, q: Query[EventsQuery]) -> HttpResponse:
    """Long-poll for clients without sockets: events after ``after``, waiting up to ``timeout`` s.

    Under the ASGI server a request with a bearer token is answered by ``trygg.asgi``'s long-poll
    door with the same ``answer``, without this chain; this view serves the rest (the session
    cookie, a bad token, bad parameters) and every other server.
    """
    text = await answer(request.auth.pk, q.after, q.timeout)
    return HttpResponse(text, content_type="application/json")


# Events in one answer at most; the client asks again from the last.
LIMIT = 500
_pool: ThreadPoolExecutor | None = None
T = TypeVar("T")


async def on_poll_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a long poll's database read on the process's long-poll thread, not the shared one.

    A class message wakes 30 long polls at once, and each comes straight back with its next poll:
    on the shared thread (``trygg.asgi``) those reads queued with the message sends, and the next
    message waited behind them (``bench/bench_phases.py``, phase b). One thread of its own, with its
    own connection, keeps them apart; SQLite's WAL lets it read beside the writer.
    """
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trygg-long-poll")

    def run() -> T:
        # Django drops a broken or expired connection when a request starts and ends, but its
        # request signals run in another thread; this thread's connection is checked here.
        request_begins()
        try:
            return function(*args, **kwargs)
        finally:
            request_ends()

    return await sync_to_async(run, thread_sensitive=False, executor=_pool)()


def kept_answer(person_id: int, after: int) -> str | None:
    """Return the answer made of the pushes that link on from ``after`` (``hub.kept_after``), or
    None when this process kept none."""
    kept = hub.kept_after(person_id, after, LIMIT)
    if not kept:
        return None
    return f'{{"events": [{", ".join(text for _id, text in kept)}], "last": {kept[-1][0]}}}'


async def answer(person_id: int, after: int, timeout: float) -> str:
    """Return the long poll's answer, ``{"events": [...], "last": id}`` as JSON text.

    Async, so a waiting client holds no thread. A push through the hub wakes it at once; without
    one (another process on SQLite) it re-reads the log every second. A poll whose ``after`` is the
    newest event this process was handed for the person does not read the log first (issue 15:
    on PostgreSQL that read was a round trip for each of the 30 polls a class message answers).

    Pushes that follow on from ``after`` without a gap (``hub.kept_after``: each one's ``prev`` is
    the one before) are the answer as they came, already encoded once for every recipient: no read
    of the log and no validation of frames the server itself made. A class message wakes 30 long
    polls at once, and reading the log again and re-encoding the frames was most of each answer's
    CPU (issue 15, ``bench/bench_phases.py``). Anything else (a gap, a sweep's hint) reads the log.
    """
    deadline = time.monotonic() + timeout
    pushed = asyncio.Event()

    def on_push(event_id: int, prev: int | None, text: str) -> None:
        pushed.set()

    listening = hub.listen(person_id, on_push)
    await hub.joined()
    # A poll that comes straight back after its answer usually finds nothing new, and this process
    # saw every push since (it was handed the one that answered it): then the first read of the
    # log is skipped, as a socket skips it between pushes; a push this process missed is found by
    # the re-read below within a second. When it was handed a newer event than ``after``, the log
    # holds events after it, and only they are read (no stream head first).
    head = hub.pushed_head(person_id)
    read = timeout <= 0 or head != after
    newer = head is not None and head > after
    try:
        while True:
            pushed.clear()
            kept = kept_answer(person_id, after)
            if kept is not None:
                return kept
            frames = await on_poll_thread(events_after, person_id, after, LIMIT, newer_known=newer) if read else []
            read, newer = True, False
            remaining = deadline - time.monotonic()
            if frames or remaining <= 0:
                # The log's own frames, made and validated by the server when they were written.
                return json.dumps({"events": frames, "last": frames[-1]["id"] if frames else after},
                                  cls=DjangoJSONEncoder)
            try:
                await asyncio.wait_for(pushed.wait(), min(remaining, 1.0))
            except TimeoutError:
                pass
    finally:
        hub.unlisten(person_id, listening)
