"""At most ``TRYGG_SOCKETS_PER_PERSON`` signed-in sockets per person, across every process.

Without Redis there is one process, and the hub counts its sockets (``hub.close_oldest``). With
Redis, each person's signed-in sockets are counted in one sorted set, ``<prefix>:sockets:<person>``:
a member per socket, named ``<connected at, ms>:<process>:<watcher>`` (so names sort oldest
first), scored with when its process last said it is alive. A socket that signs in is added, and
if the person then has more than the cap, the oldest are removed and closed with 4429 wherever
they are held (``hub.close_named``, through the hubs' channel as every close is).

A process that is killed cannot remove its sockets. So every process refreshes the scores of its
own sockets every ``TRYGG_SOCKETS_HEARTBEAT_SECONDS`` (30 s), every count first drops members
not refreshed for three heartbeats, and the whole set expires with them: a killed process's
sockets stop counting within a minute and a half, not never.

Redis unreachable: the cap falls back to this process's count (the hub's), and says so in the log;
as with the rate limits, an outage of Redis must not shut people out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from functools import lru_cache
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# Names this process's sockets in Redis; a restarted process is another process.
PROCESS = uuid.uuid4().hex[:12]
STALE_HEARTBEATS = 3

# socket name -> (its loop, person id), for this process's sockets counted in Redis.
_counted: dict[str, tuple[asyncio.AbstractEventLoop, int]] = {}
_heartbeats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = weakref.WeakKeyDictionary()


def counts_in_redis() -> bool:
    return bool(settings.REDIS_URL)


def socket_name(watcher: int) -> str:
    """Return the name of a socket (watched by the hub under ``watcher``) in the person's set."""
    return f"{time.time_ns() // 1_000_000:015d}:{PROCESS}:{watcher}"


def watcher_of(name: str) -> int | None:
    """Return the hub's watcher id of a socket name, if the socket is held by this process."""
    _connected, process, watcher = name.split(":", 2)
    return int(watcher) if process == PROCESS else None


@lru_cache(maxsize=4)
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def _key(person_id: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "trygg"
    return f"{prefix}:sockets:{int(person_id)}"


def _stale_seconds() -> float:
    return STALE_HEARTBEATS * float(settings.TRYGG_SOCKETS_HEARTBEAT_SECONDS)


def _admit(person_id: int, name: str, keep: int) -> list[str]:
    client = _client(settings.REDIS_URL)
    key = _key(person_id)
    now = time.time()
    stale = _stale_seconds()
    with client.pipeline(transaction=True) as pipe:
        pipe.zadd(key, {name: now})
        pipe.zremrangebyscore(key, "-inf", now - stale)
        pipe.zrange(key, 0, -1)
        pipe.expire(key, int(stale) + 1)
        members = pipe.execute()[2]
    names = sorted(m.decode() if isinstance(m, bytes) else m for m in members)
    surplus = names[: max(0, len(names) - keep)]
    if surplus:
        # Two sign-ins racing may both name a socket: closing it twice is harmless.
        client.zrem(key, *surplus)
    return surplus


async def admit(person_id: int, watcher: int, keep: int) -> tuple[str | None, list[str]]:
    """Count a socket that signed in; return its name and the names of the sockets (of any
    process) to close, oldest first. ``(None, [])`` when Redis cannot be reached."""
    name = socket_name(watcher)
    try:
        surplus = await asyncio.to_thread(_admit, person_id, name, keep)
    except Exception as exc:  # noqa: BLE001 - see the module docstring: fall back, say so
        log.warning("socket count unreachable (%s); sockets per person counted in this process", type(exc).__name__)
        return None, []
    loop = asyncio.get_running_loop()
    _counted[name] = (loop, person_id)
    if loop not in _heartbeats:
        _heartbeats[loop] = loop.create_task(_heartbeat(loop))
    return name, [n for n in surplus if n != name]


def _forget(person_id: int, name: str) -> None:
    try:
        _client(settings.REDIS_URL).zrem(_key(person_id), name)
    except Exception as exc:  # noqa: BLE001 - the entry goes stale and is dropped by the next count
        log.warning("could not uncount a closed socket (%s)", type(exc).__name__)


def forget(name: str | None) -> None:
    """Stop counting a socket that closed (from its loop; does not wait for Redis)."""
    if name is None:
        return
    entry = _counted.pop(name, None)
    if entry is None:
        return
    loop, person_id = entry
    if not any(lp is loop for lp, _pid in _counted.values()):
        beat = _heartbeats.pop(loop, None)
        if beat is not None:
            beat.cancel()
    try:
        loop.run_in_executor(None, _forget, person_id, name)
    except RuntimeError:
        # The loop is closing (a server stopping): the entry goes stale and stops counting.
        log.debug("socket left counted until it goes stale")


def _refresh(names: list[tuple[int, str]]) -> None:
    client = _client(settings.REDIS_URL)
    now = time.time()
    stale = int(_stale_seconds()) + 1
    with client.pipeline(transaction=False) as pipe:
        for person_id, name in names:
            # XX: a name the cap removed (its socket is closing) is not brought back.
            pipe.zadd(_key(person_id), {name: now}, xx=True)
            pipe.expire(_key(person_id), stale)
        pipe.execute()


async def _heartbeat(loop: asyncio.AbstractEventLoop) -> None:
    while True:
        await asyncio.sleep(float(settings.TRYGG_SOCKETS_HEARTBEAT_SECONDS))
        mine = [(pid, name) for name, (lp, pid) in list(_counted.items()) if lp is loop]
        if not mine:
            continue
        try:
            await asyncio.to_thread(_refresh, mine)
        except Exception as exc:  # noqa: BLE001 - the next beat tries again
            log.warning("could not refresh the socket count (%s)", type(exc).__name__)
