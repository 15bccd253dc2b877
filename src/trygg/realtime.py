"""What every socket of Trygg shares: the in-process channel layer and the consumer base.

Both came from one measurement (``bench/bench_messaging.py``): a message in a class channel of 30
connected members was 30 channel-layer sends and 30 consumer dispatches, and Channels' own
versions of those cost more per message than the send request itself. Event pushes no longer go
through a channel layer per person: the pusher hands each event to every process's hub
(``trygg.events.hub``), directly in one process, or through one Redis group. What this layer still
carries is the meeting sockets' groups and signalling, and, with one process, nothing else.

* ``InMemoryChannelLayer`` scans every channel and every group of the process on each send and
  receive (``_clean_expired``), starts a task per channel in ``group_send``, and deep-copies each
  message: quadratic in the sockets. ``ProcessChannelLayer`` sweeps expired messages at most once
  every ``SWEEP_SECONDS``, from within a send or receive, sends to a group in one pass, and copies
  only what a receiver could change. It keeps Channels' own state (``channels``, ``groups``,
  ``expiry``, ``get_capacity``, ``_clean_expired``).
* ``AsyncConsumer.dispatch`` hops to the database thread before every message to close stale
  connections. Under ``trygg.asgi`` that thread is the one that runs every sync view, so each push
  to each socket queued behind (and delayed) the sends themselves. Trygg's consumers reach the
  database only through ``database_sync_to_async``, which closes stale connections around its own
  call, so ``SocketConsumer`` dispatches without the hop.

Both lean on parts of Channels that are not its public interface; ``tests/test_library_contracts.py``
checks them against the version ``pyproject.toml`` pins.
"""

from __future__ import annotations

import asyncio
import time
from copy import deepcopy
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer

_SCALARS = (str, int, float, bool, type(None))
# Expired messages (60 s by default) and group memberships (a day) need no finer sweep than this.
SWEEP_SECONDS = 1.0


class ProcessChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer without the per-message costs that grow with the process's sockets."""

    # Everything it carries stays in this process, so the event hub hands events to its listeners
    # directly instead of through a group (trygg.events.hub).
    sends_in_process = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._swept_at = 0.0

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self._put(channel, message)

    def _put(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        assert "__asgi_channel__" not in message
        self.require_valid_channel_name(channel)
        queue = self._queue(channel)
        # A message of plain values cannot be changed through a shallow copy; anything nested could
        # be, by one receiver under another's feet, so it is copied whole as Channels does.
        flat = all(type(value) in _SCALARS for value in message.values())
        try:
            queue.put_nowait((time.time() + self.expiry, dict(message) if flat else deepcopy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        self._sweep()
        queue = self._queue(channel)
        try:
            _expires, message = await queue.get()
        finally:
            if queue.empty() and self.channels.get(channel) is queue:
                self.channels.pop(channel, None)
        return message

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._sweep()
        for channel in list(self.groups.get(group, ())):
            try:
                self._put(channel, message)
            except ChannelFull:
                # As in Channels: a full channel misses this message. Meeting sockets re-read
                # their join on a timer; event pushes do not come this way (trygg.events.hub).
                continue

    def _queue(self, channel: str) -> asyncio.Queue[tuple[float, dict[str, Any]]]:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    def _sweep(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            self._clean_expired()


class SocketConsumer(AsyncJsonWebsocketConsumer):
    """A JSON WebSocket consumer whose dispatch does not visit the database thread."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
