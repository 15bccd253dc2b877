"""Benchmark: many idle authenticated event sockets held by one server process.

Opens ``BENCH_IDLE_SOCKETS`` sockets (default 2,000; the issue's shape is 10,000) to one uvicorn
process, each signed in with a token of its own person (ten sockets per person) and resumed, then
prints: resident memory per socket, the server's CPU while every socket sits idle (a share of one
core, over ``BENCH_IDLE_SECONDS``, default 60 s, which spans two rounds of the server's pings,
``TRYGG_WS_PING_SECONDS``, and a dozen of the hub's sweeps), and how
long the last socket waited for its first reply (``hello``). A table, no assertions.

Run: ``.venv/bin/python bench/bench_idle_sockets.py`` (uses DATABASE_URL / REDIS_URL if set).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import cpu_seconds, shell, status_kib  # noqa: E402
from tests.conftest import LiveDatabase, LiveServer  # noqa: E402

SOCKETS = int(os.environ.get("BENCH_IDLE_SOCKETS", "2000"))
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
PER_PERSON = 10
OPEN_IN_PARALLEL = 50

SETUP = """
from trygg.directory.models import ApiToken, Municipality, Person
m = Municipality.objects.first()
people = Person.objects.bulk_create(
    [Person(username=f'bench.idle.{i}', name=f'Bench {i}', municipality=m) for i in range({people})])
for p in Person.objects.filter(username__startswith='bench.idle.'):
    print('TOKEN', ApiToken.issue(p)[1])
"""


def tokens(env: dict[str, str], people: int) -> list[str]:
    script = SETUP.replace("{people}", str(people))
    return [line.split()[1] for line in shell(env, script).splitlines() if line.startswith('TOKEN ')]


async def hold(netloc: str, raw: str, opened: asyncio.Event, waited: list[float], stop: asyncio.Event) -> None:
    started = time.perf_counter()
    # No pings from this side: a browser's WebSocket never sends one (the server pings every
    # TRYGG_WS_PING_SECONDS and the client answers); the websockets library's default of one every
    # 20 s per socket put 500 pings a second on the server that no real client sends.
    async with connect(f"ws://{netloc}/ws/events", origin=f"http://{netloc}", open_timeout=120,
                       ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": raw}))
        json.loads(await ws.recv())
        waited.append(time.perf_counter() - started)
        await ws.send(json.dumps({"type": "resume", "after": None}))
        opened.set()
        await stop.wait()


async def bench(server: LiveServer, raws: list[str]) -> dict[str, float]:
    netloc = server.url.split("//", 1)[1]
    pid = server.process.pid
    base = status_kib(pid, "VmRSS")
    stop = asyncio.Event()
    waited: list[float] = []
    tasks = []
    limiter = asyncio.Semaphore(OPEN_IN_PARALLEL)
    begin = time.perf_counter()

    async def one(raw: str) -> None:
        opened = asyncio.Event()
        async with limiter:
            task = asyncio.create_task(hold(netloc, raw, opened, waited, stop))
            tasks.append(task)
            await asyncio.wait([task, asyncio.ensure_future(opened.wait())], return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # a socket that could not sign in stops the bench with its reason

    await asyncio.gather(*(one(raws[i // PER_PERSON]) for i in range(SOCKETS)))
    open_seconds = time.perf_counter() - begin
    await asyncio.sleep(2)
    held = status_kib(pid, "VmRSS")
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)
    idle = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"sockets": SOCKETS, "open_s": open_seconds, "rss_per_socket_kib": (held - base) / SOCKETS,
            "idle_cpu": idle * 100, "last_first_reply_ms": waited[-1] * 1000, "max_first_reply_ms": max(waited) * 1000}


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * SOCKETS + 1000)), hard))
    database = LiveDatabase("bench-idle")
    try:
        raws = tokens(database.env, (SOCKETS + PER_PERSON - 1) // PER_PERSON)
        server = LiveServer(database.env)
        try:
            result = asyncio.run(bench(server, raws))
        finally:
            server.stop()
    finally:
        database.drop()
    backend = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory"
    print(f"Idle authenticated event sockets, one uvicorn process ({backend}, {layer} channel layer)")
    print("sockets  open s  RSS/socket KiB  idle CPU % of a core  last socket's first reply ms  slowest ms")
    print(f"{result['sockets']:>7} {result['open_s']:>7.1f} {result['rss_per_socket_kib']:>15.1f} "
          f"{result['idle_cpu']:>21.1f} {result['last_first_reply_ms']:>29.0f} {result['max_first_reply_ms']:>11.0f}")


if __name__ == "__main__":
    main()
