"""Where a pushed event meets the event sockets and long polls of this process.

Every event socket and waiting long poll listens here under its person. A committed event is
handed to each process's hub once, with the recipients and their ``prev``; the hub hands it on to
the listeners of those recipients in this process.

* With the in-process channel layer there is one process: the pusher hands the event over
  directly.
* With Redis, the pusher hands the event to its own process's listeners at once and publishes one
  message on the pub/sub channel every hub of every process subscribes to (``to_hubs``); a hub
  drops what its own process sent. Sending to each recipient's own group instead was 30 Redis
  round trips and 30 receives for a message in a class channel of 30, and capped one process at
  about 40 messages a second. Going
  through Redis for the sender's own process as well cost a round trip, an encoding and a decoding
  on the way to every socket it holds (issue 15: ``/ws/events`` p99 on PostgreSQL + Redis).

A push is a hint (design rule 3): a listener that misses one reads the log.

A push that is lost with nothing after it (a full channel, a Redis restart, another process on
SQLite without Redis) would leave a listener behind until the next event. The *sweep* catches it:
every ``TRYGG_EVENTS_POLL_SECONDS`` one task per event loop reads the stream heads of all its
listeners' people in one query (``log.stream_heads``) and hands a listener whose stream grew a
hint ``(head, None, "")``; a socket whose cursor is already there drops it without work. A sweep
that finds the log's newest id where the last one left it reads only the heads of people who began
listening since (``_moved_heads``): an idle night reads one row per sweep. This
replaced a timer per socket, which read each socket's stream through the one shared database thread:
10,000 idle sockets cost 88% of a core (issue 15).

The hub also closes sockets: every signed-in socket of the process is *watched* under its person
and the credential it signed in with, and ``close`` (``trygg.events.log.close_sockets_of``) reaches
every process's hub the way an event does, so a logout, a revoked token or a lost relation closes
the sockets it concerns wherever they are held.

The same close makes the process forget the bearer tokens its long polls signed in with
(``remembered_poll_token``). A poll is a sign-in each time: a class message answers 30 long polls, which all
come straight back, and reading each one's token again was a database round trip per poll (on
PostgreSQL as many round trips per message as the send itself made, ``bench/bench_phases.py``,
phase a2). A token found live is remembered for ``POLL_TOKEN_SECONDS``; every way a token stops
working (a sign-out, its revocation, a new password, a deactivated person) closes its person's
sockets and so reaches here, and its expiry is checked at each use. The minute bounds what a close
lost on the way (Redis away) can leave: an open socket in the same case stays open.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

# The Redis pub/sub channel every hub subscribes to, after the channel layer's prefix.
HUB_TOPIC = "events.hub"
RETRY_SECONDS = 1.0
# How long Redis has to confirm a SUBSCRIBE before the hub counts the connection as broken and
# starts again.
SUBSCRIBE_CONFIRM_SECONDS = 5.0
# A hub whose last user left stays subscribed this long before it stops. The 30 long polls a
# class message answers all leave at once and come straight back: a hub that stopped at once was
# not subscribed for the moment they took, the pushes of that moment never came, and each new
# subscription made the polls wait for Redis and read the log (issue 15: PostgreSQL + Redis, the peer bench's
# phase a2, where most polls read the log).
HUB_LINGER_SECONDS = 60.0

# (event id, prev for this person or None, the encoded frame without prev); called on the
# listener's own loop, and must not block.
Listener = Callable[[int, "int | None", str], None]

# Called with the close code, on the socket's own loop; must not block.
Closer = Callable[[int], None]

_ids = itertools.count(1)
# person id -> listener id -> (loop, listener)
_listeners: dict[int, dict[int, tuple[asyncio.AbstractEventLoop, Listener]]] = {}
# person id -> watcher id -> (loop, credential, closer)
_watchers: dict[int, dict[int, tuple[asyncio.AbstractEventLoop, str | None, Closer]]] = {}
# One sweep per event loop with listeners (see the module docstring).
_sweeps: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = weakref.WeakKeyDictionary()
_listening_on: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()
# A sweep's hint carries no frame: "the log holds events up to this id".
SWEEP_TEXT = ""
# One hub per event loop with listeners, when the layer crosses processes.
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = weakref.WeakKeyDictionary()


# Long polls' bearer tokens found live: sha256 of the raw token -> (when found, the token with its
# person). Bounded: past the limit the oldest are forgotten and read again when next used.
POLL_TOKEN_SECONDS = 60.0
POLL_TOKENS_KEPT = 10_000
_poll_tokens: dict[str, tuple[float, Any]] = {}


def _token_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def remembered_poll_token(raw: str) -> Any:
    """Return the live token of a long poll if this process found it lately, else None (any thread)."""
    key = _token_key(raw)
    kept = _poll_tokens.get(key)
    if kept is None:
        return None
    found_at, token = kept
    from django.utils import timezone

    if time.monotonic() - found_at < POLL_TOKEN_SECONDS and token.expires_at > timezone.now():
        return token
    _poll_tokens.pop(key, None)
    return None


def remember_poll_token(raw: str, token: Any) -> None:
    """Remember a token found live (``trygg.api_auth.token_in_use``) for the next polls."""
    while len(_poll_tokens) >= POLL_TOKENS_KEPT:
        _poll_tokens.pop(next(iter(_poll_tokens)), None)
    _poll_tokens[_token_key(raw)] = (time.monotonic(), token)


def forget_poll_tokens(person_id: int) -> None:
    """Forget the remembered tokens of ``person_id`` (any thread): a sign-in of theirs ended."""
    for key, (_found_at, token) in list(_poll_tokens.items()):
        if token.person_id == person_id:
            _poll_tokens.pop(key, None)


def frame_text(body: str, prev: int | None) -> str:
    """Return an encoded frame (a JSON object) with ``prev`` added, without decoding it again."""
    return body if prev is None else f'{body[:-1]}, "prev": {int(prev)}}}'


def listen(person_id: int, listener: Listener) -> int:
    """Hear the events of ``person_id`` on the running loop; return the id to stop with."""
    loop = asyncio.get_running_loop()
    key = next(_ids)
    _listeners.setdefault(person_id, {})[key] = (loop, listener)
    _use_hub(loop)
    _listening_on[loop] = _listening_on.get(loop, 0) + 1
    if loop not in _sweeps:
        _sweeps[loop] = loop.create_task(_sweep(loop))
    return key


def watch(person_id: int, credential: str | None, closer: Closer) -> int:
    """Let ``close`` reach a socket of ``person_id`` signed in with ``credential``; return the id to
    stop with (``unwatch``)."""
    loop = asyncio.get_running_loop()
    key = next(_ids)
    _watchers.setdefault(person_id, {})[key] = (loop, credential, closer)
    _use_hub(loop)
    return key


def unwatch(person_id: int, key: int) -> None:
    mine = _watchers.get(person_id)
    if mine is None or mine.pop(key, None) is None:
        return
    if not mine:
        _watchers.pop(person_id, None)
    _release_hub()


def close_oldest(person_id: int, keep: int, code: int) -> int:
    """Close the oldest sockets of ``person_id`` in this process (on their loops) so that at most
    ``keep`` stay; return how many were told."""
    mine = _watchers.get(person_id, {})
    if len(mine) <= keep:
        return 0
    told = 0
    # Watcher ids grow with time, so the smallest are the oldest.
    for key in sorted(mine)[: len(mine) - keep]:
        loop, _credential, closer = mine.pop(key)
        if not loop.is_closed():
            loop.call_soon_threadsafe(closer, code)
            told += 1
        _release_hub_of(loop)
    return told


def close_named_here(person_id: int, names: Iterable[str], code: int) -> int:
    """Close the sockets of ``person_id`` that this process holds among ``names`` (socket names
    of ``trygg.events.cap``); return how many were told."""
    from trygg.events.cap import watcher_of

    mine = _watchers.get(person_id, {})
    told = 0
    for name in names:
        key = watcher_of(name)
        entry = mine.pop(key, None) if key is not None else None
        if entry is None:
            continue
        loop, _credential, closer = entry
        if not loop.is_closed():
            loop.call_soon_threadsafe(closer, code)
            told += 1
        _release_hub_of(loop)
    if not mine:
        _watchers.pop(person_id, None)
    return told


async def close_named(person_id: int, names: list[str], code: int) -> None:
    """Close the named sockets of ``person_id`` wherever they are held (the cap's surplus)."""
    layer = _layer()
    if layer is None or in_process(layer):
        close_named_here(person_id, names, code)
    else:
        await to_hubs(layer, {"type": "hub.close_named", "person_id": person_id, "names": names, "code": code})


def close_here(person_id: int, credential: str | None, keep: str | None, code: int) -> int:
    """Close this process's sockets of ``person_id`` (any thread): those signed in with
    ``credential``, or all but ``keep``'s, or all; return how many were told. The long polls'
    remembered tokens of the person are forgotten, whichever ended."""
    forget_poll_tokens(person_id)
    told = 0
    for loop, signed_in_with, closer in list(_watchers.get(person_id, {}).values()):
        if credential is not None and signed_in_with != credential:
            continue
        if keep is not None and signed_in_with == keep:
            continue
        if not loop.is_closed():
            loop.call_soon_threadsafe(closer, code)
            told += 1
    return told


async def close(layer: Any, person_id: int, credential: str | None, keep: str | None, code: int) -> None:
    """Close the matching sockets of ``person_id`` in every process (see ``close_here``)."""
    if in_process(layer):
        close_here(person_id, credential, keep, code)
    else:
        await to_hubs(layer, {"type": "hub.close", "person_id": person_id, "credential": credential,
                              "keep": keep, "code": code})


def _use_hub(loop: asyncio.AbstractEventLoop) -> None:
    layer = _layer()
    if layer is not None and not in_process(layer):
        hub = _hubs.get(loop)
        if hub is None:
            hub = _hubs[loop] = _Hub(layer, loop)
        hub.users += 1


def _release_hub() -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    _release_hub_of(loop)


def _release_hub_of(loop: asyncio.AbstractEventLoop) -> None:
    hub = _hubs.get(loop)
    if hub is not None:
        hub.users -= 1
        if hub.users <= 0:
            hub.idle_at = loop.time()
            if hub.stopper is None:
                hub.stopper = loop.call_later(HUB_LINGER_SECONDS, _stop_if_idle, loop, hub)


def _stop_if_idle(loop: asyncio.AbstractEventLoop, hub: _Hub) -> None:
    """Stop ``hub`` once it has had no user for ``HUB_LINGER_SECONDS`` on end."""
    hub.stopper = None
    if _hubs.get(loop) is not hub or hub.users > 0:
        return
    left = hub.idle_at + HUB_LINGER_SECONDS - loop.time()
    if left > 0:
        hub.stopper = loop.call_later(left, _stop_if_idle, loop, hub)
        return
    _hubs.pop(loop, None)
    hub.stop()


async def joined() -> None:
    """Wait (briefly) until this loop's hub hears the other processes; at once without Redis."""
    hub = _hubs.get(asyncio.get_running_loop())
    if hub is not None:
        try:
            await asyncio.wait_for(hub.ready.wait(), timeout=2.0)
        except TimeoutError:
            log.warning("event hub not joined yet; sockets rely on the log until it is")


def unlisten(person_id: int, key: int) -> None:
    mine = _listeners.get(person_id)
    if mine is None:
        return
    entry = mine.pop(key, None)
    if entry is None:
        return
    if not mine:
        _listeners.pop(person_id, None)
    loop = entry[0]
    left = _listening_on.get(loop, 1) - 1
    if left > 0:
        _listening_on[loop] = left
    else:
        _listening_on.pop(loop, None)
        sweep = _sweeps.pop(loop, None)
        if sweep is not None:
            sweep.cancel()
    _release_hub()


def sweep_interval() -> float:
    from django.conf import settings

    return float(settings.TRYGG_EVENTS_POLL_SECONDS)


def _moved_heads(people: list[int], newest_seen: int | None, swept: set[int]) -> tuple[int, dict[int, int]]:
    """Return the log's newest event id and the stream heads a sweep must hand on.

    When no event came since the last sweep (``newest_seen``), only the people who began listening
    since (not in ``swept``) can be behind; the rest were read then. The newest id is read first,
    so an event that commits between the two reads is above it and moves the next sweep.
    """
    from trygg.events.log import newest_event_id, stream_heads

    newest = newest_event_id()
    if newest == newest_seen:
        people = [pid for pid in people if pid not in swept]
    return newest, stream_heads(people) if people else {}


async def _sweep(loop: asyncio.AbstractEventLoop) -> None:
    from channels.db import database_sync_to_async

    interval = sweep_interval()
    newest_seen: int | None = None
    swept: set[int] = set()
    while True:
        await asyncio.sleep(interval)
        people = [pid for pid, mine in list(_listeners.items()) if any(lp is loop for lp, _ in mine.values())]
        if not people:
            continue
        try:
            newest_seen, heads = await database_sync_to_async(_moved_heads)(people, newest_seen, swept)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the database is away: the next sweep tries again
            log.warning("event sweep could not read the stream heads; retrying in %s s", interval)
            continue
        swept = set(people)
        for person_id, head in heads.items():
            for listener_loop, listener in list(_listeners.get(person_id, {}).values()):
                if listener_loop is loop:
                    listener(head, None, SWEEP_TEXT)


# person id -> the newest event this process's hub has handed on for them, listened for or not
# (``pushed_head``). Bounded: past the limit it starts again, and a person it forgot reads the log.
_pushed: dict[int, int] = {}
PUSHED_KEPT = 200_000


def pushed_head(person_id: int) -> int | None:
    """Return the newest event of ``person_id`` this process was handed, if it knows of one.

    A hint, as a push is: a push lost on the way (Redis away, another process on SQLite without
    Redis) leaves it behind the log, which the sweep and the long poll's own re-read catch up with.
    With Redis a hub hears pushes only while it is subscribed, so each (re)subscription forgets it all.
    """
    return _pushed.get(person_id)


# (person id, prev) -> (the event that followed prev in the person's stream, its encoded frame
# without prev, when it came), for the newest pushes this process was handed (``kept_after``); the
# keys in the order they came, so the oldest go first once there are more than KEPT_LINKS.
_links: dict[tuple[int, int], tuple[int, str, float]] = {}
_link_order: deque[tuple[int, int]] = deque()
# About 270 bytes each: 20,000 is the last twenty announcements to 1,000 guardians, or the last 660
# messages of class channels of 30, in about 5 MB.
KEPT_LINKS = 20_000
# A link older than this is not used: a deleted message's text is erased from the log
# (``forget_kept`` drops its frames everywhere), and a forget lost on the way (Redis away) must not
# leave the text answerable for long. Polls come back within moments of their answer.
KEPT_SECONDS = 60.0


def kept_after(person_id: int, after: int, limit: int) -> list[tuple[int, str]]:
    """Return the events of ``person_id`` that follow ``after`` as this process was handed them,
    ``(event id, frame)`` in order, as far as their ``prev`` links go without a gap (any thread).

    Each link is a push's own word that nothing lies between ``prev`` and its event in the person's
    stream, so the chain is exactly the log's events after ``after``, the newest perhaps not yet
    among them. A long poll that comes back a few messages behind (a class channel with five
    senders) is answered from here instead of reading the log: that read, on the long-poll thread,
    was most of a poll's cost (issue 15, ``bench/bench_phases.py`` phase a2, where nine polls in
    ten read the log). Empty when the first link is not kept; the caller reads the log then.
    """
    chain: list[tuple[int, str]] = []
    at = after
    oldest = time.monotonic() - KEPT_SECONDS
    while len(chain) < limit:
        found = _links.get((person_id, at))
        if found is None or found[2] < oldest:
            break
        event_id, body, _came = found
        chain.append((event_id, frame_text(body, at)))
        at = event_id
    return chain


def forget_kept(event_ids: Iterable[int]) -> int:
    """Drop what this process kept of these events' pushes (any thread); return how many links.

    The log changed their frames (a deleted message's text erased, ``trygg.events.log.forget_pushes``),
    and no answer may give the old ones again.
    """
    gone = set(event_ids)
    stale = [key for key, (event_id, _body, _came) in list(_links.items()) if event_id in gone]
    for key in stale:
        _links.pop(key, None)
    return len(stale)


async def forget(layer: Any, event_ids: list[int]) -> None:
    """Make every process drop what it kept of these events' pushes (``forget_kept``)."""
    if in_process(layer):
        forget_kept(event_ids)
    else:
        await to_hubs(layer, {"type": "hub.forget", "ids": event_ids})


def _keep_link(person_id: int, prev: int, event_id: int, body: str) -> None:
    key = (person_id, prev)
    _links[key] = (event_id, body, time.monotonic())
    _link_order.append(key)
    while len(_link_order) > KEPT_LINKS:
        _links.pop(_link_order.popleft(), None)


def deliver(event_id: int, body: str, to: Iterable[tuple[int, int | None]]) -> None:
    """Hand an event to this process's listeners of its recipients (any thread, any loop)."""
    try:
        here = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    if len(_pushed) > PUSHED_KEPT:
        _pushed.clear()
    for person_id, prev in to:
        if _pushed.get(person_id, 0) < event_id:
            _pushed[person_id] = event_id
        if prev is not None:
            # Kept before the listeners hear it: a long poll woken by this push finds it there.
            _keep_link(person_id, prev, event_id, body)
        mine = _listeners.get(person_id)
        if not mine:
            continue
        text = frame_text(body, prev)
        for loop, listener in list(mine.values()):
            if loop is here:
                listener(event_id, prev, text)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(listener, event_id, prev, text)


async def publish(layer: Any, event_id: int, body: str, to: list[tuple[int, int | None]]) -> None:
    """Send an event to every process's hub: to this one's directly, to the others through Redis
    (where this process's hubs drop it, by its origin)."""
    deliver(event_id, body, to)
    if not in_process(layer):
        await to_hubs(layer, {"type": "hub.event", "id": event_id, "body": body, "to": to, "origin": origin()})


_origin: tuple[int, str] = (0, "")


def origin() -> str:
    """This process's name on the hubs' channel: what it sent, it has delivered already.

    Made afresh in a forked child (the pid differs), which must not take its parent's pushes for
    its own.
    """
    global _origin
    pid = os.getpid()
    if _origin[0] != pid:
        _origin = (pid, uuid.uuid4().hex)
    return _origin[1]


def in_process(layer: Any) -> bool:
    return bool(getattr(layer, "sends_in_process", False))


def _layer() -> Any:
    from channels.layers import get_channel_layer

    return get_channel_layer()


def topic(layer: Any) -> str:
    """The pub/sub channel of the hubs that share ``layer``'s prefix (one deployment, one test run)."""
    return f"{layer.prefix}.{HUB_TOPIC}"


async def to_hubs(layer: Any, message: dict[str, Any]) -> None:
    """Hand ``message`` to every process's hub: one ``PUBLISH`` on the layer's Redis.

    Through channels_redis's ``group_send`` this was four round trips (expire the group, read its
    members, expire their queues, queue the message) and, in every hub, a blocking pop of its own:
    1.2-1.3 ms of CPU per event in the sending process, where ``PUBLISH`` and a subscriber cost
    0.15-0.23 ms (measured in one process against this machine's Redis, docs/scaling.md, round
    eight). What pub/sub gives up, a hub that is not subscribed at that moment missing the
    message, a push may lose anyway (design rule 3).
    """
    await layer.connection(0).publish(topic(layer), layer.serialize(message))


class _Hub:
    """This loop's subscriber to the hubs' pub/sub channel on a layer that crosses processes."""

    def __init__(self, layer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.users = 0
        # When ``users`` last fell to none, on the loop's clock, and the timer that will stop the
        # hub if none come back (``_stop_if_idle``).
        self.idle_at = 0.0
        self.stopper: asyncio.TimerHandle | None = None
        self.subscription: Any = None
        self.ready = asyncio.Event()
        self.task = loop.create_task(self._run())

    def stop(self) -> None:
        if self.stopper is not None:
            self.stopper.cancel()
            self.stopper = None
        self.task.cancel()

    async def _run(self) -> None:
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: sockets read the log meanwhile
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # A client may answer a cancelled read with an error of its own instead of
                    # CancelledError; retrying would swallow the cancel, and a stopping loop would
                    # wait on this task for ever.
                    raise asyncio.CancelledError() from None
                # Sockets and polls wait in ``joined`` until the hub hears the others again.
                self.ready.clear()
                log.warning("event hub lost the channel layer (%s); retrying in %s s", type(exc).__name__,
                            RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)

    async def _serve(self) -> None:
        subscription = self.subscription = self.layer.connection(0).pubsub()
        try:
            await subscription.subscribe(topic(self.layer))
            # Subscribed once Redis confirms it: a message published before that passes this hub by.
            while True:
                confirmed = await subscription.get_message(timeout=SUBSCRIBE_CONFIRM_SECONDS)
                if confirmed is None:
                    raise ConnectionError("no answer to SUBSCRIBE")
                if confirmed.get("type") == "subscribe":
                    break
            # Pushes sent while this loop was not subscribed never came: what it noted of people's
            # newest events (``pushed_head``) may lag the log, so it starts again.
            _pushed.clear()
            self.ready.set()
            while True:
                found = await subscription.get_message(ignore_subscribe_messages=True, timeout=None)
                if found is not None and found.get("type") == "message":
                    self._dispatch(self.layer.deserialize(found["data"]))
        finally:
            self.subscription = None
            # Bounded: a loop that is shutting down (a server stopping, a test ending) must not wait
            # on Redis; a subscription left behind ends with its connection.
            try:
                await asyncio.wait_for(asyncio.shield(subscription.aclose()), 1.0)
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - the connection goes with the process
                log.debug("event hub could not close its subscription")

    @staticmethod
    def _dispatch(message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "hub.event":
            # What this process sent, ``publish`` delivered here already.
            if message.get("origin") != origin():
                deliver(int(message["id"]), str(message["body"]), [(int(p), v) for p, v in message["to"]])
        elif kind == "hub.close_named":
            close_named_here(int(message["person_id"]), [str(n) for n in message["names"]], int(message["code"]))
        elif kind == "hub.forget":
            forget_kept(int(i) for i in message["ids"])
        elif kind == "hub.close":
            close_here(int(message["person_id"]), message.get("credential"), message.get("keep"),
                       int(message["code"]))
