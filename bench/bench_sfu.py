"""Benchmark: class video through Janus (the SFU) against the peer-to-peer mesh (issue 16, item 6).

SFU: a real ``trygg serve`` and a Janus of its own (both started here). A parent meeting of 9B is
called by ola.9b; for each size N the organiser and N-1 guardians join with aiortc clients (a real
WebRTC stack) publishing one small synthetic video each (160×120, 10 frames/s), through Trygg's
lobby: join → let in → Janus accepts the credential. Every participant receives the teacher's
video; the last ``BENCH_SFU_FULL`` participants (default 3) receive every publisher, as a laptop
with the whole grid would. Decoding 29 videos in 30 Python clients is more than two cores can do
besides the server, so the others watch the teacher only, as a phone showing the speaker does.
Measured over ``BENCH_SECONDS`` once all are in:

* Janus' CPU time per forwarded stream (its process' user+system time from /proc, divided by the
  streams it forwards: the sum over subscribers of the feeds each receives), in % of one core;
* each participant's upstream bitrate (bytes sent by its publisher connection);
* the join time from "let in" (the admit call) to the first decoded frame of the teacher's video.

Mesh, for comparison: N aiortc peers connected pairwise in this process (signalling handed over
directly; Trygg's relay is measured by the meetings tests), each sending its video to every other.
Measured up to ``BENCH_MESH_MAX`` (default 10); above it the table shows the mesh computed from the
measured per-stream figures, and says so.

It prints a table and asserts nothing. Run: ``.venv/bin/python bench/bench_sfu.py``
(``BENCH_SFU_SIZES=10,20,30``, ``BENCH_MESH_SIZES=4,10``). Needs Debian's ``janus``. The figures
are only meaningful on a quiet machine.
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
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import cpu_seconds  # noqa: E402
from tests.conftest import LiveDatabase, LiveServer  # noqa: E402
from tests.meetings.sfu_media import Participant as SfuParticipant  # noqa: E402
from tests.meetings.sfu_media import SmallVideo, wait_until  # noqa: E402

from trygg.meetings.janus_process import JanusServer, start_janus  # noqa: E402

SFU_SIZES = [int(n) for n in os.environ.get("BENCH_SFU_SIZES", "10,20,30").split(",")]
MESH_SIZES = [int(n) for n in os.environ.get("BENCH_MESH_SIZES", "4,10").split(",")]
MESH_MAX = int(os.environ.get("BENCH_MESH_MAX", "10"))
FULL = int(os.environ.get("BENCH_SFU_FULL", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ORGANISER = "ola.9b"


async def bytes_sent(pc: RTCPeerConnection | None) -> int:
    if pc is None:
        return 0
    report = await pc.getStats()
    return sum(getattr(s, "bytesSent", 0) for s in report.values() if s.type == "outbound-rtp")


class Api:
    def __init__(self, base: str) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=30)
        self.tokens: dict[str, str] = {}

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            r = await self.client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
            r.raise_for_status()
            self.tokens[username] = r.json()["token"]
        return self.tokens[username]

    async def call(self, username: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {await self.token(username)}"}
        r = await self.client.request(method, path, json=body, headers=headers)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} as {username}: {r.status_code} {r.text[:300]}")
        return r.json()


async def sfu_round(api: Api, janus: JanusServer, size: int) -> dict[str, float]:
    classes = await api.call(ORGANISER, "GET", "/api/v1/classes")
    class_id = next(c["id"] for c in classes if c["name"] == "9B")
    meeting = await api.call(ORGANISER, "POST", "/api/v1/meetings", {
        "kind": "parent_meeting", "class_id": class_id, "title": "Foreldremøte 9B",
        "invitation_text": "Velkommen til foreldremøte.", "starts_at": "2030-01-07T18:00:00+01:00",
    })
    mid = meeting["id"]
    others = [p["username"] for p in meeting["participants"] if p.get("username") and p["username"] != ORGANISER]
    if len(others) < size - 1:
        raise RuntimeError(f"9B's parent meeting has only {len(others) + 1} people; cannot measure {size}")
    media = (await api.call(ORGANISER, "POST", f"/api/v1/meetings/{mid}/join"))["media"]
    if media["kind"] != "sfu":
        raise RuntimeError(f"the meeting is not on the SFU: {media}")
    teacher = SfuParticipant(janus.url, media["room"], media["credential"], ORGANISER, shade=200)
    await teacher.publish()
    people = [teacher]
    joins: list[float] = []
    usernames = others[: size - 1]
    for index, username in enumerate(usernames):
        answer = await api.call(username, "POST", f"/api/v1/meetings/{mid}/join")
        admitted_at = time.monotonic()
        await api.call(ORGANISER, "POST", f"/api/v1/meetings/{mid}/admit", {"username": username})
        person = SfuParticipant(janus.url, answer["media"]["room"], answer["media"]["credential"], username,
                                shade=20 + 7 * index)
        await person.publish()
        full = index >= len(usernames) - FULL
        feeds = [p.feed_id for p in people] if full else [teacher.feed_id]
        await person.subscribe(feeds)
        if not await wait_until(lambda p=person: teacher.feed_id in p.first_frame_at, 30, 0.01):
            raise RuntimeError(f"{username} received no video from the teacher")
        joins.append(person.first_frame_at[teacher.feed_id] - admitted_at)
        people.append(person)
    # The teacher sees the whole class too.
    await teacher.subscribe([p.feed_id for p in people[1:]])
    await wait_until(lambda: len(teacher.frames) == len(people) - 1, 30)
    forwarded = sum(len(p.mid_to_feed) for p in people)
    await asyncio.sleep(2)  # settle
    pid = janus.process.pid if janus.process else 0
    cpu0, sent0, t0 = cpu_seconds(pid), [await bytes_sent(p.pc_pub) for p in people], time.monotonic()
    await asyncio.sleep(SECONDS)
    cpu1, sent1, t1 = cpu_seconds(pid), [await bytes_sent(p.pc_pub) for p in people], time.monotonic()
    upstream = [(b - a) * 8 / (t1 - t0) / 1000 for a, b in zip(sent0, sent1, strict=True)]
    cpu_share = (cpu1 - cpu0) / (t1 - t0) * 100
    await asyncio.gather(*(p.close() for p in people), return_exceptions=True)
    await api.call(ORGANISER, "POST", f"/api/v1/meetings/{mid}/end")
    return {
        "size": size, "forwarded": forwarded, "cpu_pct": cpu_share, "cpu_per_stream": cpu_share / max(forwarded, 1),
        "up_kbps": statistics.median(upstream), "join_ms": statistics.median(joins) * 1000,
        "join_max_ms": max(joins) * 1000,
    }


class MeshPeer:
    def __init__(self, index: int) -> None:
        self.index = index
        self.pcs: list[RTCPeerConnection] = []
        self.first_frame: dict[int, float] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def read(self, track: MediaStreamTrack, other: int) -> None:
        try:
            while True:
                await track.recv()
                self.first_frame.setdefault(other, time.monotonic())
        except MediaStreamError:
            return


async def mesh_round(size: int) -> dict[str, float]:
    peers = [MeshPeer(i) for i in range(size)]
    joins: list[float] = []
    process0 = time.process_time()
    for newcomer in peers:
        started = time.monotonic()
        for other in peers[: newcomer.index]:
            a, b = RTCPeerConnection(), RTCPeerConnection()
            a.addTrack(SmallVideo(newcomer.index * 9))
            b.addTrack(SmallVideo(other.index * 9))
            a.on("track", lambda t, me=newcomer, o=other.index: me.tasks.append(asyncio.ensure_future(me.read(t, o))))
            b.on("track", lambda t, me=other, o=newcomer.index: me.tasks.append(asyncio.ensure_future(me.read(t, o))))
            await a.setLocalDescription(await a.createOffer())
            await b.setRemoteDescription(a.localDescription)
            await b.setLocalDescription(await b.createAnswer())
            await a.setRemoteDescription(b.localDescription)
            newcomer.pcs.append(a)
            other.pcs.append(b)
        if newcomer.index:
            if not await wait_until(lambda n=newcomer: len(n.first_frame) == n.index, 30, 0.01):
                raise RuntimeError("a mesh peer received no video")
            joins.append(max(newcomer.first_frame.values()) - started)
    await asyncio.sleep(2)
    sent0 = [sum([await bytes_sent(pc) for pc in p.pcs]) for p in peers]
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(SECONDS)
    sent1 = [sum([await bytes_sent(pc) for pc in p.pcs]) for p in peers]
    cpu1, t1 = time.process_time(), time.monotonic()
    del process0
    upstream = [(b - a) * 8 / (t1 - t0) / 1000 for a, b in zip(sent0, sent1, strict=True)]
    for p in peers:
        for task in p.tasks:
            task.cancel()
        for pc in p.pcs:
            await pc.close()
    streams = size * (size - 1)
    return {"size": size, "streams": streams, "cpu_pct": (cpu1 - cpu0) / (t1 - t0) * 100,
            "up_kbps": statistics.median(upstream), "join_ms": statistics.median(joins) * 1000 if joins else 0.0}


async def main() -> None:
    print(f"Streams: {160}x{120} VP8 at 10 fps, synthetic; window {SECONDS:.0f} s per size; "
          f"{os.cpu_count()} cores; the clients run on the same machine as Janus.")
    janus = start_janus()
    database = LiveDatabase("bench-sfu")
    server = LiveServer({**database.env, "TRYGG_JANUS_URL": janus.url, "TRYGG_JANUS_ADMIN_KEY": janus.admin_key})
    api = Api(server.url)
    rows = []
    try:
        for size in SFU_SIZES:
            rows.append(await sfu_round(api, janus, size))
            print(f"  sfu {size} done", flush=True)
        mesh = [await mesh_round(size) for size in MESH_SIZES if size <= MESH_MAX]
    finally:
        await api.client.aclose()
        server.stop()
        database.drop()
        janus.stop()
    print()
    print("SFU (Janus VideoRoom), measured with real aiortc clients")
    print(f"{'people':>6} {'forwarded':>9} {'Janus CPU':>10} {'CPU/stream':>11} {'upstream':>10} "
          f"{'join p50':>9} {'join max':>9}")
    for r in rows:
        print(f"{r['size']:>6} {r['forwarded']:>9} {r['cpu_pct']:>9.1f}% {r['cpu_per_stream']:>10.3f}% "
              f"{r['up_kbps']:>7.0f} kb/s {r['join_ms']:>6.0f} ms {r['join_max_ms']:>6.0f} ms")
    print()
    print("Mesh (peer to peer), measured up to", MESH_MAX, "then computed from the measured per-stream figures")
    print(f"{'people':>6} {'streams':>8} {'client CPU':>11} {'upstream':>10} {'join':>8}  how")
    per_stream_up = statistics.median([m["up_kbps"] / max(m["size"] - 1, 1) for m in mesh]) if mesh else 0.0
    per_stream_cpu = statistics.median([m["cpu_pct"] / max(m["streams"], 1) for m in mesh]) if mesh else 0.0
    for m in mesh:
        print(f"{m['size']:>6} {m['streams']:>8} {m['cpu_pct']:>10.1f}% {m['up_kbps']:>7.0f} kb/s "
              f"{m['join_ms']:>5.0f} ms  measured")
    for size in sorted({*SFU_SIZES, 20, 30} - {m["size"] for m in mesh}):
        if size <= MESH_MAX:
            continue
        streams = size * (size - 1)
        print(f"{size:>6} {streams:>8} {per_stream_cpu * streams:>10.1f}% {per_stream_up * (size - 1):>7.0f} kb/s "
              f"{'–':>8}  computed, not measured")
    if rows:
        per = statistics.median([r["cpu_per_stream"] for r in rows])
        print()
        print(f"Janus forwards one stream for about {per:.3f}% of one core here: a 4-core server at 70% "
              f"would forward about {int(4 * 70 / per) if per else 0} such streams "
              f"(≈ {int(4 * 70 / per / 30 / 29) if per else 0} full-grid classes of 30, or "
              f"{int(4 * 70 / per / 29) if per else 0} classes of 30 watching their teacher).")


if __name__ == "__main__":
    asyncio.run(main())
