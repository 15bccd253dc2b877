"""In a video lesson, a protected pupil is "a pupil" to classmates and named to the teacher
(issue 11, item 5; R-LIST-05): the room's tiles (peer frames), its chat and the chat's events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.meetings.test_consumers import as_person, connect, join, next_of
from trygg.directory.models import Person, SchoolClass
from trygg.events.log import events_after
from trygg.meetings import actions

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {"a pupil", "en elev"}


@database_sync_to_async
def setup_lesson() -> dict[str, Any]:
    ola = Person.objects.get(username="ola.9b")
    nine_b = SchoolClass.objects.get(name="9B")
    meeting = actions.check_create_meeting(ola, "lesson", "2026-12-01T10:00:00+01:00", "Undervisning",
                                           "Velkommen.", class_id=nine_b.pk)
    return {"id": meeting.pk}


@database_sync_to_async
def chat_frames(username: str) -> list[dict[str, Any]]:
    person = Person.objects.get(username=username)
    return [f for f in events_after(person.pk, 0) if f["type"] == "meeting.chat"]


async def admitted(meeting_id: int, username: str) -> tuple[Any, int]:
    bearer, token, pid = await join(username, meeting_id)
    ws = await connect(meeting_id, bearer, token)
    await next_of(ws, "lobby")
    await as_person(actions.check_admit, "ola.9b", meeting_id, username)
    await next_of(ws, "admitted")
    return ws, pid


async def test_r_list_05_a_protected_pupil_is_a_pupil_on_classmates_tiles_and_chat(demo) -> None:
    lesson = await setup_lesson()
    bearer, token, _ola_id = await join("ola.9b", lesson["id"])
    ola = await connect(lesson["id"], bearer, token)
    await next_of(ola, "admitted")
    await as_person(actions.check_confirm_guidelines, "ola.9b", lesson["id"])
    sara, _sara_id = await admitted(lesson["id"], "sara.9b")
    ali, ali_id = await admitted(lesson["id"], "ali.9b")
    # Tiles: the teacher sees the name, the classmate "a pupil"; the id stays for the signalling.
    assert (await next_of(ola, "peer_joined"))["peer"]["name"] == "Sara Dahle"
    # (A lesson's peers also carry their SFU feed id; only the name and Trygg id matter here.)
    peer = (await next_of(ola, "peer_joined"))["peer"]
    assert {k: v for k, v in peer.items() if k != "sfu_id"} == {"id": ali_id, "name": "Ali Karimi"}
    seen_by_sara = (await next_of(sara, "peer_joined"))["peer"]
    assert seen_by_sara["id"] == ali_id and seen_by_sara["name"] in WORDS
    # Chat: the room's frame and the stored event, for each as they may see the sender.
    await as_person(actions.check_meeting_chat, "ali.9b", lesson["id"], "Hei")
    frame = (await next_of(sara, "chat"))["message"]
    assert frame["sender"]["id"] is None and frame["sender"]["name"] in WORDS and frame["sender"]["username"] is None
    assert (await next_of(ola, "chat"))["message"]["sender"]["name"] == "Ali Karimi"
    [stored] = await chat_frames("sara.9b")
    assert stored["message"]["sender"] == {"id": None, "username": None, "name": stored["message"]["sender"]["name"]}
    assert stored["message"]["sender"]["name"] in WORDS
    [teachers] = await chat_frames("ola.9b")
    assert teachers["message"]["sender"]["username"] == "ali.9b"
    await asyncio.gather(ola.disconnect(), sara.disconnect(), ali.disconnect())
