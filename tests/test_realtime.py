"""The in-process channel layer keeps Channels' contract: copies, capacity, groups and expiry."""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import ChannelFull

from trygg import realtime
from trygg.events.hub import frame_text
from trygg.realtime import ProcessChannelLayer


async def test_group_send_reaches_every_member_once() -> None:
    layer = ProcessChannelLayer()
    a, b = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("person.1", a)
    await layer.group_add("person.1", b)
    await layer.group_add("person.2", b)
    await layer.group_send("person.1", {"type": "event.push", "id": 7})
    assert (await layer.receive(a))["id"] == 7
    assert (await layer.receive(b))["id"] == 7
    await layer.group_discard("person.1", a)
    await layer.group_send("person.1", {"type": "event.push", "id": 8})
    assert (await layer.receive(b))["id"] == 8
    assert layer.channels.get(a) is None  # nothing more was queued for the discarded channel


async def test_a_receiver_cannot_change_what_another_receives() -> None:
    """Nested messages (meeting signals) are copied whole; flat ones need only a shallow copy."""
    layer = ProcessChannelLayer()
    a, b = await layer.new_channel(), await layer.new_channel()
    for channel in (a, b):
        await layer.group_add("room", channel)
    message = {"type": "meeting.signal", "data": {"sdp": "offer"}, "from": 3}
    await layer.group_send("room", message)
    got_a = await layer.receive(a)
    got_a["data"]["sdp"] = "changed"
    got_a["from"] = 4
    got_b = await layer.receive(b)
    assert got_b == {"type": "meeting.signal", "data": {"sdp": "offer"}, "from": 3}
    assert message["data"]["sdp"] == "offer"


async def test_a_full_channel_misses_the_message_and_the_others_still_get_it() -> None:
    layer = ProcessChannelLayer(capacity=1)
    full, free = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", full)
    await layer.send(full, {"type": "x", "n": 0})
    await layer.group_add("g", free)
    await layer.group_send("g", {"type": "x", "n": 1})
    assert (await layer.receive(free))["n"] == 1
    assert (await layer.receive(full))["n"] == 0
    await layer.send(full, {"type": "x", "n": 2})
    with pytest.raises(ChannelFull):
        await layer.send(full, {"type": "x", "n": 3})


async def test_expired_messages_are_swept_and_their_channel_leaves_its_groups(monkeypatch) -> None:
    layer = ProcessChannelLayer(expiry=0)
    gone, live = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", gone)
    await layer.send(gone, {"type": "x"})
    await asyncio.sleep(0.01)
    monkeypatch.setattr(realtime, "SWEEP_SECONDS", 0.0)
    await layer.group_send("g", {"type": "y"})
    assert gone not in layer.groups.get("g", {})
    await layer.group_add("g", live)
    assert set(layer.groups["g"]) == {live}


def test_frame_text_adds_prev_to_an_encoded_frame() -> None:
    import json

    body = json.dumps({"id": 9, "type": "message.new", "message": {"body": "}{\"prev\": 1"}})
    assert json.loads(frame_text(body, 4)) == {
        "id": 9, "type": "message.new", "message": {"body": "}{\"prev\": 1"}, "prev": 4}
    assert frame_text(body, None) == body
