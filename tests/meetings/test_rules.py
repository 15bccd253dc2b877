"""The meeting rules of the Åmot and Bergen packs, decided by the engine on the demo school."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from trygg.directory.models import Enrollment, Guardianship
from trygg.meetings.models import CalendarEntry, CalendarFeed, Meeting
from trygg.policy.engine import decide, load_registry

from .conftest import post


def test_every_meeting_rule_is_wired_to_logic() -> None:
    """Every meeting rule of amot.yaml and bergen.yaml names its actions and its logic."""
    rules = load_registry().rules
    ids = ["amot.ending-meeting-ends-for-all", "amot.no-recording", "amot.recording-notice",
           "amot.class-gathering-includes-all", "amot.school-meetings-marked"]
    ids += [r for r in rules if r.startswith("bergen.")]
    for rule_id in ids:
        assert rules[rule_id].logic and rules[rule_id].actions, rule_id


def test_r_soc_01_class_gathering_invites_the_whole_class(api_client, person) -> None:
    """R-SOC-01: mor.emma arranges a class gathering for 4A: every pupil and guardian of 4A is invited,
    and it is not marked as the school's (R-MEET-03)."""
    class_id = Enrollment.objects.get(pupil=person("emma.4a")).school_class_id
    response = post(api_client("mor.emma"), "/api/v1/meetings", {
        "kind": "class_gathering", "class_id": class_id, "starts_at": "2026-12-05T18:00:00+01:00",
        "title": "Klassesamling", "invitation_text": "Alle i klassen er velkommen."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["school_owned"] is False
    pupils = set(Enrollment.objects.filter(school_class_id=class_id).values_list("pupil__username", flat=True))
    guardians = set(Guardianship.objects.filter(pupil__enrollments__school_class_id=class_id,
                                                parental_responsibility=True).values_list("guardian__username",
                                                                                          flat=True))
    assert pupils | guardians <= {p["username"] for p in body["participants"]}


def test_r_soc_01_a_gathering_that_leaves_anyone_out_is_refused(person) -> None:
    """R-SOC-01: a class gathering whose invitation leaves out one classmate is denied by the Åmot rule."""
    mor = person("mor.emma")
    emma = person("emma.4a")
    class_id = emma.facts.pupil_class_ids and next(iter(emma.facts.pupil_class_ids))
    everyone = frozenset(Enrollment.objects.filter(school_class_id=class_id).values_list("pupil_id", flat=True))
    invited = (mor.facts, emma.facts)
    decision = decide("meeting.create", mor, None, {
        "kind": "class_gathering", "class_id": class_id, "school_id": None, "invited": invited,
        "class_pupil_ids": everyone, "class_guardian_ids": frozenset(), "school_owned": False})
    assert not decision.allowed
    assert decision.denied_by.rule.id == "amot.class-gathering-includes-all"


def test_r_meet_03_guardians_cannot_create_the_schools_meetings(api_client, person) -> None:
    """R-MEET-03: a guardian cannot call a parent meeting (the school's kind); the reason says so."""
    class_id = Enrollment.objects.get(pupil=person("emma.4a")).school_class_id
    response = post(api_client("mor.emma"), "/api/v1/meetings", {
        "kind": "parent_meeting", "class_id": class_id, "starts_at": "2026-12-05T18:00:00+01:00",
        "title": "Foreldremøte"})
    assert response.status_code == 403
    assert "R-MEET-03" in {response.json()["requirement"]} | set(
        load_registry().rules[response.json()["rule"]].requirements)


def test_r_meet_03_parent_meeting_by_teacher_is_the_schools_and_invites_guardians(api_client, person) -> None:
    """R-MEET-03: kari.4a's parent meeting is marked as the school's and invites 4A's guardians."""
    class_id = Enrollment.objects.get(pupil=person("emma.4a")).school_class_id
    response = post(api_client("kari.4a"), "/api/v1/meetings", {
        "kind": "parent_meeting", "class_id": class_id, "starts_at": "2026-12-05T18:00:00+01:00",
        "title": "Foreldremøte"})
    assert response.status_code == 201
    body = response.json()
    assert body["school_owned"] is True
    roles = {p["role"] for p in body["participants"]}
    assert roles <= {"organiser", "guardian", "teacher"}
    assert "mor.emma" in {p["username"] for p in body["participants"]}


def test_r_meet_11_invitation_goes_to_guardians_until_the_pupil_opens_the_calendar(talk, create_meeting,
                                                                                   api_client) -> None:
    """R-MEET-11: emma.4a has never opened her calendar, so the talk lands in her calendar and her
    guardians'; after she opens it, the next invitation lands in hers alone (the guardians stay invited)."""
    entries = dict(CalendarEntry.objects.filter(meeting_id=talk["id"]).values_list("person__username", "via"))
    assert entries["emma.4a"] == "pupil"
    assert entries["mor.emma"] == entries["far.emma"] == "guardian"
    assert api_client("emma.4a").get("/api/v1/calendar.ics").status_code == 200
    assert CalendarFeed.objects.get(person__username="emma.4a").opened_at is not None
    second = create_meeting("kari.4a", student_username="emma.4a").json()
    entries = set(CalendarEntry.objects.filter(meeting_id=second["id"]).values_list("person__username", flat=True))
    assert "emma.4a" in entries
    assert not entries & {"mor.emma", "far.emma"}
    assert {"mor.emma", "far.emma"} <= {p["username"] for p in second["participants"]}


def test_r_meet_01_ended_meeting_denies_join_and_chat(person) -> None:
    """R-MEET-01: for an ended meeting the Åmot rule denies joining and writing, even for the invited."""
    mor = person("mor.emma")
    ended = SimpleNamespace(kind="lesson", status="ended", organiser_id=0, pupil_id=None,
                            guidelines_read_at=None, school_id=None)
    context = {"kind": "lesson", "invited_ids": frozenset({mor.pk}), "removed": False, "pupil": None}
    for action in ("meeting.join", "meeting.chat"):
        decision = decide(action, mor, ended, context)
        assert not decision.allowed
        assert "amot.ending-meeting-ends-for-all" in decision.rule_ids


@pytest.mark.parametrize("username", ["kari.4a", "mor.emma", "emma.4a", "rektor"])
def test_r_meet_16_r_meet_02_recording_is_denied_for_everyone(person, username) -> None:
    """R-MEET-16, R-MEET-02: `meeting.record` is denied whoever asks; both guideline rules say why."""
    decision = decide("meeting.record", person(username), SimpleNamespace(kind="development_talk"),
                      {"kind": "development_talk"})
    assert not decision.allowed
    assert {"bergen.no-recording", "amot.no-recording"} <= set(decision.rule_ids)


def test_r_meet_14_join_denied_for_invited_person_outside_the_allowed_roles(talk, person) -> None:
    """R-MEET-14: even if someone outside the pupil's circle were on the invitation list, the Bergen
    rule refuses their join to a development talk."""
    meeting = Meeting.objects.get(pk=talk["id"])
    nils = person("nils.9b")
    context = {"kind": "development_talk", "invited_ids": frozenset({nils.pk}), "removed": False,
               "pupil": person("emma.4a").facts, "stale_link": False}
    decision = decide("meeting.join", nils, meeting, context)
    assert not decision.allowed
    assert decision.denied_by.rule.id == "bergen.talk-participants"


def test_r_meet_17_chat_denied_in_talk_by_the_bergen_rule(talk, person) -> None:
    """R-MEET-17: the engine refuses `meeting.chat` in a development talk even for its organiser."""
    meeting = Meeting.objects.get(pk=talk["id"])
    kari = person("kari.4a")
    decision = decide("meeting.chat", kari, meeting, {"kind": meeting.kind, "invited_ids": frozenset({kari.pk})})
    assert not decision.allowed
    assert decision.denied_by.rule.id == "bergen.no-chat-in-talk"


def test_r_meet_12_check_invitation_endpoint_points_out_each_finding(api_client) -> None:
    """R-MEET-12: the inline check lists each finding with its type and span; a generic text passes."""
    kari = api_client("kari.4a")
    body = post(kari, "/api/v1/meetings/check-invitation", {
        "kind": "development_talk", "student_username": "emma.4a",
        "title": "Samtale med Emma Solheim", "invitation_text": "Ring meg på 912 34 567 om astmaen."}).json()
    assert body["ok"] is False
    assert [(f["type"], f["text"]) for f in body["findings"]] == [
        ("name", "Emma Solheim"), ("phone", "912 34 567"), ("health", "astmaen")]
    assert body["findings"][0]["start"] == len("Samtale med ")
    ok = post(kari, "/api/v1/meetings/check-invitation", {
        "kind": "development_talk", "student_username": "emma.4a", "title": "Utviklingssamtale",
        "invitation_text": "Velkommen."}).json()
    assert ok == {"ok": True, "findings": [], "message": ""}


def test_r_meet_12_create_refuses_personal_data_with_findings(create_meeting) -> None:
    """R-MEET-12: creating a talk whose title names the pupil is refused, findings in the error JSON."""
    response = create_meeting("kari.4a", student_username="emma.4a", title="Emmas samtale",
                              invitation_text="E-post: mor@example.no")
    assert response.status_code == 403
    body = response.json()
    assert body["rule"] == "bergen.generic-invitation"
    assert body["requirement"] == "R-MEET-12"
    assert [(f["field"], f["type"]) for f in body["findings"]] == [("title", "name"), ("invitation_text", "email")]


def test_r_meet_14_explain_sees_the_meeting_context(talk, person) -> None:
    """R-MEET-14: `trygg policy explain` rebuilds a join's context: mor.sara's join of Emma's talk is
    denied with the same rules the API uses."""
    from trygg.policy.explain import explain

    decision = explain("meeting.join", "mor.sara", f"meeting:{talk['id']}").decision
    assert not decision.allowed
    assert {"core_meetings.invited-join", "bergen.talk-participants"} <= set(decision.rule_ids)
