"""The meetings API of design.md: create, list, join, halt, end, with the three personas."""

from __future__ import annotations

from typing import Any

from trygg.meetings.models import Invitation, JoinAttempt, JoinToken, Meeting

from .conftest import post


def usernames(meeting: dict[str, Any]) -> set[str]:
    return {p["username"] for p in meeting["participants"]}


def test_r_meet_14_development_talk_invites_pupil_guardians_and_contact_teacher(talk) -> None:
    """R-MEET-14: a talk for emma.4a invites Emma, her guardians and kari.4a: nobody else."""
    assert talk["kind"] == "development_talk"
    assert talk["status"] == "scheduled"
    assert talk["link"].startswith(f"/meetings/{talk['id']}/room/")
    assert usernames(talk) == {"kari.4a", "emma.4a", "mor.emma", "far.emma"}
    assert {"id", "kind", "status", "link", "starts_at", "participants"} <= set(talk)


def test_r_meet_03_school_meetings_are_marked_as_the_schools(talk) -> None:
    """R-MEET-03: a development talk is the school's meeting, and says so."""
    assert talk["school_owned"] is True


def test_r_meet_10_only_the_contact_teacher_calls_a_development_talk(create_meeting) -> None:
    """R-MEET-10: ola.9b (contact teacher of 9B) cannot call a talk for emma.4a: she is not theirs (404);
    rektor may see the pupil but is not her contact teacher (403 by the Bergen rule)."""
    assert create_meeting("ola.9b", student_username="emma.4a").status_code == 404
    response = create_meeting("rektor", student_username="emma.4a")
    assert response.status_code == 403
    assert response.json()["requirement"] == "R-MEET-10"


def test_r_meet_14_a_subject_teacher_of_the_class_may_join_the_talk_but_no_outsider(create_meeting) -> None:
    """R-MEET-14: nils.9b teaches 9B, not 4A: inviting him to Emma's talk is refused."""
    response = create_meeting("kari.4a", student_username="emma.4a", subject_teacher_username="nils.9b")
    assert response.status_code == 403
    assert response.json()["rule"] == "bergen.talk-participants"
    response = create_meeting("ola.9b", student_username="sara.9b", subject_teacher_username="nils.9b")
    assert response.status_code == 201
    assert "nils.9b" in usernames(response.json())


def test_lists_show_only_my_meetings_and_others_get_404(talk, api_client) -> None:
    """The guardian sees the talk; a guardian of another class sees nothing and gets 404."""
    mine = api_client("mor.emma").get("/api/v1/meetings").json()
    assert talk["id"] in [m["id"] for m in mine]
    assert talk["id"] not in [m["id"] for m in api_client("mor.sara").get("/api/v1/meetings").json()]
    assert api_client("mor.sara").get(f"/api/v1/meetings/{talk['id']}").status_code == 404
    assert api_client("mor.emma").get(f"/api/v1/meetings/{talk['id']}").status_code == 200


def test_r_meet_10_join_gives_invited_their_own_token_and_refuses_and_logs_the_uninvited(talk, api_client) -> None:
    """R-MEET-10: mor.emma gets her own join; mor.sara, who cannot see the meeting, gets 404 as for a
    meeting that does not exist (R-PRIV-01: it answered 403 with the rule's text), and kari.4a still
    sees the attempt."""
    response = post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join")
    assert response.status_code == 200
    body = response.json()
    assert {"join_token", "room", "ice_servers"} <= set(body)
    assert body["room"] == f"/ws/meetings/{talk['id']}"
    assert body["state"] == "waiting"
    refused = post(api_client("mor.sara"), f"/api/v1/meetings/{talk['id']}/join")
    missing = post(api_client("mor.sara"), "/api/v1/meetings/987654321/join")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    assert JoinAttempt.objects.filter(meeting_id=talk["id"], person__username="mor.sara").count() == 1
    organiser_view = api_client("kari.4a").get(f"/api/v1/meetings/{talk['id']}").json()
    assert organiser_view["refused_attempts"][0]["person"]["username"] == "mor.sara"
    assert "refused_attempts" not in api_client("mor.emma").get(f"/api/v1/meetings/{talk['id']}").json()


def test_r_meet_02_join_says_no_recording_and_gives_the_viewer_own_name_as_watermark(talk, api_client) -> None:
    """R-MEET-02: the join answer carries the short rules (no recording, no screenshots) and the
    viewer's own name for the watermark."""
    body = post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join").json()
    assert body["watermark"] == "Marte Solheim"
    text = " ".join(body["rules"]).lower()
    assert "opptak" in text or "record" in text
    assert "skjermbilde" in text or "screenshot" in text


def test_ice_servers_come_from_the_setting_at_call_time(talk, api_client, settings) -> None:
    """TRYGG_ICE_SERVERS is read when joining; malformed entries are dropped, not a 500."""
    settings.TRYGG_ICE_SERVERS = '[{"urls": "stun:turn.example.no:3478"}, {"bad": 1}]'
    body = post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join").json()
    assert body["ice_servers"] == [{"urls": ["stun:turn.example.no:3478"]}]
    settings.TRYGG_ICE_SERVERS = "{not json"
    assert post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join").json()["ice_servers"] == []


def test_r_meet_13_admitting_waits_for_the_guidelines_read_out(talk, api_client) -> None:
    """R-MEET-13: kari.4a cannot admit mor.emma before confirming the guidelines were read out."""
    kari = api_client("kari.4a")
    post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join")
    refused = post(kari, f"/api/v1/meetings/{talk['id']}/admit", {"username": "mor.emma"})
    assert refused.status_code == 403
    assert refused.json()["requirement"] == "R-MEET-13"
    assert post(kari, f"/api/v1/meetings/{talk['id']}/guidelines-read").json()["guidelines_read"] is True
    admitted = post(kari, f"/api/v1/meetings/{talk['id']}/admit", {"username": "mor.emma"})
    assert admitted.status_code == 200
    states = {p["username"]: p["state"] for p in admitted.json()["participants"]}
    assert states["mor.emma"] == "admitted"


def test_r_meet_10_only_the_organiser_admits_halts_and_ends(talk, api_client) -> None:
    """R-MEET-10, R-MEET-01: mor.emma may not admit, halt or end; mor.sara does not even see it (404)."""
    mor = api_client("mor.emma")
    assert post(mor, f"/api/v1/meetings/{talk['id']}/admit", {"username": "far.emma"}).status_code == 403
    assert post(mor, f"/api/v1/meetings/{talk['id']}/halt").status_code == 403
    assert post(mor, f"/api/v1/meetings/{talk['id']}/end").status_code == 403
    assert post(api_client("mor.sara"), f"/api/v1/meetings/{talk['id']}/end").status_code == 404


def test_r_meet_18_halt_voids_link_and_tokens_and_sends_a_new_invitation(talk, api_client) -> None:
    """R-MEET-18: halt makes a new link; the old link and every old join token are dead; the new
    invitation reaches the calendars again and joining with the new link works."""
    mor = api_client("mor.emma")
    old_link = talk["link"]
    old_key = old_link.rstrip("/").rsplit("/", 1)[1]
    assert post(mor, f"/api/v1/meetings/{talk['id']}/join", {"key": old_key}).status_code == 200
    halted = post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/halt")
    assert halted.status_code == 200
    new = halted.json()
    assert new["link"] != old_link
    assert new["generation"] == 2
    assert not JoinToken.objects.filter(meeting_id=talk["id"], voided_at__isnull=True).exists()
    stale = post(mor, f"/api/v1/meetings/{talk['id']}/join", {"key": old_key})
    assert stale.status_code == 409
    assert stale.json()["requirement"] == "R-MEET-18"
    new_key = new["link"].rstrip("/").rsplit("/", 1)[1]
    assert post(mor, f"/api/v1/meetings/{talk['id']}/join", {"key": new_key}).status_code == 200
    from trygg.events.models import Event

    invited = Event.objects.filter(type="meeting.invited", payload__meeting_id=talk["id"]).count()
    assert invited == 2


def test_r_meet_01_end_is_final_join_is_409(talk, api_client) -> None:
    """R-MEET-01: after kari.4a ends the talk, joining answers 409 and every token is void."""
    post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join")
    ended = post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/end")
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended"
    assert ended.json()["link"] is None
    response = post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join")
    assert response.status_code == 409
    assert response.json()["requirement"] == "R-MEET-01"
    assert post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/end").status_code == 409
    assert not JoinToken.objects.filter(meeting_id=talk["id"], voided_at__isnull=True).exists()


def test_removed_person_cannot_join_again(talk, api_client) -> None:
    """The organiser removes far.emma: his tokens die, the meeting leaves his calendar feed, his next
    join is refused (403) and he no longer sees the link."""
    post(api_client("far.emma"), f"/api/v1/meetings/{talk['id']}/join")
    response = post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/remove", {"username": "far.emma"})
    assert response.status_code == 200
    assert {p["username"]: p["state"] for p in response.json()["participants"]}["far.emma"] == "removed"
    assert post(api_client("far.emma"), f"/api/v1/meetings/{talk['id']}/join").status_code == 403
    assert Invitation.objects.get(meeting_id=talk["id"], person__username="far.emma").removed_at
    assert f"meeting-{talk['id']}@trygg" not in api_client("far.emma").get("/api/v1/calendar.ics").content.decode()
    assert api_client("far.emma").get(f"/api/v1/meetings/{talk['id']}").json()["link"] is None


def test_r_meet_17_chat_refused_in_development_talk_but_allowed_in_a_lesson(talk, api_client, create_meeting) -> None:
    """R-MEET-17: the server refuses chat in a development talk; a lesson has its chat."""
    refused = post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/chat", {"body": "Hei"})
    assert refused.status_code == 403
    assert refused.json()["rule"] == "bergen.no-chat-in-talk"
    assert refused.json()["requirement"] == "R-MEET-17"
    lesson = create_meeting("kari.4a", kind="lesson", class_id=Meeting.objects.get(pk=talk["id"]).school_class_id,
                            title="Matematikk", invitation_text="Vi regner sammen.")
    assert lesson.status_code == 201
    sent = post(api_client("emma.4a"), f"/api/v1/meetings/{lesson.json()['id']}/chat", {"body": "Hei"})
    assert sent.status_code == 201


def test_r_meet_16_r_meet_02_recording_is_refused_for_everyone(talk, api_client) -> None:
    """R-MEET-16, R-MEET-02: there is no recording: asking for one is refused, even for the organiser."""
    response = post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/recording")
    assert response.status_code == 403
    assert response.json()["requirement"] in ("R-MEET-02", "R-MEET-16")


def test_r_meet_15_pupil_writes_reflection_teacher_reads_it(talk, api_client) -> None:
    """R-MEET-15: emma.4a writes her reflections; kari.4a sees them; mor.emma does not; nobody else writes."""
    from .conftest import put

    path = f"/api/v1/meetings/{talk['id']}/reflection"
    assert put(api_client("emma.4a"), path, {"text": "Jeg har lært brøk."}).status_code == 200
    assert api_client("kari.4a").get(f"/api/v1/meetings/{talk['id']}").json()["reflection"] == "Jeg har lært brøk."
    assert api_client("mor.emma").get(f"/api/v1/meetings/{talk['id']}").json()["reflection"] is None
    assert put(api_client("mor.emma"), path, {"text": "x"}).status_code == 403


def test_r_meet_19_agenda_health_words_warn_but_save(talk, api_client) -> None:
    """R-MEET-19: an agenda about health is saved with a reminder naming the words; a plain one has none."""
    from .conftest import put

    path = f"/api/v1/meetings/{talk['id']}/agenda"
    body = put(api_client("kari.4a"), path, {"text": "1. Lesing\n2. Sykdommen og medisinene"}).json()
    assert body["agenda"].startswith("1. Lesing")
    assert body["nudges"][0]["requirement"] == "R-MEET-19"
    assert {"sykdommen", "medisinene"} <= set(body["nudges"][0]["words"])
    assert put(api_client("kari.4a"), path, {"text": "1. Lesing 2. Matematikk"}).json()["nudges"] == []
    assert put(api_client("mor.emma"), path, {"text": "x"}).status_code == 403


def test_bad_input_is_400_never_500(api_client) -> None:
    """Unknown kind, missing pupil, bad time, unknown fields: all 400."""
    kari = api_client("kari.4a")
    assert post(kari, "/api/v1/meetings", {"kind": "party", "starts_at": "2026-12-01T10:00", "title": "x"}
                ).status_code == 400
    assert post(kari, "/api/v1/meetings", {"kind": "development_talk", "starts_at": "2026-12-01T10:00",
                                           "title": "x"}).status_code == 400
    assert post(kari, "/api/v1/meetings", {"kind": "lesson", "starts_at": "not a time", "title": "x"}
                ).status_code == 400
    assert post(kari, "/api/v1/meetings", {"kind": "lesson", "starts_at": "2026-12-01T10:00", "title": "x",
                                           "surprise": 1}).status_code == 400
    assert post(kari, "/api/v1/meetings/999999/join").status_code == 404
    assert api_client(None).get("/api/v1/meetings").status_code == 401
