"""A lesson for 4A through Janus with real WebRTC clients (issue 16, item 5).

The teacher and eight pupils are aiortc participants (a real WebRTC stack: ICE, DTLS-SRTP, VP8).
Trygg lets them in; Janus forwards. Everyone receives every publisher's video while sending only
one stream up; an uninvited person gets nothing; a removed pupil's video and reception stop; and
ending the lesson disconnects all (R-MEET-01).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.meetings.conftest import post
from tests.meetings.janus_client import JanusTestClient, data_of
from tests.meetings.sfu_media import Participant, wait_until
from tests.meetings.test_sfu import admit, janus_server, join, lesson, on_janus, pupils_of_4a  # noqa: F401
from trygg.meetings.janus_process import JanusServer

PUPILS = 8


@pytest.mark.once_in_ci
def test_issue16_r_meet_01_lesson_for_4a_with_teacher_and_8_pupils_through_janus(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any,  # noqa: F811
) -> None:
    meeting = lesson(create_meeting, person)
    mid = meeting["id"]
    usernames = ["kari.4a", *pupils_of_4a(PUPILS)]
    media = {}
    for username in usernames:
        media[username] = join(api_client, mid, username)["media"]
        if username != "kari.4a":
            admit(api_client, mid, username)
    assert all(m["kind"] == "sfu" for m in media.values())
    room = media["kari.4a"]["room"]
    # Not invited: no join (404, as for a meeting that does not exist), so no credential; and Janus
    # takes no subscriber without one.
    assert post(api_client("mor.sara"), f"/api/v1/meetings/{mid}/join").status_code == 404

    loop = asyncio.new_event_loop()
    people = [Participant(on_janus.url, room, media[u]["credential"], u, shade=40 + 20 * i)
              for i, u in enumerate(usernames)]
    try:
        async def start() -> None:
            for p in people:
                await p.publish()
            feeds = [p.feed_id for p in people]
            for p in people:
                await p.subscribe([f for f in feeds if f != p.feed_id])
            everyone = await wait_until(
                lambda: all(len([f for f, n in p.frames.items() if n > 0]) == len(people) - 1 for p in people), 60)
            assert everyone, {p.name: p.frames for p in people}

        loop.run_until_complete(start())
        # Every admitted participant receives every other publisher's video; each sends one stream up.
        for p in people:
            assert set(p.frames) == {q.feed_id for q in people if q is not p}
            assert p.upstreams() == 1

        outsider = JanusTestClient(on_janus.url).open()
        refused = data_of(outsider.request({"request": "join", "ptype": "subscriber", "room": room,
                                            "private_id": 1, "streams": [{"feed": people[0].feed_id}]}))
        assert refused.get("error_code") == 433
        outsider.close()

        removed = people[-1]
        assert post(api_client("kari.4a"), f"/api/v1/meetings/{mid}/remove",
                    {"username": removed.name}).status_code == 200
        removed_at = time.monotonic()

        async def after_remove() -> None:
            await asyncio.sleep(2.0)  # the 2 s R-MEET-18 and the issue allow
            seen = dict(removed.frames)
            others = {p.name: sum(p.frames.values()) for p in people[:-1]}
            from_removed = {p.name: p.frames.get(removed.feed_id, 0) for p in people[:-1]}
            await asyncio.sleep(1.5)
            assert removed.frames == seen, "the removed pupil still receives video"
            assert {p.name: p.frames.get(removed.feed_id, 0) for p in people[:-1]} == from_removed, \
                "the removed pupil's video still reaches the class"
            stayed = [p for p in people[:-1] if sum(p.frames.values()) > others[p.name]]
            assert len(stayed) == len(people) - 1, "the others stopped receiving"

        loop.run_until_complete(after_remove())
        assert time.monotonic() - removed_at < 10

        assert post(api_client("kari.4a"), f"/api/v1/meetings/{mid}/end").status_code == 200
        ended_at = time.monotonic()

        async def after_end() -> None:
            def destroyed(p: Participant) -> Any:
                return p.pub.wait_for(lambda e: data_of(e).get("videoroom") == "destroyed", timeout=2)

            heard = await asyncio.gather(*(asyncio.to_thread(destroyed, p) for p in people[:-1]))
            assert all(heard), "someone was not disconnected by Janus"
            assert time.monotonic() - ended_at < 2.5

        loop.run_until_complete(after_end())
    finally:
        async def close_all() -> None:
            await asyncio.gather(*(p.close() for p in people), return_exceptions=True)

        loop.run_until_complete(close_all())
        loop.close()
