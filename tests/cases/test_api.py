"""Reports and cases through the JSON API, against the real database (issue 7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cases.conftest import post
from trygg.audit.models import AuditRecord
from trygg.cases.models import Case, ChecklistStep, EvidenceItem, Participant
from trygg.messaging.models import Message
from trygg.policy import engine
from trygg.policy.models import PolicyConfig


def configure(demo: Any, *, drop_packs: tuple[str, ...] = (), overrides: dict[str, Any] | None = None) -> None:
    config = PolicyConfig.objects.get(municipality=demo)
    if drop_packs:
        active = config.active_packs or list(engine.registry().packs)
        config.active_packs = [p for p in active if p not in drop_packs]
    if overrides:
        config.overrides = {**config.overrides, **overrides}
    config.save()
    engine.invalidate()


def steps_of(case_id: int) -> list[str]:
    return list(ChecklistStep.objects.filter(case_id=case_id).values_list("key", flat=True))


def roles_of(case_id: int) -> set[tuple[str, str]]:
    return set(Participant.objects.filter(case_id=case_id).values_list("person__username", "role"))


@pytest.fixture
def emma_case(class_message: Any, report: Any) -> tuple[int, Message]:
    message = class_message("noah.4a", "Ingen liker deg, Emma.")
    response = report("emma.4a", message_id=message.pk, category="bullying", description="Han var slem")
    assert response.status_code == 201, response.content
    return response.json()["case_id"], message


# ------------------------------------------------------------------------ reporting and evidence


def test_r_case_01_r_safe_02_a_reported_message_is_frozen_with_its_context(emma_case, class_message, person):
    """R-CASE-01, R-SAFE-02, R-CASE-13, R-PUP-02: emma.4a reports a classmate's message; the case holds a
    snapshot of the message, the messages around it, the sender's profile as shown then and the members."""
    case_id, message = emma_case
    snapshot = EvidenceItem.objects.get(case_id=case_id, kind="message_snapshot")
    content = json.loads(snapshot.canonical)
    assert content["reported_message_id"] == message.pk
    reported = [m for m in content["messages"] if m["reported"]]
    assert reported[0]["body"] == "Ingen liker deg, Emma." and reported[0]["sender"]["username"] == "noah.4a"
    assert any(m["body"] == "Hva gjorde dere i helgen?" for m in content["messages"])
    assert content["sender_profile"]["username"] == "noah.4a"
    assert content["sender_profile"]["classes"] == ["4A"] and "pupil" in content["sender_profile"]["roles"]
    assert {"emma.4a", "noah.4a", "kari.4a"} <= {m["username"] for m in content["members"]}
    assert content["captured_at"] and reported[0]["created_at"]
    # The canonical form: sorted keys, no spaces, UTF-8 text kept as it is.
    assert snapshot.canonical == json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_r_case_01_deleting_or_editing_the_message_leaves_the_snapshot_unchanged(emma_case, person):
    """R-CASE-01: the sender edits and then deletes the message; the snapshot and its hash do not change,
    and the held message keeps its text in the database (hidden from chat)."""
    from trygg.messaging import actions as chat

    case_id, message = emma_case
    before = EvidenceItem.objects.get(case_id=case_id, kind="message_snapshot")
    noah = person("noah.4a")
    chat.check_edit(noah, message.pk, "Bare tuller")
    chat.check_delete(noah, message.pk)
    after = EvidenceItem.objects.get(pk=before.pk)
    assert (after.canonical, after.sha256, after.chain_hash) == (before.canonical, before.sha256, before.chain_hash)
    held = Message.objects.get(pk=message.pk)
    assert held.legal_hold and held.deleted_at is not None and held.body == "Bare tuller"


def test_r_priv_03_held_evidence_survives_the_retention_purge(emma_case, demo):
    """R-SAFE-02 with R-PRIV-03: retention erases old messages but not those a case holds."""
    from datetime import timedelta

    from django.utils import timezone

    from trygg.messaging.actions import purge_expired_messages

    _case_id, message = emma_case
    purge_expired_messages(timezone.now() + timedelta(days=3650))
    assert Message.objects.get(pk=message.pk).body == "Ingen liker deg, Emma."


def test_r_case_13_evidence_items_form_a_hash_chain(emma_case):
    """R-CASE-13: every evidence item has the SHA-256 of its canonical JSON and chains to the one before."""
    from trygg.cases.evidence import GENESIS, chain, sha256_hex, verify_case

    case_id, _message = emma_case
    items = list(EvidenceItem.objects.filter(case_id=case_id).order_by("seq"))
    assert [i.kind for i in items] == ["message_snapshot", "statement"]
    prev = GENESIS
    for item in items:
        assert item.sha256 == sha256_hex(item.canonical.encode("utf-8"))
        assert item.prev_hash == prev and item.chain_hash == chain(prev, item.sha256)
        prev = item.chain_hash
    assert verify_case(Case.objects.get(pk=case_id)) == []


def test_a_message_the_reporter_cannot_see_is_404(class_message, report):
    """R-PRIV-01: sara.9b is not in the 4A channel; reporting its message answers 404, and no case is made."""
    message = class_message("noah.4a", "Hei")
    response = report("sara.9b", message_id=message.pk, category="bullying")
    assert response.status_code == 404
    assert not Case.objects.filter(message_id=message.pk).exists()


def test_r_case_21_categories_are_the_policys_list_plus_trygg_s_own(report, api_client, demo):
    """R-CASE-21: an unknown category is 400; a municipality that narrows S4's list refuses the rest
    (403: the category exists, it is not offered here), naming the rule; Trygg's own categories stay."""
    assert report("kari.4a", category="gossip", description="x").status_code == 400
    listed = api_client("kari.4a").get("/api/v1/report-categories").json()
    assert {"criticism_of_staff", "hate_group", "threat_violence_stalking", "exclusion", "bullying",
            "teacher_concern"} <= set(listed)
    assert "teacher_concern" not in api_client("emma.4a").get("/api/v1/report-categories").json()
    configure(demo, overrides={"dk_policy.harassment-categories": {"categories": ["criticism_of_staff"]}})
    refused = report("kari.4a", category="hate_group", description="x")
    assert refused.status_code == 403 and refused.json()["requirement"] == "R-CASE-21"
    assert refused.json()["rule"] == "dk_policy.harassment-categories"
    assert report("kari.4a", category="exclusion", description="x").status_code == 201


def test_r_staff_03_a_concern_report_goes_to_leadership_and_only_staff_make_one(report, person):
    """R-STAFF-03: kari.4a's concern about noah.4a opens a case for rektor with the concern steps;
    a pupil cannot file a concern report."""
    assert report("emma.4a", category="teacher_concern", description="x").status_code == 403
    response = report("kari.4a", category="teacher_concern", description="Noah virker redd",
                      reported_username="noah.4a")
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["case_id"])
    assert case.assigned_leader == person("rektor")
    assert steps_of(case.pk) == ["assess_concern", "concern_report_decided"]
    assert ("noah.4a", "subject") in roles_of(case.pk) and ("rektor", "leader") in roles_of(case.pk)
    assert not Participant.objects.filter(case=case, role="harmed").exists()


# ------------------------------------------------------------------------ checklists from the packs


def test_r_case_11_r_par_03_pupil_misbehaviour_lists_contacting_both_families(emma_case):
    """R-CASE-11, R-PAR-03: a pupil harmed by a pupil: contact both families, inform the leaders and the
    class teacher; the harmed pupil's guardians are in the case."""
    case_id, _ = emma_case
    steps = steps_of(case_id)
    assert {"contact_harmed_family", "contact_offender_family", "inform_leadership",
            "inform_class_teacher"} <= set(steps)
    roles = roles_of(case_id)
    assert {("mor.emma", "harmed_guardian"), ("far.emma", "harmed_guardian"), ("emma.4a", "harmed"),
            ("noah.4a", "reported"), ("rektor", "leader")} <= roles
    # R-PUP-02: the pupil showed an adult: the contact teacher is in the case.
    assert ("kari.4a", "teacher") in roles


def test_r_case_15_r_case_18_harassment_opens_stop_and_psychologist_steps(emma_case):
    """R-CASE-15, R-CASE-18: asking the offender to stop and offering a psychologist are on the list."""
    case_id, _ = emma_case
    assert {"ask_offender_to_stop", "consider_psychologist"} <= set(steps_of(case_id))


def test_r_case_10_r_case_02_threats_against_staff_police_work_injury_and_safety_system(report):
    """R-CASE-10, R-CASE-02, R-STF-03, R-CASE-04, R-CASE-14: a threat against kari.4a opens the police and
    work-injury reports and the safety-system registration (with a reference); TR and AMR join."""
    response = report("kari.4a", category="threat_violence_stalking", description="Trussel på Facebook",
                      reported_username="mor.sara")
    case_id = response.json()["case_id"]
    steps = steps_of(case_id)
    assert {"police_report", "work_injury_report", "register_safety_system", "agree_next_steps",
            "deescalate_with_reps"} <= set(steps)
    assert ChecklistStep.objects.get(case_id=case_id, key="register_safety_system").needs_reference
    assert {("tr", "union_rep"), ("vo", "safety_rep")} <= roles_of(case_id)
    # R-CASE-19: the offender is a parent, so a meeting with the leaders is on the list.
    assert "parent_meeting" in steps
    # R-CASE-16, R-CASE-03, R-CASE-13: it happened elsewhere: ask the platform, report the sender there,
    # secure screenshots.
    assert {"ask_platform_to_delete", "report_to_network", "secure_screenshots"} <= set(steps)


def test_r_par_04_a_guardian_reports_harassment_of_staff_with_documentation(report):
    """R-PAR-04: mor.emma reports criticism of kari.4a; leaders get it with the documentation step, and
    the harmed teacher's representatives join (R-STF-03)."""
    response = report("mor.emma", category="criticism_of_staff", description="Innlegg om læreren",
                      harmed_usernames=["kari.4a"])
    assert response.status_code == 201
    case_id = response.json()["case_id"]
    assert "collect_documentation" in steps_of(case_id)
    assert {("kari.4a", "harmed"), ("mor.emma", "reporter"), ("tr", "union_rep")} <= roles_of(case_id)


def test_a_municipality_without_the_danish_pack_loses_its_steps(class_message, report, demo):
    """Checklist steps are data of the active packs: without dk_policy, the S4 steps are not opened."""
    configure(demo, drop_packs=("dk_policy",))
    message = class_message("noah.4a", "Dust")
    case_id = report("emma.4a", message_id=message.pk, category="bullying").json()["case_id"]
    steps = steps_of(case_id)
    assert "contact_harmed_family" not in steps and "consider_psychologist" not in steps
    # The snapshot is still made (R-CASE-01 and R-SAFE-02 are in other packs).
    assert EvidenceItem.objects.filter(case_id=case_id, kind="message_snapshot").exists()


# ------------------------------------------------------------------------ access


def test_r_priv_01_only_participants_see_a_case_and_every_view_is_audited(
    emma_case, api_client, person, strong_api_client
):
    """R-PRIV-01, R-PRIV-02: rektor sees the file; mor.emma the status; the reported pupil, another class's
    guardian and the union rep (not in a pupil case) get 404; each view writes an audit row."""
    case_id, _ = emma_case
    full = strong_api_client("rektor").get(f"/api/v1/cases/{case_id}")
    assert full.status_code == 200
    body = full.json()
    assert body["evidence"][0]["kind"] == "message_snapshot" and body["checklist"]
    limited = api_client("mor.emma").get(f"/api/v1/cases/{case_id}").json()
    assert limited["status"] == "reported" and "checklist" not in limited and "evidence" not in limited
    for outsider in ("noah.4a", "mor.sara", "tr", "ola.9b", "admin"):
        assert api_client(outsider).get(f"/api/v1/cases/{case_id}").status_code == 404, outsider
    viewers = set(AuditRecord.objects.filter(action="case.viewed", target_id=str(case_id)).values_list(
        "actor__username", flat=True))
    assert viewers == {"rektor", "mor.emma"}


def test_the_municipality_admin_sees_cases_only_where_configured(emma_case, api_client, demo, strong_api_client):
    """R-PRIV-01: the admin sees a case only when the municipality's setting says so."""
    case_id, _ = emma_case
    assert strong_api_client("admin").get(f"/api/v1/cases/{case_id}").status_code == 404
    configure(demo, overrides={"core_cases.participants-view": {"admin_sees_cases": True}})
    assert strong_api_client("admin").get(f"/api/v1/cases/{case_id}").status_code == 200
    assert case_id in [c["id"] for c in strong_api_client("admin").get("/api/v1/cases").json()["handling"]]


def test_my_reports_show_status_without_what_the_reported_person_is_told(emma_case, api_client, strong_api_client):
    """R-PUP-02: emma.4a sees her report and its status; the timeline shows status changes, not the
    handling (checklist notes, contacts)."""
    case_id, _ = emma_case
    rektor = strong_api_client("rektor")
    step = ChecklistStep.objects.get(case_id=case_id, key="ask_offender_to_stop")
    post(rektor, f"/api/v1/cases/{case_id}/steps/{step.pk}", {"done": True, "note": "Snakket med Noah"})
    post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "assessed"})
    mine = api_client("emma.4a").get("/api/v1/cases").json()["mine"]
    assert [c["id"] for c in mine] == [case_id]
    seen = api_client("emma.4a").get(f"/api/v1/cases/{case_id}").json()
    assert seen["status"] == "assessed"
    assert {t["type"] for t in seen["timeline"]} <= {"reported", "status_changed", "confirmed",
                                                      "confirmation_withdrawn"}
    assert "Snakket med Noah" not in json.dumps(seen)


# ------------------------------------------------------------------------ workflow and closing


def test_r_case_20_closing_needs_the_harmed_sides_agreement_which_can_be_withdrawn(
    emma_case, api_client, strong_api_client
):
    """R-CASE-20: rektor cannot close until emma's guardian agrees (409 naming the rule); the agreement can
    be withdrawn before closing; once given again, the case closes and further changes are 409."""
    case_id, _ = emma_case
    rektor, mor = strong_api_client("rektor"), api_client("mor.emma")
    for to in ("assessed", "actions", "follow_up"):
        assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": to}).status_code == 200
    for step in ChecklistStep.objects.filter(case_id=case_id):
        assert post(rektor, f"/api/v1/cases/{case_id}/steps/{step.pk}", {"done": True}).status_code == 200
    refused = post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"})
    assert refused.status_code == 409
    assert refused.json()["requirement"] == "R-CASE-20"
    assert refused.json()["rule"] == "dk_policy.closed-when-victim-says"
    assert post(mor, f"/api/v1/cases/{case_id}/victim-confirmation", {"confirmed": True}).json()["victim_confirmed"]
    assert post(mor, f"/api/v1/cases/{case_id}/victim-confirmation", {"confirmed": False}).status_code == 200
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"}).status_code == 409
    assert post(mor, f"/api/v1/cases/{case_id}/victim-confirmation").status_code == 200
    closed = post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert post(mor, f"/api/v1/cases/{case_id}/victim-confirmation", {"confirmed": False}).status_code == 409


def test_r_case_20_only_the_harmed_side_can_agree(emma_case, api_client, strong_api_client):
    """R-CASE-20: the leader cannot agree on the harmed person's behalf; an outsider gets 404."""
    case_id, _ = emma_case
    assert post(strong_api_client("rektor"), f"/api/v1/cases/{case_id}/victim-confirmation").status_code == 403
    assert post(api_client("mor.sara"), f"/api/v1/cases/{case_id}/victim-confirmation").status_code == 404


def test_the_workflow_moves_one_step_at_a_time_and_only_the_leader_drives_it(emma_case, api_client, strong_api_client):
    """R-CASE-12: only the assigned leader moves the case; skipping a step or an unknown status is refused."""
    case_id, _ = emma_case
    assert post(api_client("emma.4a"), f"/api/v1/cases/{case_id}/transition", {"to": "assessed"}).status_code == 403
    rektor = strong_api_client("rektor")
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "actions"}).status_code == 409
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "done"}).status_code == 400
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {}).status_code == 400


def test_r_case_02_a_step_is_marked_done_with_who_when_and_a_reference(report, api_client, strong_api_client):
    """R-CASE-02: the safety-system registration is ticked off with its reference, who and when."""
    case_id = report("kari.4a", category="threat_violence_stalking", description="Trussel").json()["case_id"]
    step = ChecklistStep.objects.get(case_id=case_id, key="register_safety_system")
    body = post(strong_api_client("rektor"), f"/api/v1/cases/{case_id}/steps/{step.pk}",
                {"done": True, "reference": "SN-2026-0042"}).json()
    done = next(s for s in body["checklist"] if s["key"] == "register_safety_system")
    assert done["done"] and done["reference"] == "SN-2026-0042" and done["done_by"]["username"] == "rektor"
    assert done["done_at"]
    # The union rep in the case may tick off steps too (R-CASE-14); the harmed teacher may not.
    assert post(strong_api_client("tr"), f"/api/v1/cases/{case_id}/steps/{step.pk}", {"done": False}).status_code == 200
    assert post(api_client("kari.4a"), f"/api/v1/cases/{case_id}/steps/{step.pk}", {"done": True}).status_code == 403


def test_r_case_12_leaders_see_open_cases_oldest_first_with_their_age(report, api_client, strong_api_client):
    """R-CASE-12: rektor's list holds the open cases, oldest first, with age and overdue flags."""
    from datetime import timedelta

    first = report("kari.4a", category="exclusion", description="a").json()["case_id"]
    second = report("kari.4a", category="bullying", description="b").json()["case_id"]
    Case.objects.filter(pk=first).update(created_at=Case.objects.get(pk=first).created_at - timedelta(days=3),
                                         respond_by=Case.objects.get(pk=first).created_at - timedelta(days=2))
    handling = strong_api_client("rektor").get("/api/v1/cases").json()["handling"]
    ids = [c["id"] for c in handling]
    assert ids.index(first) < ids.index(second)
    oldest = handling[ids.index(first)]
    assert oldest["age_hours"] >= 72 and oldest["response_overdue"]
    assert not handling[ids.index(second)]["response_overdue"]


def test_bad_input_is_400_not_500(api_client, emma_case):
    """Errors are JSON: unknown fields, wrong types and over-long text are 400."""
    kari = api_client("kari.4a")
    assert post(kari, "/api/v1/reports", {"category": "bullying", "evil": 1}).status_code == 400
    assert post(kari, "/api/v1/reports", {"category": 7}).status_code == 400
    assert post(kari, "/api/v1/reports", {"category": "bullying", "description": "x" * 6000}).status_code == 400
    # Somebody the reporter cannot see at their school is not found (404, issue 12.9), as a message is.
    assert post(kari, "/api/v1/reports", {"category": "bullying", "description": "x",
                                          "reported_username": "nobody"}).status_code == 404
    assert post(kari, "/api/v1/reports", {"category": "bullying", "message_id": 10**12}).status_code == 404
    assert api_client(None).post("/api/v1/reports").status_code == 401


def test_r_case_19_a_parent_offender_is_called_to_a_meeting(report):
    """R-CASE-19: when the reported person is a parent, the leaders' meeting with them is on the checklist."""
    case_id = report("kari.4a", category="criticism_of_staff", description="Hånende kommentarer",
                     reported_username="far.jonas").json()["case_id"]
    assert "parent_meeting" in steps_of(case_id)
    other = report("emma.4a", category="bullying", description="x", reported_username="noah.4a").json()["case_id"]
    assert "parent_meeting" not in steps_of(other)


def test_r_case_16_r_case_03_harassment_elsewhere_asks_the_platform_and_reports_the_sender_there(
        report, class_message):
    """R-CASE-16, R-CASE-03: a report about a post elsewhere lists asking the platform's administrator to
    delete it and reporting the sender to the network; a reported chat message does not."""
    elsewhere = report("kari.4a", category="accusations_rumours", description="Rykter på Facebook").json()["case_id"]
    assert {"ask_platform_to_delete", "report_to_network", "secure_screenshots"} <= set(steps_of(elsewhere))
    message = class_message("noah.4a", "Dust")
    here = report("emma.4a", message_id=message.pk, category="bullying").json()["case_id"]
    assert not {"ask_platform_to_delete", "report_to_network"} & set(steps_of(here))


def test_ids_out_of_range_are_404_not_500(api_client, emma_case, strong_api_client):
    """Errors are JSON: a case, step or message id no database can hold answers 404, never 500."""
    huge = 10**20
    rektor = strong_api_client("rektor")
    case_id, _ = emma_case
    assert rektor.get(f"/api/v1/cases/{huge}").status_code == 404
    assert post(rektor, f"/api/v1/cases/{case_id}/steps/{huge}", {"done": True}).status_code == 404
    assert post(rektor, "/api/v1/reports", {"category": "bullying", "message_id": huge}).status_code == 404
    assert post(rektor, f"/api/v1/cases/{huge}/transition", {"to": "assessed"}).status_code == 404
