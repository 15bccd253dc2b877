"""Benchmark: an announcement to 1,000 guardians' open sockets (issue 15, item 1).

A real ``trygg serve`` (one process) on a database of its own. A class "9Z" of 500 pupils with two
guardians each is added to the demo school with ola.9b as its teacher; its guardians' channel then
holds 1,000 guardians and the teacher. Every guardian has an open ``/ws/events`` socket (token auth in
the first frame, then ``resume``). The teacher posts ``BENCH_ANNOUNCEMENTS`` announcements (default 11)
one at a time; for each, the time from the start of the POST to the moment the last of the 1,000
sockets has it. The first announcement is reported on its own: it is the one that used to pay for
loading the channel's facts.

It prints a table and asserts nothing. Run: ``.venv/bin/python bench/bench_announcement.py``
(``BENCH_GUARDIANS=1000``; uses DATABASE_URL / REDIS_URL if set).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Listener, served, setting, shell  # noqa: E402

GUARDIANS = int(os.environ.get("BENCH_GUARDIANS", "1000"))
ANNOUNCEMENTS = int(os.environ.get("BENCH_ANNOUNCEMENTS", "11"))
SENDER = "ola.9b"

# Tokens are issued directly: 1,000 password sign-ins would measure Argon2, not the announcement
# (bench_signin measures sign-ins).
SETUP = """
from trygg.directory.models import (ApiToken, Enrollment, Guardianship, Person, SchoolClass,
                                    TeachingAssignment, TeachingKind)
from trygg.messaging.actions import ensure_class_channels
teacher = Person.objects.get(username='ola.9b')
school = SchoolClass.objects.get(name='9B').school
big = SchoolClass.objects.create(school=school, name='9Z', grade=9)
TeachingAssignment.objects.create(teacher=teacher, school_class=big, kind=TeachingKind.CONTACT)
pairs = GUARDIANS // 2
pupils = Person.objects.bulk_create([
    Person(username=f'elev{i}.9z', name=f'Elev {i}', municipality=teacher.municipality) for i in range(pairs)
])
guardians = Person.objects.bulk_create([
    Person(username=f'foresatt{i}.9z', name=f'Foresatt {i}', municipality=teacher.municipality)
    for i in range(pairs * 2)
])
Enrollment.objects.bulk_create([Enrollment(pupil=p, school_class=big) for p in pupils])
Guardianship.objects.bulk_create([
    Guardianship(guardian=g, pupil=pupils[i // 2], parental_responsibility=True) for i, g in enumerate(guardians)
])
_, channel = ensure_class_channels(big)
with open(TOKENS_FILE, 'w') as out:
    out.write(str(channel.pk) + '\\n')
    for g in guardians:
        out.write(ApiToken.issue(g)[1] + '\\n')
"""


def setup(env: dict[str, str], tokens_file: Path) -> tuple[int, list[str]]:
    script = f"GUARDIANS = {GUARDIANS}\nTOKENS_FILE = {str(tokens_file)!r}\n" + SETUP
    shell(env, script)
    lines = tokens_file.read_text().split()
    return int(lines[0]), lines[1:]


async def bench(url: str, conversation_id: int, tokens: list[str]) -> tuple[list[float], int, float]:
    netloc = url.split("//", 1)[1]
    listeners = [Listener(conversation_id) for _ in tokens]
    readies = [asyncio.Event() for _ in tokens]
    tasks = []
    opened = time.perf_counter()
    # In batches: the server limits how many unauthenticated sockets one address may hold at once.
    for start in range(0, len(tokens), 100):
        batch = range(start, min(start + 100, len(tokens)))
        tasks += [asyncio.create_task(listeners[i].run(netloc, tokens[i], readies[i])) for i in batch]
        await asyncio.gather(*(readies[i].wait() for i in batch))
    opened = time.perf_counter() - opened
    latencies = []
    lost = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        response = await client.post("/api/v1/auth/token", json={"username": SENDER, "password": "demo"})
        response.raise_for_status()
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        for i in range(ANNOUNCEMENTS):
            t0 = time.perf_counter()
            response = await client.post(f"/api/v1/conversations/{conversation_id}/messages",
                                         json={"body": f"Beskjed til alle foresatte {i}", "client_txn_id": f"a{i}"})
            response.raise_for_status()
            message_id = response.json()["id"]
            deadline = t0 + 30
            while time.perf_counter() < deadline and not all(message_id in li.seen for li in listeners):
                await asyncio.sleep(0.005)
            arrivals = [li.seen.get(message_id) for li in listeners]
            if any(a is None for a in arrivals):
                lost += sum(a is None for a in arrivals)
                latencies.append(float("nan"))
            else:
                latencies.append((max(arrivals) - t0) * 1000)
    dropped = sum(task.done() for task in tasks)
    for task in tasks:
        task.cancel()
    return latencies, lost + dropped, opened


def main() -> int:
    async def run(server: Any, set_up: tuple[int, list[str]]) -> tuple[list[float], int, float, int]:
        conversation_id, tokens = set_up
        return (*await bench(server.url, conversation_id, tokens), len(tokens))

    latencies, lost, opened, sockets = served(
        "announce", lambda env, data_dir: setup(env, data_dir / "tokens.txt"), run)
    later = sorted(latencies[1:])
    print(f"Announcement to {sockets} guardians' sockets, one process ({setting()}); "
          f"{sockets} sockets opened in {opened:.1f} s")
    print(f"{'announcement':>14} {'to last socket ms':>18}")
    print(f"{'first':>14} {latencies[0]:>18.0f}")
    if later:
        p99 = later[min(len(later) - 1, int(len(later) * 0.99))]
        print(f"{'later, p50':>14} {statistics.median(later):>18.0f}")
        print(f"{'later, p99':>14} {p99:>18.0f}")
    print(f"lost or dropped: {lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
