"""The hub's sweep: a push lost with nothing after it is caught by one read of the stream heads
per process, not by a timer per socket (issue 15: 10,000 idle sockets must not poll the log).

Runs on whichever channel layer the environment configures (in process, or Redis)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction

from trygg.directory.models import ApiToken, Person
from trygg.events import consumers
from trygg.events import log as event_log
from trygg.events.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

APP = URLRouter(websocket_urlpatterns)
PEOPLE = ["kari.4a", "mor.emma", "ola.9b"]


@database_sync_to_async
def token_for(username: str) -> tuple[int, str]:
    person = Person.objects.get(username=username)
    return person.pk, ApiToken.issue(person)[1]


@database_sync_to_async
def emit_with_lost_push(person_id: int) -> int:
    """An event whose push never arrives (as when a channel is full or Redis restarts)."""
    original = event_log.push_event
    event_log.push_event = lambda *args, **kwargs: None
    try:
        with transaction.atomic():
            event = event_log.emit_event("test.sweep", [person_id], {"n": 1})
    finally:
        event_log.push_event = original
    return event.pk


async def resumed(raw: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(APP, "/ws/events")
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": raw})
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    await ws.send_json_to({"type": "resume", "after": None})
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    return ws


async def test_a_lost_last_push_is_caught_by_one_sweep_and_idle_sockets_read_nothing(
    demo, settings, monkeypatch
) -> None:
    settings.TRYGG_EVENTS_POLL_SECONDS = 0.3
    calls: dict[str, list[Any]] = {"heads": [], "after": []}
    real_heads, real_after = event_log.stream_heads, consumers.events_after

    def heads(ids: Any) -> dict[int, int]:
        calls["heads"].append(sorted(ids))
        return real_heads(ids)

    def after(person_id: int, *args: Any) -> list[dict[str, Any]]:
        calls["after"].append(person_id)
        return real_after(person_id, *args)

    monkeypatch.setattr(event_log, "stream_heads", heads)
    monkeypatch.setattr(consumers, "events_after", after)
    people = [await token_for(name) for name in PEOPLE]
    sockets = [await resumed(raw) for _pid, raw in people]
    try:
        calls["after"].clear()
        calls["heads"].clear()
        target = people[0][0]
        event_id = await emit_with_lost_push(target)
        frame = await sockets[0].receive_json_from(timeout=5)
        assert (frame["id"], frame["type"]) == (event_id, "test.sweep")
        # The sweep that caught it read every listener's head in one query...
        assert calls["heads"][-1] == sorted(pid for pid, _ in people)
        # ...and only the socket that was behind read its stream, once.
        assert calls["after"] == [target]
        for ws in sockets[1:]:
            assert await ws.receive_nothing(timeout=0.2)
        # While no event comes, the sweeps that follow read no stream head at all.
        calls["heads"].clear()
        await asyncio.sleep(1.0)
        assert calls["heads"] == []
        assert calls["after"] == [target]
    finally:
        for ws in sockets:
            await ws.disconnect()


async def test_an_idle_sweep_reads_the_heads_of_new_listeners_only(demo, settings, monkeypatch) -> None:
    """A socket that signed in after the last sweep may have missed a push in its first moments;
    the next sweep reads its head even though the log did not move, and only its head."""
    settings.TRYGG_EVENTS_POLL_SECONDS = 0.3
    calls: list[list[int]] = []
    real_heads = event_log.stream_heads

    def heads(ids: Any) -> dict[int, int]:
        calls.append(sorted(ids))
        return real_heads(ids)

    monkeypatch.setattr(event_log, "stream_heads", heads)
    first = await token_for("kari.4a")
    sockets = [await resumed(first[1])]
    try:
        await asyncio.sleep(0.8)
        assert calls and calls[0] == [first[0]]
        calls.clear()
        later = await token_for("mor.emma")
        sockets.append(await resumed(later[1]))
        await asyncio.sleep(0.8)
        assert calls == [[later[0]]]
    finally:
        for ws in sockets:
            await ws.disconnect()


async def test_the_sweep_stops_with_the_last_listener(demo, settings) -> None:
    from trygg.events import hub

    settings.TRYGG_EVENTS_POLL_SECONDS = 0.3
    _pid, raw = await token_for("kari.4a")
    ws = await resumed(raw)
    loop = asyncio.get_running_loop()
    sweep = hub._sweeps.get(loop)
    assert sweep is not None and not sweep.done()
    await ws.disconnect()
    await asyncio.sleep(0.1)
    assert loop not in hub._sweeps
    assert sweep.cancelled() or sweep.done()
