"""The meeting socket through Channels' WebsocketCommunicator: lobby, gate, relay, halt and end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from trygg.directory.models import ApiToken, Person
from trygg.meetings import actions, consumers
from trygg.meetings.models import JoinToken
from trygg.meetings.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

APP = URLRouter(websocket_urlpatterns)


@database_sync_to_async
def setup_talk() -> dict[str, Any]:
    kari = Person.objects.get(username="kari.4a")
    meeting = actions.check_create_meeting(kari, "development_talk", "2026-12-01T10:00:00+01:00",
                                           "Utviklingssamtale", "Velkommen.", student_username="emma.4a")
    return {"id": meeting.pk, "key": meeting.link_key}


@database_sync_to_async
def join(username: str, meeting_id: int) -> tuple[str, str, int]:
    person = Person.objects.get(username=username)
    _token, bearer = ApiToken.issue(person)
    return bearer, actions.check_join(person, meeting_id).join_token, person.pk


@database_sync_to_async
def as_person(fn: Any, username: str, *args: Any) -> Any:
    return fn(Person.objects.get(username=username), *args)


async def connect(meeting_id: int, bearer: str, join_token: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(APP, f"/ws/meetings/{meeting_id}")
    connected, _sub = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": bearer})
    await ws.send_json_to({"type": "join", "join_token": join_token})
    return ws


async def next_of(ws: WebsocketCommunicator, kind: str, timeout: float = 3.0) -> dict[str, Any]:
    """Return the next frame of type ``kind``, skipping others (roster hints)."""
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame.get("type") == kind:
            return frame


async def closed_code(ws: WebsocketCommunicator, timeout: float = 3.0) -> int:
    while True:
        output = await ws.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code")


async def admitted_pair(talk: dict[str, Any]) -> tuple[WebsocketCommunicator, WebsocketCommunicator, int, int]:
    kari_bearer, kari_join, kari_id = await join("kari.4a", talk["id"])
    mor_bearer, mor_join, mor_id = await join("mor.emma", talk["id"])
    kari = await connect(talk["id"], kari_bearer, kari_join)
    assert (await next_of(kari, "admitted"))["me"]["id"] == kari_id
    mor = await connect(talk["id"], mor_bearer, mor_join)
    await next_of(mor, "lobby")
    await as_person(actions.check_confirm_guidelines, "kari.4a", talk["id"])
    await as_person(actions.check_admit, "kari.4a", talk["id"], "mor.emma")
    await next_of(mor, "admitted")
    return kari, mor, kari_id, mor_id


# What a browser sends: RTCSessionDescription.toJSON() and RTCIceCandidate.toJSON().
SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
CANDIDATE = {"candidate": "candidate:842163049 1 udp 1677729535 192.0.2.10 49203 typ srflx raddr 0.0.0.0 rport 0",
             "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "aB3d"}


async def test_r_meet_10_lobby_until_admitted_then_signals_are_relayed_between_participants(demo) -> None:
    """R-MEET-10: mor.emma waits in the lobby and may not signal; once kari.4a admits her, the newcomer
    hears who is there and an offer from her reaches kari.4a stamped with her id, and back."""
    talk = await setup_talk()
    kari_bearer, kari_join, kari_id = await join("kari.4a", talk["id"])
    mor_bearer, mor_join, mor_id = await join("mor.emma", talk["id"])
    kari = await connect(talk["id"], kari_bearer, kari_join)
    await next_of(kari, "admitted")
    mor = await connect(talk["id"], mor_bearer, mor_join)
    await next_of(mor, "lobby")
    await mor.send_json_to({"type": "signal", "to": kari_id, "data": {"description": {"type": "offer"}}})
    assert (await next_of(mor, "error"))["error"] == "not_admitted"
    await as_person(actions.check_confirm_guidelines, "kari.4a", talk["id"])
    await as_person(actions.check_admit, "kari.4a", talk["id"], "mor.emma")
    await next_of(mor, "admitted")
    assert (await next_of(kari, "peer_joined"))["peer"]["id"] == mor_id
    assert (await next_of(mor, "peer_here"))["peer"]["id"] == kari_id
    await mor.send_json_to({"type": "signal", "to": kari_id, "data": {"description": {"type": "offer", "sdp": SDP}}})
    frame = await next_of(kari, "signal")
    assert frame == {"type": "signal", "from": mor_id, "data": {"description": {"type": "offer", "sdp": SDP}}}
    await kari.send_json_to({"type": "signal", "to": mor_id, "data": {"candidate": CANDIDATE}})
    assert (await next_of(mor, "signal"))["from"] == kari_id
    await kari.disconnect()
    assert (await next_of(mor, "peer_left"))["person_id"] == kari_id
    await mor.disconnect()


async def test_r_meet_10_a_lobby_socket_never_receives_media_negotiation(demo) -> None:
    """R-MEET-10: far.emma in the lobby gets no signal that is addressed to him."""
    talk = await setup_talk()
    kari, mor, kari_id, mor_id = await admitted_pair(talk)
    far_bearer, far_join, far_id = await join("far.emma", talk["id"])
    far = await connect(talk["id"], far_bearer, far_join)
    await next_of(far, "lobby")
    await kari.send_json_to({"type": "signal", "to": far_id, "data": {"description": {"type": "offer"}}})
    assert await far.receive_nothing(timeout=0.5)
    for ws in (kari, mor, far):
        await ws.disconnect()


@pytest.mark.parametrize("data", [
    {"text": "Hei, hva synes du om Emma?"},
    {"description": {"type": "offer", "sdp": "Hei, hva synes du om Emma?"}},
    {"description": {"type": "offer", "sdp": SDP, "note": "Hei"}},
    {"description": {"type": "rollback", "sdp": SDP}},
    {"candidate": {"candidate": "Hei, hva synes du om Emma?"}},
    {"candidate": CANDIDATE, "chat": "Hei"},
    {"description": {"type": "offer", "sdp": SDP}, "candidate": CANDIDATE},
    {"hand": "Hei, hva synes du om Emma?"},
    {"hand": True, "chat": "Hei"},
])
async def test_r_meet_17_the_signalling_socket_carries_no_chat(demo, data, caplog) -> None:
    """R-MEET-17: anything but one SDP offer/answer or one ICE candidate is refused (bad_signal),
    never relayed, and logged without its content."""
    talk = await setup_talk()
    kari, mor, kari_id, mor_id = await admitted_pair(talk)
    with caplog.at_level("WARNING", logger="trygg.meetings.consumers"):
        await mor.send_json_to({"type": "signal", "to": kari_id, "data": data})
        assert (await next_of(mor, "error"))["error"] == "bad_signal"
    assert any("refused a signal" in r.getMessage() for r in caplog.records)
    assert not any("Hei" in r.getMessage() for r in caplog.records)
    await mor.send_json_to({"type": "signal", "to": kari_id, "data": {"candidate": CANDIDATE}})
    assert (await next_of(kari, "signal"))["data"] == {"candidate": CANDIDATE}
    for ws in (kari, mor):
        await ws.disconnect()


async def test_r_meet_17_a_raised_hand_is_a_yes_or_no_and_passes(demo) -> None:
    """The lesson's "raise hand" travels as ``{"hand": true}``: a yes or no carries no words, so it
    passes the shape check that keeps chat out of the signalling socket."""
    talk = await setup_talk()
    kari, mor, kari_id, _mor_id = await admitted_pair(talk)
    await mor.send_json_to({"type": "signal", "to": kari_id, "data": {"hand": True}})
    assert (await next_of(kari, "signal"))["data"] == {"hand": True}
    for ws in (kari, mor):
        await ws.disconnect()


async def test_a_join_token_of_someone_else_or_garbage_is_refused(demo) -> None:
    """A signed-in person cannot use another person's join token; a made-up token closes the socket."""
    talk = await setup_talk()
    _mor_bearer, mor_join, _mor_id = await join("mor.emma", talk["id"])
    sara_bearer = await database_sync_to_async(
        lambda: ApiToken.issue(Person.objects.get(username="mor.sara"))[1])()
    ws = await connect(talk["id"], sara_bearer, mor_join)
    assert (await next_of(ws, "error"))["error"] == "join_refused"
    assert await closed_code(ws) == consumers.CLOSE_CODES["invalid"]
    ws = await connect(talk["id"], sara_bearer, "made-up")
    assert await closed_code(ws) == consumers.CLOSE_CODES["invalid"]
    unauthenticated = WebsocketCommunicator(APP, f"/ws/meetings/{talk['id']}")
    await unauthenticated.connect()
    await unauthenticated.send_json_to({"type": "join", "join_token": mor_join})
    assert await closed_code(unauthenticated) == 4401


async def test_r_meet_01_end_disconnects_every_socket_server_side_and_no_rejoin(demo) -> None:
    """R-MEET-01: when kari.4a ends the talk, both sockets get "closed: ended" and are closed by the
    server; the old join token no longer opens the room."""
    talk = await setup_talk()
    kari, mor, _kari_id, _mor_id = await admitted_pair(talk)
    await as_person(actions.check_end, "kari.4a", talk["id"])
    for ws in (kari, mor):
        assert (await next_of(ws, "closed"))["reason"] == "ended"
        assert await closed_code(ws) == consumers.CLOSE_CODES["ended"]
    token = await database_sync_to_async(lambda: JoinToken.objects.filter(meeting_id=talk["id"]).count())()
    assert token >= 2
    mor_bearer = await database_sync_to_async(
        lambda: ApiToken.issue(Person.objects.get(username="mor.emma"))[1])()
    old = await database_sync_to_async(lambda: JoinToken.objects.filter(meeting_id=talk["id"]).first())()
    assert old.voided_at is not None
    ws = await connect(talk["id"], mor_bearer, "any-old-token")
    assert await closed_code(ws) == consumers.CLOSE_CODES["invalid"]


async def test_r_meet_18_halt_disconnects_everyone_and_voids_the_old_tokens(demo) -> None:
    """R-MEET-18: halt closes every socket ("halted"); the old join token is refused; a new join works."""
    talk = await setup_talk()
    kari_bearer, kari_join, _kari_id = await join("kari.4a", talk["id"])
    kari = await connect(talk["id"], kari_bearer, kari_join)
    await next_of(kari, "admitted")
    mor_bearer, mor_join, _mor_id = await join("mor.emma", talk["id"])
    mor = await connect(talk["id"], mor_bearer, mor_join)
    await next_of(mor, "lobby")
    await as_person(actions.check_halt, "kari.4a", talk["id"])
    for ws in (kari, mor):
        assert (await next_of(ws, "closed"))["reason"] == "halted"
        assert await closed_code(ws) == consumers.CLOSE_CODES["halted"]
    stale = await connect(talk["id"], mor_bearer, mor_join)
    assert await closed_code(stale) == consumers.CLOSE_CODES["invalid"]
    _b, fresh_join, _p = await join("mor.emma", talk["id"])
    fresh = await connect(talk["id"], mor_bearer, fresh_join)
    await next_of(fresh, "lobby")
    await fresh.disconnect()


async def test_r_meet_01_a_lost_push_cannot_leave_anyone_in(demo, settings) -> None:
    """R-MEET-01: if the "closed" push is lost, the socket's own re-check closes it once its token dies."""
    settings.TRYGG_MEETING_RECHECK_SECONDS = 0.2
    talk = await setup_talk()
    kari, mor, _kari_id, _mor_id = await admitted_pair(talk)
    # Void the tokens behind the sockets' backs: no group message is sent.
    from django.utils import timezone

    await database_sync_to_async(
        lambda: JoinToken.objects.filter(meeting_id=talk["id"]).update(voided_at=timezone.now()))()
    for ws in (kari, mor):
        assert (await next_of(ws, "closed", timeout=3))["reason"] == "invalid"
        assert await closed_code(ws) == consumers.CLOSE_CODES["invalid"]


@pytest.mark.parametrize(("action", "reason"), [(actions.check_halt, "halted"), (actions.check_end, "ended")])
async def test_r_meet_18_a_recheck_that_beats_the_push_gives_the_real_reason(demo, monkeypatch, settings, action,
                                                                             reason) -> None:
    """R-MEET-18, R-MEET-01: a socket whose own re-check finds the meeting halted (or ended) before
    the push arrives says "halted" ("ended"), with its close code, not a bare "invalid"."""
    from trygg.meetings import rooms

    settings.TRYGG_MEETING_RECHECK_SECONDS = 0.2
    monkeypatch.setattr(rooms, "send_to_group", lambda group, message: None)  # every push is lost
    talk = await setup_talk()
    kari, mor, _kari_id, _mor_id = await admitted_pair(talk)
    await as_person(action, "kari.4a", talk["id"])
    for ws in (kari, mor):
        assert (await next_of(ws, "closed", timeout=3))["reason"] == reason
        assert await closed_code(ws) == consumers.CLOSE_CODES[reason]


async def test_removed_person_socket_is_closed(demo) -> None:
    """The organiser removes mor.emma: her socket is told and closed; the others hear she left."""
    talk = await setup_talk()
    kari, mor, _kari_id, mor_id = await admitted_pair(talk)
    await as_person(actions.check_remove, "kari.4a", talk["id"], "mor.emma")
    assert (await next_of(mor, "closed"))["reason"] == "removed"
    assert await closed_code(mor) == consumers.CLOSE_CODES["removed"]
    assert (await next_of(kari, "peer_left"))["person_id"] == mor_id
    await kari.disconnect()


async def test_r_meet_17_no_chat_frames_in_a_development_talk(demo) -> None:
    """R-MEET-17: the socket has no chat frame, and the chat action is refused for the talk."""
    from trygg.errors import PolicyDenied

    talk = await setup_talk()
    kari, mor, _kari_id, _mor_id = await admitted_pair(talk)
    await mor.send_json_to({"type": "chat", "body": "hei"})
    assert (await next_of(mor, "error"))["error"] == "unknown_frame"
    with pytest.raises(PolicyDenied):
        await as_person(actions.check_meeting_chat, "mor.emma", talk["id"], "hei")
    await asyncio.gather(kari.disconnect(), mor.disconnect())


async def test_r_meet_10_signalling_frames_are_rate_limited_per_peer(demo) -> None:
    """An admitted peer sent 5,000 signalling frames in 0.3 s; now at most 100 a second and 200 in
    ten seconds (the defaults) are relayed, and it is told it is rate limited; the other peer's own
    signals still pass."""
    talk = await setup_talk()
    kari, mor, kari_id, mor_id = await admitted_pair(talk)
    started = asyncio.get_running_loop().time()
    for n in range(5000):
        # Well-shaped ICE candidates (R-MEET-17 refuses anything else before the limit counts).
        candidate = f"candidate:{n} 1 udp 2122260223 192.0.2.1 {n + 1024} typ host"
        await mor.send_json_to({"type": "signal", "to": kari_id,
                                "data": {"candidate": {"candidate": candidate, "sdpMid": "0", "sdpMLineIndex": 0}}})
    await mor.send_json_to({"type": "ping"})
    told = []
    while True:
        frame = await mor.receive_json_from(timeout=5)
        if frame["type"] == "pong":
            break
        told.append(frame.get("error"))
    assert "rate_limited" in told
    relayed = 0
    while not await kari.receive_nothing(timeout=1):
        relayed += (await kari.receive_json_from())["type"] == "signal"
    assert 0 < relayed <= 200
    assert asyncio.get_running_loop().time() - started < 10
    offer = {"description": {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"}}
    await kari.send_json_to({"type": "signal", "to": mor_id, "data": offer})
    assert (await next_of(mor, "signal"))["data"] == offer
    for ws in (kari, mor):
        await ws.disconnect()
