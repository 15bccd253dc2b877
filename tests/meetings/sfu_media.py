"""Real WebRTC participants of a Janus VideoRoom, made with aiortc (issue 16): for the media test and
``bench/bench_sfu.py``.

Each participant does what ``sfu.js`` does in a browser: it joins as a publisher with the
credential Trygg gave it, publishes one small synthetic video (one upstream), and subscribes to
every other publisher in one subscriber connection (Janus multistream), counting decoded frames
per publisher.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tests.meetings.janus_client import JanusTestClient, data_of, participant_of

FPS = 10
WIDTH, HEIGHT = 160, 120
CLOCK = 90_000


class SmallVideo(MediaStreamTrack):
    """A 160×120 picture at 10 frames a second: a phone's low layer, cheap to encode on 2 cores."""

    kind = "video"

    def __init__(self, shade: int) -> None:
        super().__init__()
        self.luma = bytearray([shade % 256]) * (WIDTH * HEIGHT)
        self.chroma = bytes([128]) * (WIDTH * HEIGHT // 4)
        self.count = 0
        self.started: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.started is None:
            self.started = time.monotonic()
        self.count += 1
        wait = self.started + self.count / FPS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # A moving stripe, so every frame differs and the encoder really works.
        column = (self.count * 4) % WIDTH
        for row in range(HEIGHT):
            self.luma[row * WIDTH + column] ^= 0xFF
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(bytes(self.luma))
        frame.planes[1].update(self.chroma)
        frame.planes[2].update(self.chroma)
        frame.pts = self.count * (CLOCK // FPS)
        frame.time_base = fractions.Fraction(1, CLOCK)
        return frame


class Participant:
    """One person in the room: a publisher connection and a subscriber connection."""

    def __init__(self, url: str, room: int, credential: str, name: str, shade: int = 128) -> None:
        self.url, self.room, self.credential, self.name, self.shade = url, room, credential, name, shade
        self.feed_id = participant_of(credential)
        self.private_id = 0
        self.pub = JanusTestClient(url)
        self.sub = JanusTestClient(url)
        self.pc_pub: RTCPeerConnection | None = None
        self.pc_sub: RTCPeerConnection | None = None
        self.frames: dict[int, int] = {}
        self.first_frame_at: dict[int, float] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.mid_to_feed: dict[str, int] = {}

    async def publish(self) -> None:
        await asyncio.to_thread(self.pub.open)
        joined = await asyncio.to_thread(self.pub.join, self.room, self.credential, self.feed_id)
        if joined.get("videoroom") != "joined":
            raise PermissionError(f"Janus refused {self.name}: {joined}")
        self.private_id = joined["private_id"]
        pc = self.pc_pub = RTCPeerConnection()
        pc.addTrack(SmallVideo(self.shade))
        await pc.setLocalDescription(await pc.createOffer())
        answer = await asyncio.to_thread(
            self.pub.request, {"request": "publish", "video": True, "audio": False}, 10.0,
            {"type": "offer", "sdp": pc.localDescription.sdp},
        )
        jsep = answer.get("jsep")
        if not jsep:
            raise PermissionError(f"Janus did not take {self.name}'s video: {data_of(answer)}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type=jsep["type"]))
        # Janus offers a feed to subscribers once its media flows: wait for the connection.
        if not await wait_until(lambda: pc.connectionState == "connected", 20):
            raise TimeoutError(f"{self.name}'s video did not connect to Janus")

    async def subscribe(self, feeds: list[int]) -> None:
        await asyncio.to_thread(self.sub.open)
        offer = await asyncio.to_thread(
            self.sub.request,
            {"request": "join", "ptype": "subscriber", "room": self.room, "private_id": self.private_id,
             "streams": [{"feed": f} for f in feeds]},
            10.0,
        )
        data = data_of(offer)
        if "jsep" not in offer:
            raise PermissionError(f"Janus refused {self.name}'s subscription: {data}")
        self.mid_to_feed = {s["mid"]: s["feed_id"] for s in data.get("streams", []) if s.get("feed_id")}
        pc = self.pc_sub = RTCPeerConnection()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.readers.append(asyncio.ensure_future(self._read(track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["jsep"]["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await asyncio.to_thread(self.sub.request, {"request": "start"}, 10.0,
                                {"type": "answer", "sdp": pc.localDescription.sdp})

    async def _read(self, track: MediaStreamTrack) -> None:
        feed = None
        assert self.pc_sub is not None
        for transceiver in self.pc_sub.getTransceivers():
            if transceiver.receiver.track is track:
                feed = self.mid_to_feed.get(transceiver.mid)
        key = feed if feed is not None else id(track)
        try:
            while True:
                await track.recv()
                self.frames[key] = self.frames.get(key, 0) + 1
                self.first_frame_at.setdefault(key, time.monotonic())
        except MediaStreamError:
            return

    def upstreams(self) -> int:
        """How many media streams this participant sends: senders with a track on any connection."""
        return sum(1 for pc in (self.pc_pub, self.pc_sub) if pc for s in pc.getSenders() if s.track is not None)

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        for pc in (self.pc_pub, self.pc_sub):
            if pc is not None:
                await pc.close()
        await asyncio.to_thread(self.pub.close)
        await asyncio.to_thread(self.sub.close)


async def wait_until(check: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(step)
    return bool(check())
