"""The meeting socket on the SFU path (issue 16): Janus ids in the roster, the teacher's mute, and
a Janus restart reported to everyone instead of a frozen picture (the organiser's socket notices
at its re-check that the server lost the room)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.meetings.test_consumers import as_person, closed_code, connect, join, next_of
from trygg.directory.models import Person
from trygg.meetings import actions, sfu
from trygg.meetings.janus_process import JanusServer, start_janus
from trygg.meetings.models import SfuRoom, digest_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.once_in_ci]


@pytest.fixture(scope="module")
def janus_server() -> Iterator[JanusServer]:
    server = start_janus()
    yield server
    server.stop()


@pytest.fixture
def on_janus(settings: Any, janus_server: JanusServer) -> JanusServer:
    settings.TRYGG_JANUS_URL = [janus_server.url]
    settings.TRYGG_JANUS_PUBLIC_URL = []
    settings.TRYGG_JANUS_ADMIN_KEY = janus_server.admin_key
    settings.TRYGG_MEETING_RECHECK_SECONDS = 0.5
    return janus_server


@database_sync_to_async
def setup_lesson() -> int:
    kari = Person.objects.get(username="kari.4a")
    class_id = sorted(kari.facts.contact_class_ids)[0]
    meeting = actions.check_create_meeting(kari, "lesson", "2026-12-01T10:00:00+01:00", "Matte", "Velkommen.",
                                           class_id=class_id)
    return meeting.pk


@database_sync_to_async
def lose_room(meeting_id: int) -> None:
    room = SfuRoom.objects.get(meeting_id=meeting_id, destroyed_at__isnull=True)
    sfu.JanusApi(room.server_url).videoroom({"request": "destroy", "room": room.janus_room, "secret": room.secret})


async def test_issue16_sfu_ids_moderation_and_a_janus_restart_reach_the_sockets(demo, on_janus) -> None:
    meeting_id = await setup_lesson()
    kari_bearer, kari_join, _kari_id = await join("kari.4a", meeting_id)
    emma_bearer, emma_join, emma_id = await join("emma.4a", meeting_id)
    kari = await connect(meeting_id, kari_bearer, kari_join)
    me = (await next_of(kari, "admitted"))["me"]
    assert me["sfu_id"] == sfu.credential_for(digest_of(kari_join))[0]
    emma = await connect(meeting_id, emma_bearer, emma_join)
    await next_of(emma, "lobby")
    await as_person(actions.check_admit, "kari.4a", meeting_id, "emma.4a")
    await next_of(emma, "admitted")
    # Names for the Janus feeds come from Trygg: the teacher learns Emma's participant id here.
    joined = await next_of(kari, "peer_joined")
    assert joined["peer"]["id"] == emma_id and isinstance(joined["peer"]["sfu_id"], int)

    await as_person(actions.check_moderate, "kari.4a", meeting_id, "emma.4a", False, None)
    assert (await next_of(emma, "moderated")) == {"type": "moderated", "audio": False, "video": None}

    await lose_room(meeting_id)
    assert (await next_of(kari, "closed", timeout=5))["reason"] == "media_restarted"
    assert (await next_of(emma, "closed", timeout=5))["reason"] == "media_restarted"
    assert await closed_code(emma) == 4413
    await kari.disconnect()
    await emma.disconnect()
