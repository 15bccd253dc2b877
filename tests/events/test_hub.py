"""The hub: one hand-over per event and process, then to the listeners of its recipients.

Runs on whichever channel layer the environment configures: in process on SQLite, through one
Redis group when REDIS_URL is set.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from collections import deque
from typing import Any

from channels.layers import get_channel_layer

from trygg.events import hub


async def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def push_from_another_process(event_id: int, body: str, to: list[tuple[int, int | None]]) -> None:
    """What another process's ``publish`` puts on the group (with the in-process layer there is no
    other process, and this is a publish)."""
    layer = get_channel_layer()
    if hub.in_process(layer):
        await hub.publish(layer, event_id, body, to)
    else:
        await hub.to_hubs(layer, {"type": "hub.event", "id": event_id, "body": body, "to": to,
                                  "origin": "another process"})


async def test_an_event_reaches_only_its_recipients_listeners_in_order_with_their_prev() -> None:
    got: dict[str, list[tuple[int, int | None, dict[str, Any]]]] = {"a": [], "b": [], "c": []}

    def recorder(name: str) -> hub.Listener:
        return lambda event_id, prev, text: got[name].append((event_id, prev, json.loads(text)))

    keys = [(9001, hub.listen(9001, recorder("a"))), (9002, hub.listen(9002, recorder("b"))),
            (9003, hub.listen(9003, recorder("c")))]
    try:
        await hub.joined()
        layer = get_channel_layer()
        first = json.dumps({"id": 10, "type": "message.new", "body": "en"})
        second = json.dumps({"id": 11, "type": "message.new", "body": "to"})
        await hub.publish(layer, 10, first, [(9001, None), (9002, 5)])
        await hub.publish(layer, 11, second, [(9001, 10)])
        await wait_for(lambda: len(got["a"]) == 2 and len(got["b"]) == 1)
        assert got["a"] == [(10, None, {"id": 10, "type": "message.new", "body": "en"}),
                            (11, 10, {"id": 11, "type": "message.new", "body": "to", "prev": 10})]
        assert got["b"] == [(10, 5, {"id": 10, "type": "message.new", "body": "en", "prev": 5})]
        assert got["c"] == []
    finally:
        for person_id, key in keys:
            hub.unlisten(person_id, key)
    await hub.publish(get_channel_layer(), 12, second, [(9001, 11)])
    await asyncio.sleep(0.2)
    assert len(got["a"]) == 2  # nobody listens any more


async def test_a_delivery_from_another_thread_runs_on_the_listeners_loop() -> None:
    """A command or the worker pushes from a thread of its own; the socket's code still runs on
    the socket's loop."""
    ran_on: list[int] = []
    key = hub.listen(9004, lambda *_: ran_on.append(threading.get_ident()))
    try:
        thread = threading.Thread(target=hub.deliver, args=(20, json.dumps({"id": 20}), [(9004, None)]))
        thread.start()
        thread.join()
        await wait_for(lambda: ran_on)
        assert ran_on == [threading.get_ident()]
    finally:
        hub.unlisten(9004, key)


async def test_a_socket_that_falls_behind_drops_pushes_and_reads_the_log_instead(monkeypatch) -> None:
    """A socket's inbox is bounded: pushes past INBOX_LIMIT are dropped, and the next push's
    ``prev`` shows the gap, so the socket reads the log rather than skip an event."""
    from trygg.events import consumers

    monkeypatch.setattr(consumers, "INBOX_LIMIT", 2)
    socket = consumers.EventsConsumer()
    # The state connect() and a resume give a socket, without a client on the other end.
    socket.cursor, socket.lock, socket.inbox, socket.drainer = 5, asyncio.Lock(), deque(), None
    socket.context, socket.synced_at = contextvars.copy_context(), 0.0
    sent: list[int] = []
    caught_up: list[int] = []

    async def send(text_data: str) -> None:
        sent.append(json.loads(text_data)["id"])

    async def catch_up() -> None:
        caught_up.append(socket.cursor)
        socket.cursor = 9  # what the log would have given: 8 and 9

    socket.send, socket._catch_up = send, catch_up  # the socket's transport and the log read
    async with socket.lock:  # the socket is busy (a replay): pushes wait in the inbox
        for event_id in (6, 7, 8):
            socket._on_push(event_id, event_id - 1, json.dumps({"id": event_id}))
        assert len(socket.inbox) == 2
    await wait_for(lambda: socket.cursor == 7)
    assert sent == [6, 7]
    socket._on_push(9, 8, json.dumps({"id": 9}))  # prev 8 is above the cursor: 8 was dropped
    await wait_for(lambda: caught_up)
    assert caught_up == [7] and sent == [6, 7]
    socket._on_push(10, 9, json.dumps({"id": 10}))
    await wait_for(lambda: sent == [6, 7, 10])


async def test_a_hub_stops_when_the_layer_answers_its_cancel_with_an_error() -> None:
    """A Redis client may answer a cancelled read with an error of its own, not CancelledError
    (channels_redis answered with a KeyError from its buffer). The hub must still stop: if it took
    that for "Redis away" and retried, a stopping loop (a server shutting down, each test's loop)
    would wait on it for ever."""

    class SubscriptionAnsweringCancelWithAnError:
        confirmed = False

        async def subscribe(self, *channels: str) -> None:
            return None

        async def get_message(self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0) -> Any:
            if not self.confirmed:
                self.confirmed = True
                return {"type": "subscribe"}
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                raise KeyError("the read") from None
            return None

        async def aclose(self) -> None:
            return None

    class Layer:
        prefix = "hub-test"

        def connection(self, index: int) -> Any:
            class Client:
                def pubsub(self) -> SubscriptionAnsweringCancelWithAnError:
                    return SubscriptionAnsweringCancelWithAnError()
            return Client()

    running = hub._Hub(Layer(), asyncio.get_running_loop())
    await asyncio.wait_for(running.ready.wait(), 2)
    running.stop()
    await asyncio.wait_for(asyncio.gather(running.task, return_exceptions=True), 3)
    assert running.task.cancelled()


async def test_issue_15_pushes_between_two_long_polls_still_reach_the_process() -> None:
    """The 30 long polls a class message answers all leave at once and come straight back; a push
    of that moment must still reach the process (with Redis: its hub stays in the group), so the
    polls find it kept (``kept_after``) instead of reading the log."""
    key = hub.listen(9101, lambda *_: None)
    await hub.joined()
    hub.unlisten(9101, key)  # the last listener of the loop leaves
    await push_from_another_process(9201, json.dumps({"id": 9201}), [(9101, 9200)])
    await wait_for(lambda: hub.pushed_head(9101) == 9201, timeout=3)
    assert hub.kept_after(9101, 9200, 10) == [(9201, '{"id": 9201, "prev": 9200}')]


async def test_issue_15_a_hub_nobody_uses_leaves_after_its_linger(monkeypatch) -> None:
    """A hub without users leaves the group once ``HUB_LINGER_SECONDS`` pass with none coming back,
    and not before; a user who comes back meanwhile keeps it."""
    monkeypatch.setattr(hub, "HUB_LINGER_SECONDS", 0.3)
    loop = asyncio.get_running_loop()
    key = hub.listen(9102, lambda *_: None)
    await hub.joined()
    first = hub._hubs.get(loop)
    hub.unlisten(9102, key)
    await asyncio.sleep(0.2)
    key = hub.listen(9102, lambda *_: None)  # back within the linger: the same hub serves it
    assert hub._hubs.get(loop) is first
    await asyncio.sleep(0.3)
    assert hub._hubs.get(loop) is first
    hub.unlisten(9102, key)
    await wait_for(lambda: hub._hubs.get(loop) is None, timeout=3)
    if first is not None:  # a layer that crosses processes (Redis)
        await asyncio.wait_for(asyncio.gather(first.task, return_exceptions=True), 3)
        assert first.task.cancelled()


async def test_issue_15_a_lingering_hub_still_hears_pushes_after_redis_is_flushed() -> None:
    """A hub nobody uses stays (``HUB_LINGER_SECONDS``); a flushed Redis (the test suite's cache
    clearing does that) must not leave it deaf: pushes reach the next user."""
    from django.core.cache import cache

    got: list[int] = []
    key = hub.listen(9103, lambda event_id, prev, text: got.append(event_id))
    await hub.joined()
    hub.unlisten(9103, key)
    if not hub.in_process(get_channel_layer()):
        await asyncio.to_thread(cache.clear)
    key = hub.listen(9103, lambda event_id, prev, text: got.append(event_id))
    await hub.joined()
    try:
        await push_from_another_process(9301, json.dumps({"id": 9301}), [(9103, 9300)])
        await wait_for(lambda: got == [9301], timeout=3)
    finally:
        hub.unlisten(9103, key)


async def test_issue_15_a_hub_whose_subscription_broke_subscribes_again() -> None:
    """A hub whose connection to Redis breaks (a restart, a dropped connection) subscribes again,
    and pushes from other processes reach its listeners once it has."""
    layer = get_channel_layer()
    got: list[int] = []
    key = hub.listen(9105, lambda event_id, prev, text: got.append(event_id))
    try:
        await hub.joined()
        running = hub._hubs.get(asyncio.get_running_loop())
        if running is None:
            return  # the in-process layer has no connection to lose
        assert running.subscription is not None and running.subscription.connection is not None
        await running.subscription.connection.disconnect()
        # Pushes are hints: those of the moment the hub was away may be lost, so keep pushing
        # until one arrives, each after the last (its prev is the one before it).
        deadline = asyncio.get_running_loop().time() + 10
        event_id = 9400
        while not got:
            assert asyncio.get_running_loop().time() < deadline, "the hub never heard a push again"
            event_id += 1
            await push_from_another_process(event_id, json.dumps({"id": event_id}), [(9105, event_id - 1)])
            await asyncio.sleep(0.1)
        assert hub._hubs.get(asyncio.get_running_loop()) is running and running.ready.is_set()
    finally:
        hub.unlisten(9105, key)
    assert not hub.in_process(layer)


async def test_r_priv_03_every_process_forgets_the_kept_pushes_of_changed_events() -> None:
    """``forget`` reaches this process's hub as an event does (with Redis: through the group), and
    the links it kept of those events go; others stay."""
    key = hub.listen(9104, lambda *_: None)
    await hub.joined()
    try:
        layer = get_channel_layer()
        await hub.publish(layer, 9401, json.dumps({"id": 9401}), [(9104, 9400)])
        await hub.publish(layer, 9402, json.dumps({"id": 9402}), [(9104, 9401)])
        await wait_for(lambda: len(hub.kept_after(9104, 9400, 10)) == 2, timeout=3)
        await hub.forget(layer, [9402])
        await wait_for(lambda: len(hub.kept_after(9104, 9400, 10)) == 1, timeout=3)
        assert [i for i, _text in hub.kept_after(9104, 9400, 10)] == [9401]
    finally:
        hub.unlisten(9104, key)


async def test_issue_15_a_process_hands_its_own_push_to_its_listeners_at_once_and_once() -> None:
    """``publish`` delivers to this process's listeners before it returns (with Redis, without the
    round trip through the group), and the group's copy of it is dropped here, so nobody hears it
    twice; a push another process put on the group is still delivered."""
    got: list[tuple[int, int | None]] = []
    key = hub.listen(9105, lambda event_id, prev, text: got.append((event_id, prev)))
    await hub.joined()
    try:
        await hub.publish(get_channel_layer(), 9501, json.dumps({"id": 9501}), [(9105, 9500)])
        assert got == [(9501, 9500)]
        await push_from_another_process(9502, json.dumps({"id": 9502}), [(9105, 9501)])
        await wait_for(lambda: len(got) == 2, timeout=3)
        # A third push through the group, after the first's copy would have come round.
        await push_from_another_process(9503, json.dumps({"id": 9503}), [(9105, 9502)])
        await wait_for(lambda: len(got) == 3, timeout=3)
        await asyncio.sleep(0.1)
        assert got == [(9501, 9500), (9502, 9501), (9503, 9502)]
    finally:
        hub.unlisten(9105, key)


def test_issue_15_a_forked_process_does_not_take_its_parents_pushes_for_its_own(monkeypatch) -> None:
    """The origin is made afresh under another pid: a child that kept its parent's would drop the
    parent's pushes as delivered, and its sockets would hear nothing."""
    parent = hub.origin()
    assert hub.origin() == parent
    monkeypatch.setattr(hub.os, "getpid", lambda: -1)
    assert hub.origin() != parent
