"""Benchmark: a school morning, on one worker and on two (issue 15, item 1).

20 class channels of 30 members (a teacher and 29 pupils each) on a real ``trygg serve`` with one
worker and then with two, every member holding an open ``/ws/events`` socket. Each class's teacher
posts into its channel at random moments (a Poisson process), 170 messages a second in all, for
``BENCH_SECONDS`` (default 60). For each message: the time from the start of its POST to the
moment the last of its 30 members' sockets has it; p50 and p99 per configuration, and the send
rate achieved.

Before the clock starts every teacher posts a first message of the day, all twenty at once, into a
server that has just started; the slowest of those is printed on its own ("first posts"). A fresh
server's first sends open database connections and read each class's facts, and at 170 msg/s the
messages of that first half second were the run's whole 99th percentile: measured together, the
figure said how long a start takes, not how a morning goes (docs/scaling.md, round ten).

Meant for PostgreSQL + Redis (the scale path: several workers need the shared channel layer); with
SQLite and the in-process layer it runs one worker only and says so. It prints a table and asserts
nothing. Run: ``DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_school_morning.py``
(``BENCH_RATE=170``, ``BENCH_SECONDS=60``, ``BENCH_WORKERS=1,2``).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Listener, http_client, machine_cpu, server_env, shell  # noqa: E402
from tests.conftest import LiveDatabase, LiveServer  # noqa: E402

CLASSES = int(os.environ.get("BENCH_CLASSES", "20"))
PUPILS = 29
RATE = float(os.environ.get("BENCH_RATE", "170"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
WORKERS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2").split(",")]

SETUP = """
from trygg.directory.models import (ApiToken, Enrollment, Person, SchoolClass, StaffRole,
                                    TeachingAssignment, TeachingKind)
from trygg.messaging.actions import ensure_class_channels
school = SchoolClass.objects.get(name='9B').school
municipality = school.municipality
with open(OUT, 'w') as out:
    for c in range(CLASSES):
        klass = SchoolClass.objects.create(school=school, name=f'M{c}', grade=9)
        teacher = Person.objects.create(username=f'laerer.m{c}', name=f'Lærer {c}', municipality=municipality)
        StaffRole.objects.create(person=teacher, kind='teacher', school=school, municipality=municipality)
        TeachingAssignment.objects.create(teacher=teacher, school_class=klass, kind=TeachingKind.CONTACT)
        pupils = Person.objects.bulk_create([
            Person(username=f'elev{i}.m{c}', name=f'Elev {i}', municipality=municipality) for i in range(PUPILS)
        ])
        Enrollment.objects.bulk_create([Enrollment(pupil=p, school_class=klass) for p in pupils])
        channel, _ = ensure_class_channels(klass)
        tokens = [ApiToken.issue(p)[1] for p in [teacher, *pupils]]
        out.write(str(channel.pk) + ' ' + ' '.join(tokens) + '\\n')
"""


def setup(env: dict[str, str], out_file: Path) -> list[tuple[int, list[str]]]:
    script = f"CLASSES = {CLASSES}\nPUPILS = {PUPILS}\nOUT = {str(out_file)!r}\n" + SETUP
    shell(env, script)
    rows = []
    for line in out_file.read_text().splitlines():
        channel, *tokens = line.split()
        rows.append((int(channel), tokens))
    return rows


async def morning(url: str, classes: list[tuple[int, list[str]]], label: str, server_pid: int) -> dict[str, Any]:
    netloc = url.split("//", 1)[1]
    members: list[list[Listener]] = []
    tasks = []
    everyone = [(c, t) for c, (_, tokens) in enumerate(classes) for t in tokens]
    by_class: dict[int, list[Listener]] = {}
    for start in range(0, len(everyone), 100):
        batch = everyone[start:start + 100]
        readies = []
        for class_index, token in batch:
            member, ready = Listener(classes[class_index][0]), asyncio.Event()
            by_class.setdefault(class_index, []).append(member)
            readies.append(ready)
            tasks.append(asyncio.create_task(member.run(netloc, token, ready)))
        await asyncio.gather(*(r.wait() for r in readies))
    members = [by_class[c] for c in range(len(classes))]
    sent: list[tuple[int, int, float]] = []
    errors = 0
    # A client of its own per teacher, as each posts from a device of their own.
    clients = [http_client(url, connections=8, seconds=60) for _ in classes]
    try:
        first_posts = await first_of_the_day(clients, classes, members, label)

        async def teacher(c: int) -> None:
            nonlocal errors
            client = clients[c]
            channel, tokens = classes[c]
            headers = {"Authorization": f"Bearer {tokens[0]}"}
            rng = random.Random(c)
            end = time.perf_counter() + SECONDS
            n = 0
            pending = []

            async def post(n: int) -> None:
                nonlocal errors
                t0 = time.perf_counter()
                try:
                    body = {"body": f"Beskjed {n}", "client_txn_id": f"{label}-{c}-{n}"}
                    async with client.post(f"/api/v1/conversations/{channel}/messages", headers=headers,
                                           json=body) as response:
                        if response.status != 201:
                            errors += 1
                            return
                        message_id = (await response.json())["id"]
                except aiohttp.ClientConnectionError:
                    # A kept-alive connection the server closed as it was reused (uvicorn's
                    # keep-alive timeout): counted as an error, not the end of the run.
                    errors += 1
                    return
                sent.append((c, message_id, t0))

            while True:
                await asyncio.sleep(rng.expovariate(RATE / len(classes)))
                if time.perf_counter() >= end:
                    break
                pending.append(asyncio.create_task(post(n)))
                n += 1
            await asyncio.gather(*pending)

        cpu_before = machine_cpu(server_pid)
        begin = time.perf_counter()
        await asyncio.gather(*(teacher(c) for c in range(len(classes))))
        elapsed = time.perf_counter() - begin
        cpu_after = machine_cpu(server_pid)
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and not all(all(m in x.seen for x in members[c]) for c, m, _ in sent):
        await asyncio.sleep(0.05)
    latencies, lost = [], 0
    for c, message_id, t0 in sent:
        arrivals = [x.seen.get(message_id) for x in members[c]]
        if any(a is None for a in arrivals):
            lost += 1
        else:
            latencies.append((max(arrivals) - t0) * 1000)
    for task in tasks:
        task.cancel()
    latencies.sort()
    return {
        "cpu": {part: max(0.0, cpu_after[part] - cpu_before[part]) / elapsed for part in cpu_after},
        "sent": len(sent), "rate": len(sent) / elapsed, "errors": errors, "lost": lost,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan"),
        "first": first_posts,
    }


async def first_of_the_day(clients: list[aiohttp.ClientSession], classes: list[tuple[int, list[str]]],
                           members: list[list[Listener]], label: str) -> float:
    """Every teacher posts once, all at the same moment; return the slowest time (ms) from a POST
    to the last of its class's sockets (NaN if one never arrived within 15 s)."""

    async def post(c: int) -> float:
        channel, tokens = classes[c]
        t0 = time.perf_counter()
        async with clients[c].post(f"/api/v1/conversations/{channel}/messages",
                                   headers={"Authorization": f"Bearer {tokens[0]}"},
                                   json={"body": "God morgen", "client_txn_id": f"{label}-{c}-first"}) as response:
            if response.status != 201:
                return float("nan")
            message_id = (await response.json())["id"]
        deadline = t0 + 15
        while not all(message_id in x.seen for x in members[c]) and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        arrivals = [x.seen.get(message_id) for x in members[c]]
        return float("nan") if None in arrivals else (max(arrivals) - t0) * 1000

    return max(await asyncio.gather(*(post(c) for c in range(len(classes)))))


def main() -> int:
    scale_path = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    workers = WORKERS if scale_path else [1]
    results = []
    for n in workers:
        database = LiveDatabase(f"morning{n}")
        env = server_env(database.env)
        server = None
        try:
            classes = setup(env, database.data_dir / "classes.txt")
            server = LiveServer(env, workers=n)
            # uvloop, as the server runs: the load generator shares the two cores with what it measures.
            results.append((n, uvloop.run(morning(server.url, classes, f"w{n}", server.process.pid))))
        finally:
            if server is not None:
                server.stop()
            database.drop()
    backend = "PostgreSQL + Redis" if scale_path else "SQLite, in-process layer: one worker only"
    print(f"School morning: {CLASSES} class channels of {PUPILS + 1} connected members, {RATE:.0f} msg/s offered "
          f"for {SECONDS:.0f} s ({backend})")
    print(f"{'workers':>7} {'first posts, slowest ms':>23} {'sent':>6} {'achieved/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6} {'lost':>5}")
    for n, r in results:
        print(f"{n:>7} {r['first']:>23.0f} {r['sent']:>6} {r['rate']:>10.1f} {r['p50']:>7.0f} {r['p99']:>7.0f} "
              f"{r['errors']:>6} {r['lost']:>5}")
    print()
    print("CPU while sending, % of one core (the machine has", os.cpu_count(), "cores), and ms per message sent")
    parts = list(results[0][1]["cpu"]) if results else []
    print(f"{'workers':>7} " + " ".join(f"{p:>16}" for p in parts) + f" {'total':>8}")
    for n, r in results:
        cells = [f"{100 * r['cpu'][p]:>5.0f}% {1000 * r['cpu'][p] / max(r['rate'], 1e-9):>6.1f}ms" for p in parts]
        print(f"{n:>7} " + " ".join(f"{c:>16}" for c in cells) + f" {100 * sum(r['cpu'].values()):>7.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
