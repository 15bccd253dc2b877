"""Benchmark: one class channel with 30 connected members, on a real uvicorn server.

For each offered send rate it prints the median and 99th-percentile time from the start of the
send (HTTP POST) to the moment the last of the 30 sockets has the message, and the highest rate
one process sustains with the 99th percentile under 100 ms. Goal: p99 < 20 ms at 100 msg/s on
SQLite. It prints a table and asserts nothing.

Run: ``.venv/bin/python bench/bench_messaging.py`` (uses DATABASE_URL / REDIS_URL if set).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Listener, cpu_seconds, http_client, served, setting, shell  # noqa: E402

MEMBERS = 30
RATES = [int(r) for r in os.environ.get("BENCH_RATES", "10,20,30,50,70,100,150,200,300").split(",")]
SECONDS_PER_RATE = float(os.environ.get("BENCH_SECONDS", "3"))
MAX_IN_FLIGHT = 32
SENDER = "ola.9b"

SETUP = """
from trygg.directory.models import SchoolClass
from trygg.messaging.actions import ensure_class_channels
from trygg.messaging.queries import list_members
school_class = SchoolClass.objects.get(name='9B')
_, guardians = ensure_class_channels(school_class)
names = [p.username for p in list_members(guardians) if p.username != 'ola.9b']
print(guardians.pk, ' '.join(names))
"""


def setup_channel(env: dict[str, str]) -> tuple[int, list[str]]:
    """Create 9B's guardians' channel (guardians and teachers, all demo accounts) in the bench database."""
    out = shell(env, SETUP).strip().splitlines()[-1]
    conversation_id, names = out.split(" ", 1)
    return int(conversation_id), names.split()


async def token(client: aiohttp.ClientSession, username: str) -> str:
    async with client.post("/api/v1/auth/token", json={"username": username, "password": "demo"}) as response:
        response.raise_for_status()
        return (await response.json())["token"]


async def run_rate(client: aiohttp.ClientSession, conversation_id: int, receivers: list[Listener], rate: int,
                   label: str, pid: int) -> dict[str, float]:
    cpu_before = cpu_seconds(pid)
    count = max(int(rate * SECONDS_PER_RATE), 20)
    started: dict[int, float] = {}
    limiter = asyncio.Semaphore(MAX_IN_FLIGHT)
    errors = 0

    async def one(i: int, at: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        async with limiter:
            t0 = time.perf_counter()
            async with client.post(f"/api/v1/conversations/{conversation_id}/messages",
                                   json={"body": f"Beskjed {i}", "client_txn_id": f"{label}-{rate}-{i}"}) as response:
                if response.status != 201:
                    errors += 1
                    return
                started[(await response.json())["id"]] = t0

    begin = time.perf_counter()
    await asyncio.gather(*(one(i, begin + i / rate) for i in range(count)))
    send_done = time.perf_counter()
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and not all(all(m in r.seen for m in started) for r in receivers):
        await asyncio.sleep(0.02)
    cpu = cpu_seconds(pid) - cpu_before
    latencies = []
    lost = 0
    for message_id, t0 in started.items():
        arrivals = [r.seen.get(message_id) for r in receivers]
        if any(a is None for a in arrivals):
            lost += 1
            continue
        latencies.append((max(arrivals) - t0) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return {
        "rate": rate,
        "sent": len(started),
        "achieved": len(started) / (send_done - begin),
        "median": statistics.median(latencies) if latencies else float("nan"),
        "p99": p99,
        "max": latencies[-1] if latencies else float("nan"),
        "lost": lost + errors,
        # The server's CPU for the whole run of this rate (the send, the log, the fan-out to every
        # socket) per message sent; per delivery it is this divided by the members.
        "cpu_ms": cpu * 1000 / max(len(started), 1),
    }


async def bench(url: str, conversation_id: int, members: list[str], pid: int) -> list[dict[str, float]]:
    netloc = url.split("//", 1)[1]
    async with http_client(url, connections=MAX_IN_FLIGHT, seconds=30) as client:
        tokens = [await token(client, name) for name in members[:MEMBERS]]
        sender_token = await token(client, SENDER)
    receivers = [Listener(conversation_id) for _ in tokens]
    readies = [asyncio.Event() for _ in tokens]
    tasks = [
        asyncio.create_task(r.run(netloc, t, e))
        for r, t, e in zip(receivers, tokens, readies, strict=True)
    ]
    await asyncio.gather(*(e.wait() for e in readies))
    results = []
    async with http_client(url, connections=MAX_IN_FLIGHT, seconds=30,
                           headers={"Authorization": f"Bearer {sender_token}"}) as client:
        await run_rate(client, conversation_id, receivers, 10, "warmup", pid)
        label = f"b{int(time.time())}"
        for rate in RATES:
            results.append(await run_rate(client, conversation_id, receivers, rate, label, pid))
    for task in tasks:
        task.cancel()
    return results


def main() -> int:
    async def run(server: Any, channel: tuple[int, list[str]]) -> list[dict[str, float]]:
        return await bench(server.url, channel[0], channel[1], server.process.pid)

    results = served("bench", lambda env, _data_dir: setup_channel(env), run)
    print(f"Class channel, {MEMBERS} connected members, one uvicorn process ({setting()})")
    print(f"{'offered/s':>9} {'achieved/s':>10} {'sent':>5} {'median ms':>9} {'p99 ms':>7} {'max ms':>7} {'lost':>5} "
          f"{'CPU ms/msg':>10} {'CPU ms/delivery':>15}")
    for r in results:
        print(f"{r['rate']:>9} {r['achieved']:>10.1f} {r['sent']:>5} {r['median']:>9.1f} {r['p99']:>7.1f} "
              f"{r['max']:>7.1f} {r['lost']:>5} {r['cpu_ms']:>10.2f} {r['cpu_ms'] / MEMBERS:>15.3f}")
    sustained = [
        r["achieved"] for r in results if r["p99"] < 100 and r["lost"] == 0 and r["achieved"] >= r["rate"] * 0.9
    ]
    print(f"sustained with p99 < 100 ms: {max(sustained):.0f} msg/s" if sustained
          else "sustained with p99 < 100 ms: none of the offered rates")
    at_100 = next((r for r in results if r["rate"] == 100), None)
    if at_100:
        verdict = "met" if at_100["p99"] < 20 else "not met"
        print(f"goal p99 < 20 ms at 100 msg/s: {verdict} (p99 {at_100['p99']:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
