"""Lessons and parent meetings on the Janus SFU with Trygg as the gatekeeper (issue 16).

The Janus tests start Debian's Janus on free ports of their own (``janus_server``) and talk to it
like a browser would (``janus_client``): every refusal below is Janus' own answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.meetings.conftest import post
from tests.meetings.janus_client import JanusTestClient, data_of, participant_of
from trygg.directory.models import Enrollment
from trygg.meetings import sfu
from trygg.meetings.janus_process import JanusServer, free_port, start_janus
from trygg.meetings.models import JoinToken, Meeting, SfuRoom

UNAUTHORIZED = 433
REQUIRES_PVTID = 433


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
    return janus_server


@pytest.fixture
def clients(janus_server: JanusServer) -> Iterator[Callable[[], JanusTestClient]]:
    made: list[JanusTestClient] = []

    def make() -> JanusTestClient:
        client = JanusTestClient(janus_server.url).open()
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def pupils_of_4a(count: int) -> list[str]:
    return list(
        Enrollment.objects.filter(school_class__name="4A").order_by("pupil__username")
        .values_list("pupil__username", flat=True)[:count]
    )


def lesson(create_meeting: Callable[..., Any], person: Callable[[str], Any]) -> dict[str, Any]:
    teacher = person("kari.4a")
    class_id = sorted(teacher.facts.contact_class_ids)[0]
    response = create_meeting("kari.4a", kind="lesson", class_id=class_id, title="Matte",
                              invitation_text="Velkommen til mattetimen.")
    assert response.status_code == 201, response.content
    return response.json()


def join(api_client: Callable[[str], Any], meeting_id: int, username: str) -> dict[str, Any]:
    response = post(api_client(username), f"/api/v1/meetings/{meeting_id}/join")
    assert response.status_code == 200, response.content
    return response.json()


def admit(api_client: Callable[[str], Any], meeting_id: int, username: str) -> None:
    response = post(api_client("kari.4a"), f"/api/v1/meetings/{meeting_id}/admit", {"username": username})
    assert response.status_code == 200, response.content


# ------------------------------------------------------------------------------ without Janus


def test_issue16_development_talk_stays_on_the_mesh(talk: dict[str, Any], api_client: Any, settings: Any) -> None:
    """A development talk (2–5 people) never goes through the SFU, even when one is configured."""
    settings.TRYGG_JANUS_URL = [f"http://127.0.0.1:{free_port()}/janus"]
    assert join(api_client, talk["id"], "mor.emma")["media"] == {"kind": "mesh"}


def test_issue16_lesson_falls_back_to_mesh_with_a_warning_to_the_organiser(
    create_meeting: Any, person: Any, api_client: Any, settings: Any,
) -> None:
    """With no Janus answering, a lesson above the pack's size runs on the mesh; only the organiser
    is told why, and nothing fails."""
    settings.TRYGG_JANUS_URL = [f"http://127.0.0.1:{free_port()}/janus"]
    meeting = lesson(create_meeting, person)
    organiser = join(api_client, meeting["id"], "kari.4a")["media"]
    assert organiser["kind"] == "mesh" and organiser["warning"]
    pupil = pupils_of_4a(1)[0]
    assert join(api_client, meeting["id"], pupil)["media"] == {"kind": "mesh"}
    assert not SfuRoom.objects.filter(meeting_id=meeting["id"]).exists()


# ------------------------------------------------------------------------------ with Janus


@pytest.mark.once_in_ci
def test_issue16_r_priv_01_lesson_gets_a_private_unguessable_room_without_recording(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any, clients: Any,
) -> None:
    """The first join creates the Janus room: media is ``{"kind": "sfu", "url", "room", "credential"}``,
    the room is not listed by Janus, its id is random, and it records nothing (R-MEET-16)."""
    meeting = lesson(create_meeting, person)
    media = join(api_client, meeting["id"], "kari.4a")["media"]
    assert set(media) == {"kind", "url", "room", "credential"}
    assert media["kind"] == "sfu" and media["url"] == on_janus.url
    assert media["room"] > 2**20
    listed = data_of(clients().request({"request": "list"}))
    assert media["room"] not in [r["room"] for r in listed["list"]]
    room = SfuRoom.objects.get(meeting_id=meeting["id"])
    info = sfu.JanusApi(on_janus.url).videoroom({"request": "list", "admin_key": on_janus.admin_key})
    mine = [r for r in info["list"] if r["room"] == room.janus_room]
    assert mine and mine[0]["record"] is False and mine[0]["lock_record"] is True


@pytest.mark.once_in_ci
def test_issue16_r_meet_10_janus_refuses_until_admitted_and_refuses_none_foreign_and_expired(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any, clients: Any,
) -> None:
    """Janus itself refuses: no credential, a pupil still in the lobby, another meeting's
    credential, an expired one, and a subscriber without a publisher's private id. After the
    organiser admits the pupil, the same credential gets in, as the id Trygg gave it."""
    meeting = lesson(create_meeting, person)
    room = join(api_client, meeting["id"], "kari.4a")["media"]["room"]
    pupil, other = pupils_of_4a(2)
    media = join(api_client, meeting["id"], pupil)["media"]
    credential = media["credential"]

    assert clients().join(room, None)["error_code"] == UNAUTHORIZED
    assert clients().join(room, credential, participant_of(credential))["error_code"] == UNAUTHORIZED
    subscriber = data_of(clients().request({"request": "join", "ptype": "subscriber", "room": room,
                                            "streams": [{"feed": 1}]}))
    assert subscriber["error_code"] in (REQUIRES_PVTID, 428)

    second = lesson(create_meeting, person)
    join(api_client, second["id"], "kari.4a")
    foreign = join(api_client, second["id"], other)["media"]["credential"]
    admit(api_client, second["id"], other)
    assert clients().join(room, foreign, participant_of(foreign))["error_code"] == UNAUTHORIZED

    admit(api_client, meeting["id"], pupil)
    joined = clients().join(room, credential, participant_of(credential))
    assert joined.get("videoroom") == "joined" and joined["id"] == participant_of(credential)

    # An admitted pupil's join that expired is taken off Janus' list at the next re-check.
    late = join(api_client, meeting["id"], other)["media"]["credential"]
    admit(api_client, meeting["id"], other)
    JoinToken.objects.filter(meeting_id=meeting["id"], person__username=other, voided_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    sfu.reconcile(meeting["id"])
    assert clients().join(room, late, participant_of(late))["error_code"] == UNAUTHORIZED


@pytest.mark.once_in_ci
def test_issue16_credential_is_one_time_and_a_stranger_id_is_kicked(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any, clients: Any,
) -> None:
    """A participant who joined under an id Trygg did not give is kicked at the organiser's next
    re-check; once Janus has seen the credential used under its own id it accepts it no more."""
    meeting = lesson(create_meeting, person)
    room = join(api_client, meeting["id"], "kari.4a")["media"]["room"]
    pupil = pupils_of_4a(1)[0]
    credential = join(api_client, meeting["id"], pupil)["media"]["credential"]
    admit(api_client, meeting["id"], pupil)
    impostor = clients()
    assert impostor.join(room, credential, 12345)["videoroom"] == "joined"
    sfu.reconcile(meeting["id"])
    assert impostor.wait_for(lambda e: data_of(e).get("leaving") == "ok" or "kicked" in str(e), timeout=3)
    owner = clients()
    assert owner.join(room, credential, participant_of(credential))["videoroom"] == "joined"
    sfu.reconcile(meeting["id"])
    owner.close()
    assert clients().join(room, credential, participant_of(credential))["error_code"] == UNAUTHORIZED


@pytest.mark.once_in_ci
def test_issue16_r_meet_01_ending_destroys_the_room_and_disconnects_within_2_s(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any, clients: Any,
) -> None:
    """R-MEET-01: ending the lesson destroys the Janus room; the connected participant hears it
    from Janus within 2 s, and the credential no longer opens anything."""
    meeting = lesson(create_meeting, person)
    teacher_media = join(api_client, meeting["id"], "kari.4a")["media"]
    pupil = pupils_of_4a(1)[0]
    credential = join(api_client, meeting["id"], pupil)["media"]["credential"]
    admit(api_client, meeting["id"], pupil)
    client = clients()
    assert client.join(teacher_media["room"], credential, participant_of(credential))["videoroom"] == "joined"
    started = time.monotonic()
    assert post(api_client("kari.4a"), f"/api/v1/meetings/{meeting['id']}/end").status_code == 200
    destroyed = client.wait_for(lambda e: data_of(e).get("videoroom") == "destroyed", timeout=2)
    assert destroyed is not None and time.monotonic() - started < 2.0
    assert clients().join(teacher_media["room"], credential)["error_code"] == 426
    assert SfuRoom.objects.get(meeting_id=meeting["id"]).destroyed_reason == "ended"


@pytest.mark.once_in_ci
def test_issue16_removed_participant_is_kicked_and_halt_voids_every_credential(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any, clients: Any,
) -> None:
    """Removing a pupil kicks their publisher out of Janus at once and their credential stops
    working; a halt (R-MEET-18) destroys the room, and the next room takes no old credential."""
    meeting = lesson(create_meeting, person)
    room = join(api_client, meeting["id"], "kari.4a")["media"]["room"]
    removed, stays = pupils_of_4a(2)
    creds = {}
    for username in (removed, stays):
        creds[username] = join(api_client, meeting["id"], username)["media"]["credential"]
        admit(api_client, meeting["id"], username)
    gone, other = clients(), clients()
    assert gone.join(room, creds[removed], participant_of(creds[removed]))["videoroom"] == "joined"
    assert other.join(room, creds[stays], participant_of(creds[stays]))["videoroom"] == "joined"
    started = time.monotonic()
    assert post(api_client("kari.4a"), f"/api/v1/meetings/{meeting['id']}/remove",
                {"username": removed}).status_code == 200
    assert gone.wait_for(lambda e: data_of(e).get("leaving") == "ok", timeout=2) is not None
    assert time.monotonic() - started < 2.0
    # The others hear from Janus that the removed pupil is gone.
    assert other.wait_for(lambda e: data_of(e).get("kicked") == participant_of(creds[removed]), timeout=2)

    assert post(api_client("kari.4a"), f"/api/v1/meetings/{meeting['id']}/halt").status_code == 200
    assert other.wait_for(lambda e: data_of(e).get("videoroom") == "destroyed", timeout=2) is not None
    fresh = Meeting.objects.get(pk=meeting["id"])
    new_room = join(api_client, meeting["id"], "kari.4a")["media"]["room"]
    assert new_room != room
    assert sfu.live_room(fresh) is not None
    assert clients().join(new_room, creds[stays], participant_of(creds[stays]))["error_code"] == UNAUTHORIZED


@pytest.mark.once_in_ci
def test_issue16_only_the_teacher_moderates_and_a_lost_room_is_reported(
    on_janus: JanusServer, create_meeting: Any, person: Any, api_client: Any,
) -> None:
    """Pupils cannot mute each other (403); when Janus lost the room (a restart), the re-check says
    ``restarted`` so every participant is told instead of watching a frozen picture."""
    meeting = lesson(create_meeting, person)
    join(api_client, meeting["id"], "kari.4a")
    first, second = pupils_of_4a(2)
    join(api_client, meeting["id"], first)
    admit(api_client, meeting["id"], first)
    refused = post(api_client(first), f"/api/v1/meetings/{meeting['id']}/moderate",
                   {"username": second, "audio": False})
    assert refused.status_code == 403
    room = SfuRoom.objects.get(meeting_id=meeting["id"])
    sfu.JanusApi(on_janus.url).videoroom({"request": "destroy", "room": room.janus_room, "secret": room.secret})
    assert sfu.reconcile(meeting["id"]) == "restarted"
    assert SfuRoom.objects.get(pk=room.pk).destroyed_reason == "restarted"
    # Joining again from the invitation makes a new room.
    again = join(api_client, meeting["id"], "kari.4a")["media"]
    assert again["kind"] == "sfu" and again["room"] != room.janus_room


@pytest.mark.once_in_ci
def test_issue16_rooms_are_spread_over_the_servers_and_a_dead_one_is_skipped(
    janus_server: JanusServer, settings: Any, create_meeting: Any, person: Any, api_client: Any,
) -> None:
    """TRYGG_JANUS_URL lists several servers: rooms go to the least busy, and a server that does
    not answer is passed over for the next."""
    # One admin key for all servers, as in a deployment.
    second = start_janus(admin_key=janus_server.admin_key)
    try:
        dead = f"http://127.0.0.1:{free_port()}/janus"
        settings.TRYGG_JANUS_URL = [janus_server.url, second.url]
        settings.TRYGG_JANUS_PUBLIC_URL = []
        settings.TRYGG_JANUS_ADMIN_KEY = janus_server.admin_key
        first_room = join(api_client, lesson(create_meeting, person)["id"], "kari.4a")["media"]
        second_room = join(api_client, lesson(create_meeting, person)["id"], "kari.4a")["media"]
        assert {first_room["url"], second_room["url"]} == {janus_server.url, second.url}
        settings.TRYGG_JANUS_URL = [dead, second.url]
        SfuRoom.objects.update(destroyed_at=timezone.now())
        third = join(api_client, lesson(create_meeting, person)["id"], "kari.4a")["media"]
        assert third["kind"] == "sfu" and third["url"] == second.url
    finally:
        second.stop()


def test_issue16_demo_says_clearly_when_janus_cannot_start(settings: Any, monkeypatch: Any) -> None:
    """``trygg demo`` without the Janus package: it says so, and that lessons use the mesh."""
    import trygg.meetings.janus_process as janus_process
    from trygg.cli import start_demo_janus

    settings.TRYGG_JANUS_URL = []
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(janus_process, "JANUS_BINARY", "/nonexistent/janus")
    server, note = start_demo_janus()
    assert server is None and "not installed" in note and "mesh" in note
    assert settings.TRYGG_JANUS_URL == []


@pytest.mark.once_in_ci
def test_issue16_demo_starts_its_own_janus_on_free_ports(settings: Any) -> None:
    """``trygg demo`` starts a Janus of its own on free ports (two demos side by side get two), and
    points the settings at it; a configured TRYGG_JANUS_URL is used as it is."""
    from trygg.cli import start_demo_janus

    settings.TRYGG_JANUS_URL = []
    first, note = start_demo_janus()
    try:
        assert first is not None and first.url in note
        assert settings.TRYGG_JANUS_URL == [first.url] and settings.TRYGG_JANUS_ADMIN_KEY == first.admin_key
        settings.TRYGG_JANUS_URL = []
        second, _note = start_demo_janus()
        assert second is not None and second.url != first.url
        second.stop()
        settings.TRYGG_JANUS_URL = ["http://127.0.0.1:8088/janus"]
        assert start_demo_janus() == (None, "Video server (Janus): http://127.0.0.1:8088/janus")
    finally:
        first.stop()
