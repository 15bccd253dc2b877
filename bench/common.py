"""What the benchmarks share: process figures from /proc, set-up through ``trygg manage shell``, and
an event socket that records when each new message arrives. Not a benchmark itself (``make bench``
runs ``bench_*.py``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of each part sharing the machine during a bench: the server (its process
    and every worker under it), this load generator, PostgreSQL and Redis (all their processes),
    and everything else. Two readings subtracted give what each part used in between."""
    stats = {int(p): _stat(int(p)) for p in os.listdir("/proc") if p.isdigit()}
    parent = {pid: s[1] for pid, s in stats.items() if s is not None}

    def under_server(pid: int) -> bool:
        while pid > 1:
            if pid == server_pid:
                return True
            pid = parent.get(pid, 0)
        return False

    parts = {"server": 0.0, "load generator": 0.0, "postgres": 0.0, "redis": 0.0, "other": 0.0}
    for pid, stat in stats.items():
        if stat is None:
            continue
        name, _ppid, cpu = stat
        if under_server(pid):
            parts["server"] += cpu
        elif pid == os.getpid():
            parts["load generator"] += cpu
        elif name.startswith("postgres"):
            parts["postgres"] += cpu
        elif name.startswith("redis"):
            parts["redis"] += cpu
        else:
            parts["other"] += cpu
    return parts


def status_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in KiB: ``VmRSS`` now, ``VmHWM`` its peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def server_env(base: dict[str, str], *, rate_limits: bool = False) -> dict[str, str]:
    """The environment of a benchmarked server: notices held back (they are not what is measured,
    and their worker would compete for the database), warnings only in its log, and the per-person
    send limits lifted unless ``rate_limits`` (they are there for abuse, not load; docs/security.md).
    Values already in the environment win."""
    env = dict(base)
    env.setdefault("TRYGG_NOTICE_DELAY_SECONDS", "3600")
    env.setdefault("TRYGG_LOG_LEVEL", "WARNING")
    if not rate_limits:
        env.setdefault("TRYGG_RATE_LIMITS", "off")
    return env


T = TypeVar("T")
R = TypeVar("R")


def served(label: str, setup: Callable[[dict[str, str], Path], T],
           run: Callable[[Any, T], Coroutine[Any, Any, R]]) -> R:
    """Give the bench a database of its own (seeded; PostgreSQL when DATABASE_URL is set), call
    ``setup(env, data_dir)`` against it, serve it with one ``trygg serve`` process and return what
    ``run(server, set_up)`` gives; the server stops and the database goes, whatever happens."""
    from tests.conftest import LiveDatabase, LiveServer

    database = LiveDatabase(label)
    env = server_env(database.env)
    server = None
    try:
        set_up = setup(env, database.data_dir)
        server = LiveServer(env, workers=1)
        return asyncio.run(run(server, set_up))
    finally:
        if server is not None:
            server.stop()
        database.drop()


def setting() -> str:
    """Which database and channel layer the bench ran on, for its table's title."""
    backend = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory"
    return f"{backend}, {layer} channel layer"


def shell(env: dict[str, str], script: str) -> str:
    """Run ``script`` in ``trygg manage shell`` against the bench's database; return its output."""
    out = subprocess.run([sys.executable, "-m", "trygg.cli", "manage", "shell", "-c", script],
                         env=env, cwd=REPO, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return out.stdout


def http_client(url: str, *, connections: int, seconds: float,
                headers: dict[str, str] | None = None) -> aiohttp.ClientSession:
    """The load generator's HTTP client: aiohttp, as the peer harness uses, with at most
    ``connections`` kept open to ``url`` and ``seconds`` for a whole request.

    Not httpx: the load generator shares the machine's two cores with the server it measures, and
    httpx spent about a millisecond of CPU per request, most of it in its pool and in a failed
    import of ``sniffio`` on every request (py-spy, docs/scaling.md round nine). In
    ``bench_phases`` the client, not the server, set the long-poll figures.
    """
    return aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=connections),
                                 timeout=aiohttp.ClientTimeout(total=seconds), headers=headers)


class Listener:
    """One ``/ws/events`` socket signed in by token; ``seen`` maps each new message's id to the
    moment it arrived (of one conversation, or of any)."""

    def __init__(self, conversation_id: int | None = None) -> None:
        self.conversation_id = conversation_id
        self.seen: dict[int, float] = {}

    async def run(self, netloc: str, token: str, ready: asyncio.Event) -> None:
        async with connect(f"ws://{netloc}/ws/events", origin=f"http://{netloc}", max_queue=None,
                           open_timeout=60) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "resume", "after": None}))
            ready.set()
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message.new" and self.conversation_id in (None, frame.get("conversation_id")):
                    self.seen[frame["message"]["id"]] = time.perf_counter()
