"""Benchmark: the peer harness's phases against Trygg alone, with the server's CPU per send and per
delivery (issue 15, item 1).

One closed group of 31 (``ola.9b`` and 30 guardians of 9B, as the peer harness makes it) on a real
``trygg serve``, one process:

* **a1**: 5 members send ``BENCH_PHASE_MESSAGES`` (default 100) messages each, each waiting for its
  answer, nobody listening: messages a second, and server CPU per message sent.
* **a2**: the same while all 30 members long-poll ``GET /api/v1/events``: messages a second, server
  CPU per message, and per delivery (each message reaches 30 people).
* **b**: the teacher sends ``BENCH_LATENCY_MESSAGES`` (default 100) messages one at a time; for each,
  the time until the last of the 30 has it, over long-poll and over ``/ws/events``.

For Synapse beside it, run ``../shared/peer-bench/`` (the same phases through one harness). Uses
DATABASE_URL / REDIS_URL if set; prints a table and asserts nothing.
Run: ``.venv/bin/python bench/bench_phases.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import Listener, cpu_seconds, http_client, served, setting, shell  # noqa: E402

SENDERS = 5
RECEIVERS = 30
PHASE_MESSAGES = int(os.environ.get("BENCH_PHASE_MESSAGES", "100"))
LATENCY_MESSAGES = int(os.environ.get("BENCH_LATENCY_MESSAGES", "100"))

SETUP = """
from trygg.directory.models import ApiToken, Person
from trygg.messaging.actions import check_create_conversation
from trygg.messaging.models import Conversation
from trygg.messaging.queries import list_members
channel = Conversation.objects.get(kind="guardians", school_class__name="9B")
adults = sorted((p for p in list_members(channel) if p.is_active and p.facts.is_adult and not p.facts.is_staff_member),
                key=lambda p: p.username)[:30]
teacher = Person.objects.get(username='ola.9b')
group = check_create_conversation(teacher, 'group', 'Bench', [p.username for p in adults]).conversation
print(group.pk, ApiToken.issue(teacher)[1], ' '.join(ApiToken.issue(p)[1] for p in adults))
"""


def p99(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("nan")


class LongPoller:
    """One member long-polling for new messages, as the peer harness's receivers do."""

    def __init__(self, client: aiohttp.ClientSession, token: str, start: int) -> None:
        self.client, self.headers, self.after = client, {"Authorization": f"Bearer {token}"}, start
        self.seen: dict[int, float] = {}
        # What went wrong, by kind: a poller that died of it silently made every later message
        # wait out its 10 s in phase b, and the run took 17 minutes with no word why.
        self.errors: Counter[str] = Counter()

    async def run(self) -> None:
        while True:
            try:
                async with self.client.get("/api/v1/events", params={"after": self.after, "timeout": 25},
                                           headers=self.headers) as response:
                    if response.status != 200:
                        self.errors[f"HTTP {response.status}"] += 1
                        await asyncio.sleep(0.1)
                        continue
                    body = await response.json()
                    now = time.perf_counter()
            except aiohttp.ClientError as exc:
                self.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.1)  # polls again, as a client does
                continue
            for event in body["events"]:
                if event["type"] == "message.new":
                    self.seen[event["message"]["id"]] = now
            self.after = body["last"]


async def send_many(client: aiohttp.ClientSession, conversation: int, tokens: list[str], count: int,
                    label: str) -> int:
    async def one_sender(index: int, token: str) -> int:
        sent = 0
        for n in range(count):
            async with client.post(f"/api/v1/conversations/{conversation}/messages",
                                   headers={"Authorization": f"Bearer {token}"},
                                   json={"body": f"Melding {n}", "client_txn_id": f"{label}-{index}-{n}"}) as response:
                sent += response.status == 201
        return sent

    return sum(await asyncio.gather(*(one_sender(i, t) for i, t in enumerate(tokens))))


async def phases(url: str, conversation: int, teacher: str, members: list[str], pid: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with http_client(url, connections=100, seconds=60) as client:
        senders = members[:SENDERS]
        # a1: nobody listening.
        cpu, t0 = cpu_seconds(pid), time.perf_counter()
        sent = await send_many(client, conversation, senders, PHASE_MESSAGES, "a1")
        seconds = time.perf_counter() - t0
        out["a1_rate"], out["a1_cpu"] = sent / seconds, (cpu_seconds(pid) - cpu) * 1000 / max(sent, 1)
        # a2: the 30 long-poll meanwhile.
        async with client.get("/api/v1/events", params={"after": 0, "timeout": 0},
                              headers={"Authorization": f"Bearer {members[0]}"}) as response:
            start = (await response.json())["last"]
        pollers = [LongPoller(client, token, 0) for token in members[:RECEIVERS]]
        for poller in pollers:
            async with client.get("/api/v1/events", params={"after": start, "timeout": 0},
                                  headers=poller.headers) as response:
                poller.after = (await response.json())["last"]
        tasks = [asyncio.create_task(p.run()) for p in pollers]
        await asyncio.sleep(0.5)
        cpu, t0 = cpu_seconds(pid), time.perf_counter()
        sent = await send_many(client, conversation, senders, PHASE_MESSAGES, "a2")
        seconds = time.perf_counter() - t0
        out["a2_rate"], out["a2_cpu"] = sent / seconds, (cpu_seconds(pid) - cpu) * 1000 / max(sent, 1)
        # b over long-poll: one at a time, each until the last of the 30 has it.
        out["b_poll_p50"], out["b_poll_p99"], out["b_poll_late"] = await latency(
            client, conversation, teacher, pollers, "bp")
        for task in tasks:
            task.cancel()
        out["poll_errors"] = sum((p.errors for p in pollers), Counter())
        # b over /ws/events.
        netloc = url.split("//", 1)[1]
        listeners = [Listener(conversation) for _ in members[:RECEIVERS]]
        readies = [asyncio.Event() for _ in listeners]
        sockets = [asyncio.create_task(li.run(netloc, t, r))
                   for li, t, r in zip(listeners, members, readies, strict=False)]
        await asyncio.gather(*(r.wait() for r in readies))
        cpu = cpu_seconds(pid)
        out["b_ws_p50"], out["b_ws_p99"], out["b_ws_late"] = await latency(
            client, conversation, teacher, listeners, "bw")
        out["b_ws_cpu"] = (cpu_seconds(pid) - cpu) * 1000 / LATENCY_MESSAGES
        for task in sockets:
            task.cancel()
    return out


async def latency(client: aiohttp.ClientSession, conversation: int, teacher: str, receivers: list,
                  label: str) -> tuple[float, float, int]:
    """Median and p99 of the time until the last receiver has a message, and how many messages
    some receiver still lacked after 10 s (left out of the two figures)."""
    times = []
    for n in range(LATENCY_MESSAGES):
        t0 = time.perf_counter()
        async with client.post(f"/api/v1/conversations/{conversation}/messages",
                               headers={"Authorization": f"Bearer {teacher}"},
                               json={"body": f"Hei {n}", "client_txn_id": f"{label}-{n}"}) as response:
            message_id = (await response.json())["id"]
        deadline = t0 + 10
        while not all(message_id in r.seen for r in receivers) and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        arrivals = [r.seen.get(message_id) for r in receivers]
        if all(a is not None for a in arrivals):
            times.append((max(arrivals) - t0) * 1000)
    return statistics.median(times) if times else float("nan"), p99(times), LATENCY_MESSAGES - len(times)


def main() -> int:
    def setup(env: dict[str, str], _data_dir: Path) -> list[str]:
        return shell(env, SETUP).strip().splitlines()[-1].split()

    async def run(server: Any, set_up: list[str]) -> dict[str, Any]:
        conversation, teacher, *members = set_up
        return await phases(server.url, int(conversation), teacher, members, server.process.pid)

    result = served("bench", setup, run)
    print(f"Peer-shaped phases, a group of 31, one process ({setting()})")
    print(f"{'phase':<44} {'figure':>10} {'CPU ms/msg':>10} {'CPU ms/delivery':>15}")
    print(f"{'a1 send, 5 senders, nobody listening (msg/s)':<44} {result['a1_rate']:>10.1f} "
          f"{result['a1_cpu']:>10.2f} {'-':>15}")
    print(f"{'a2 the same, 30 long-polling (msg/s)':<44} {result['a2_rate']:>10.1f} "
          f"{result['a2_cpu']:>10.2f} {result['a2_cpu'] / RECEIVERS:>15.3f}")
    print(f"{'b long-poll delivery p50 / p99 (ms)':<44} {result['b_poll_p50']:>5.0f} /{result['b_poll_p99']:>4.0f}")
    print(f"{'b /ws/events delivery p50 / p99 (ms)':<44} {result['b_ws_p50']:>5.0f} /{result['b_ws_p99']:>4.0f} "
          f"{result['b_ws_cpu']:>10.2f} {result['b_ws_cpu'] / RECEIVERS:>15.3f}")
    late = {"long-poll": result["b_poll_late"], "/ws/events": result["b_ws_late"]}
    if any(late.values()) or result["poll_errors"]:
        print(f"not at every receiver within 10 s: {late}; long-poll errors: {dict(result['poll_errors'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
