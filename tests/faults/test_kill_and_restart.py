"""The fault suite (issue 12 §10): messages survive kill -9 of the server mid-burst (on SQLite, and
on PostgreSQL + Redis), a Redis restart and a PostgreSQL restart: 0 lost, 0 doubled, order kept.

Each test sends a burst (two senders, each numbered messages as fast as the server answers, into
its own conversation with one receiver), injects the fault once a part of the burst is
acknowledged, lets the senders finish the way a client with an outbox does (a send without an
answer is sent again with the same ``client_txn_id``), and then compares the acknowledged sends,
the REST list, the event log and the receiver's resuming socket (``tests/faults/invariants.py``).

Everything runs on servers of the suite's own: ``trygg serve`` processes, a ``redis-server`` on
its own port, and a PostgreSQL cluster made with ``initdb`` in a temp dir (``tests/services.py``),
never the machine's shared PostgreSQL and Redis. The suite runs once in CI, in the SQLite pass,
and brings PostgreSQL + Redis with it.

The abuse limits are lifted on these servers (``TRYGG_RATE_LIMITS=off``): a burst is load, not
abuse, and the limits have tests of their own.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import LiveDatabase, LiveServer
from tests.faults.invariants import ResumingSocket, Sender, check, logged_events, rest_messages
from tests.messaging.live import api, open_chat, send, token
from tests.services import PostgresCluster, RedisServer

pytestmark = pytest.mark.once_in_ci

RECEIVER = "mor.sara"
SENDERS = ("ola.9b", "nils.9b")
PER_SENDER = 120
# The fault comes once this many sends of the burst are acknowledged: mid-burst.
FAULT_AFTER = 50


def own_environment(**parts: str) -> dict[str, str]:
    """The test run's environment without the machine's shared PostgreSQL and Redis, plus ``parts``."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TRYGG_CHANNEL_PREFIX")}
    env.update(parts)
    return env


@dataclass
class World:
    database: LiveDatabase
    server: LiveServer
    redis: RedisServer | None = None
    postgres: PostgresCluster | None = None


@pytest.fixture(scope="module")
def sqlite_world() -> Iterator[World]:
    database = LiveDatabase("faults-sqlite", own_environment())
    server = LiveServer({**database.env, "TRYGG_RATE_LIMITS": "off"})
    yield World(database, server)
    server.stop()
    database.drop()


@pytest.fixture(scope="module")
def scale_world() -> Iterator[World]:
    """PostgreSQL + Redis of the suite's own, and one ``trygg serve`` on them."""
    postgres = PostgresCluster()
    redis = RedisServer()
    try:
        database = LiveDatabase("faults-pg", own_environment(DATABASE_URL=postgres.url(), REDIS_URL=redis.url()))
        server = LiveServer({**database.env, "TRYGG_RATE_LIMITS": "off"})
    except BaseException:
        redis.stop()
        postgres.destroy()
        raise
    yield World(database, server, redis, postgres)
    server.stop()
    database.drop()
    redis.stop()
    postgres.destroy()


async def burst_through_fault(world: World, label: str, fault: Callable[[], None], *, per_sender: int = PER_SENDER,
                              fault_after: int = FAULT_AFTER,
                              tamper: Callable[[list[Sender]], None] | None = None) -> dict[str, Any]:
    """Send the burst, inject ``fault`` mid-burst, and check the invariants; return the counts.

    ``tamper`` runs once the senders are done (the checker's own test)."""
    url = world.server.url
    receiver_token = token(url, RECEIVER)
    senders = []
    for username in SENDERS:
        sender_token = token(url, username)
        conversation_id = open_chat(api(url, sender_token), RECEIVER)
        before = rest_messages(url, receiver_token, conversation_id)
        senders.append(Sender(url, sender_token, conversation_id, f"{label}-{username}", per_sender,
                              after_message=before[-1]["id"] if before else 0))
    socket = ResumingSocket(url, receiver_token)
    socket.start()
    await asyncio.wait_for(socket.ready.wait(), 20)
    threads = [sender.start() for sender in senders]
    started = time.monotonic()
    while sum(len(s.acked) for s in senders) < fault_after:
        assert all(s.error is None for s in senders), [s.error for s in senders]
        assert time.monotonic() - started < 60, "the burst did not get going"
        await asyncio.sleep(0.01)
    acked_before = sum(len(s.acked) for s in senders)
    fault_at = time.monotonic()
    await asyncio.to_thread(fault)
    recovered_in = time.monotonic() - fault_at
    for thread in threads:
        await asyncio.to_thread(thread.join, 120)
    if tamper is not None:
        tamper(senders)
    # Everything is in the log now; the socket has until then to catch up with it.
    head = logged_events(url, receiver_token, socket.start_after or 0)[-1]["id"]
    await socket.wait_for(lambda: (socket.last or 0) >= head, timeout=60)
    await socket.stop()
    counts = check(url, receiver_token, senders, socket)
    counts.update(acked_before_fault=acked_before, fault_seconds=round(recovered_in, 1))
    print(f"\n{label}: {counts}")
    return counts


def no_fault() -> None:
    pass


def kill_and_restart(server: LiveServer) -> Callable[[], None]:
    def fault() -> None:
        server.kill()
        server.start()

    return fault


async def test_kill_9_of_the_server_mid_burst_on_sqlite_loses_and_doubles_nothing(sqlite_world: World) -> None:
    counts = await burst_through_fault(sqlite_world, "sqlite-kill", kill_and_restart(sqlite_world.server))
    # The fault really cut the burst: the socket had to come back, and some sends had to be retried.
    assert counts["socket_connections"] >= 2 and counts["retried"] >= 1


async def test_kill_9_of_the_server_mid_burst_on_postgresql_and_redis_loses_and_doubles_nothing(
        scale_world: World) -> None:
    counts = await burst_through_fault(scale_world, "pg-kill", kill_and_restart(scale_world.server))
    assert counts["socket_connections"] >= 2 and counts["retried"] >= 1


async def test_a_redis_restart_mid_burst_loses_and_doubles_nothing(scale_world: World) -> None:
    """Redis carries the pushes (the channel layer) and the cache: a restart loses every key and
    group. The log stays the truth, and the socket that was cut resumes from it."""
    assert scale_world.redis is not None
    counts = await burst_through_fault(scale_world, "redis-restart", scale_world.redis.restart)
    assert counts["sent"] == PER_SENDER * len(SENDERS)


async def test_a_postgresql_restart_mid_burst_loses_and_doubles_nothing(scale_world: World) -> None:
    """PostgreSQL stopped as by a crash (``immediate``: no checkpoint, every connection cut) and
    started again a second later: sends in between answer 503 and are sent again; nothing the
    server acknowledged is lost, nothing is stored twice."""
    postgres = scale_world.postgres
    assert postgres is not None

    def fault() -> None:
        postgres.stop("immediate")
        time.sleep(1.0)
        postgres.start()

    counts = await burst_through_fault(scale_world, "pg-restart", fault)
    assert counts["retried"] >= 1
    assert counts["statuses"].get("503", 0) >= 1, counts
    # Sign-ins run on threads of their own (trygg.asgi), each with its own connection: they come
    # back too. They answered 503 for ever after a restart, their broken connections never dropped.
    for _ in range(5):
        assert token(scale_world.server.url, RECEIVER)


async def test_the_checker_finds_a_message_no_one_acknowledged(sqlite_world: World) -> None:
    """The checker has teeth: a message stored beside the burst that its sender never had
    acknowledged (what a retry that is not idempotent would leave) fails the check."""
    def tamper(senders: list[Sender]) -> None:
        rogue = senders[0]
        send(api(rogue.url, rogue.token), rogue.conversation_id, rogue.body(3), txn="not-the-burst's")

    with pytest.raises(AssertionError, match="extra"):
        await burst_through_fault(sqlite_world, "checker", no_fault, per_sender=5, fault_after=1, tamper=tamper)


async def test_after_a_redis_restart_a_fresh_socket_is_served_or_told_to_come_back(scale_world: World) -> None:
    """Right after a Redis restart a fresh socket was dropped with no close frame (1006), which a
    client takes for a bug or a dead network. Now it is served, or closed with 1012 (come back at
    once), and the first message after the restart reaches it."""
    assert scale_world.redis is not None
    url = scale_world.server.url
    receiver_token = token(url, RECEIVER)
    sender = api(url, token(url, SENDERS[0]))
    conversation_id = open_chat(sender, RECEIVER)
    scale_world.redis.restart()
    socket = ResumingSocket(url, receiver_token)
    socket.start()
    try:
        await asyncio.wait_for(socket.ready.wait(), 20)
        sent = send(sender, conversation_id, "etter omstart")
        assert await socket.wait_for(lambda: sent["id"] in socket.message_ids(conversation_id), timeout=15)
    finally:
        await socket.stop()
    assert 1006 not in socket.close_codes, socket.close_codes
