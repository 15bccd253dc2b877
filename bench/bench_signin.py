"""Benchmark: 300 guardians signing in within 10 seconds (issue 15, items 1 and 4).

A real ``trygg serve`` (one process) on a database of its own, with 300 extra guardians whose
password is "demo" (hashed with the installation's Argon2id parameters). Each guardian asks for an
API token (``POST /api/v1/auth/token``) at a random moment of a 10-second window, as a class's
parents do when the school's first message arrives. It prints each answer's p50, p99 and slowest
time, how many failed, and the server's peak RSS (VmHWM). It asserts nothing.

Run: ``.venv/bin/python bench/bench_signin.py`` (``BENCH_SIGNINS=300``, ``BENCH_WINDOW=10``;
uses DATABASE_URL / REDIS_URL if set).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import server_env, shell, status_kib  # noqa: E402
from tests.conftest import LiveDatabase, LiveServer  # noqa: E402

SIGNINS = int(os.environ.get("BENCH_SIGNINS", "300"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "10"))

# One hash for all: the same password under one salt is still a real Argon2id verify per sign-in,
# and 300 hashes at set-up would only slow the bench down.
SETUP = """
from django.contrib.auth.hashers import make_password
from trygg.directory.models import Person
municipality = Person.objects.get(username='ola.9b').municipality
hashed = make_password('demo')
Person.objects.bulk_create([
    Person(username=f'bench.signin.{i}', name=f'Foresatt {i}', municipality=municipality, password=hashed)
    for i in range({count})
])
"""


async def rush(url: str) -> tuple[list[float], int]:
    times: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=SIGNINS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one(i: int, at: float) -> None:
            nonlocal failed
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            t0 = time.perf_counter()
            response = await client.post("/api/v1/auth/token",
                                         json={"username": f"bench.signin.{i}", "password": "demo"})
            if response.status_code != 200:
                failed += 1
                return
            times.append((time.perf_counter() - t0) * 1000)

        begin = time.perf_counter()
        rng = random.Random(15)
        await asyncio.gather(*(one(i, begin + rng.uniform(0, WINDOW)) for i in range(SIGNINS)))
    return sorted(times), failed


def main() -> int:
    database = LiveDatabase("signin")
    # Sign-in throttling stays on whatever the setting; the send limits do not matter here.
    env = server_env(database.env, rate_limits=True)
    server = None
    try:
        script = SETUP.replace("{count}", str(SIGNINS))
        shell(env, script)
        server = LiveServer(env, workers=1)
        before = status_kib(server.process.pid, "VmRSS") / 1024
        times, failed = asyncio.run(rush(server.url))
        peak = status_kib(server.process.pid, "VmHWM") / 1024
    finally:
        if server is not None:
            server.stop()
        database.drop()
    backend = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"{SIGNINS} guardians signing in within {WINDOW:.0f} s, one process ({backend})")
    print(f"{'ok':>5} {'failed':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'RSS before MiB':>14} "
          f"{'peak RSS MiB':>12}")
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan")
    print(f"{len(times):>5} {failed:>6} {statistics.median(times) if times else float('nan'):>7.0f} {p99:>7.0f} "
          f"{times[-1] if times else float('nan'):>7.0f} {before:>14.0f} {peak:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
