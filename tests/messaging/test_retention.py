"""Retention that does what the rulebook says (issue 11, item 10, R-PRIV-03): files go after
``media_retention_days``, held evidence is released once its case has been closed for
``legal_hold_days``, and ``trygg retention --dry-run`` lists what would go."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.messaging.conftest import post
from tests.messaging.test_attachments import media_root, stored_path, upload  # noqa: F401 - fixture
from trygg.cases.actions import held_by_cases, holds_to_release, release_legal_holds
from trygg.cases.models import Case
from trygg.messaging.attachments import purge_expired_media
from trygg.messaging.models import Attachment, Message


def test_r_priv_03_files_go_after_media_retention_days_except_evidence(api_client, media_root,  # noqa: F811
                                                                       django_capture_on_commit_callbacks):
    """R-PRIV-03: kari.4a's photo to mor.emma is kept for 180 days (the default) and deleted after;
    one a case holds stays."""
    conversation = post(api_client("kari.4a"), "/api/v1/conversations",
                        {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    old = upload(api_client("kari.4a"), conversation, nobody=True).json()
    held = upload(api_client("kari.4a"), conversation, nobody=True).json()
    Message.objects.filter(attachment_id=held["id"]).update(legal_hold=True)
    old_path = stored_path(old["id"], media_root)
    assert old_path.exists()
    now = timezone.now()
    assert purge_expired_media(now + timedelta(days=179)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_expired_media(now + timedelta(days=181)) == 1
    assert Attachment.objects.get(pk=old["id"]).status == "deleted"
    assert not old_path.exists()
    assert Attachment.objects.get(pk=held["id"]).status != "deleted"


def _reported_case(api_client: Any, class_message_text: str = "Dum") -> tuple[int, list[int]]:
    from trygg.directory.models import SchoolClass
    from trygg.messaging import actions as chat

    channel, _g = chat.ensure_class_channels(SchoolClass.objects.get(name="9B"))
    ola_client = api_client("ola.9b")
    ann = post(ola_client, f"/api/v1/conversations/{channel.pk}/messages",
               {"body": "Oppgave til fredag", "client_txn_id": "ann-r"}).json()
    from trygg.directory.models import Person

    chat.check_set_discussion(Person.objects.get(username="ola.9b"), ann["id"], True)
    nasty = post(api_client("jonas.9b"), f"/api/v1/conversations/{channel.pk}/messages",
                 {"body": class_message_text, "client_txn_id": "n-r", "reply_to": ann["id"]}).json()
    case_id = post(api_client("sara.9b"), "/api/v1/reports",
                   {"message_id": nasty["id"], "category": "bullying", "description": "x"}).json()["case_id"]
    held = list(Message.objects.filter(legal_hold=True).values_list("id", flat=True))
    return case_id, held


def test_r_priv_03_legal_holds_are_released_after_the_case_closed_plus_the_period(api_client):
    """R-PRIV-03: while the case is open, or closed less than ``legal_hold_days`` (365) ago, its
    evidence stays held; after that the daily job releases it, so retention can erase it."""
    case_id, held = _reported_case(api_client)
    assert held and set(held) <= held_by_cases()
    assert holds_to_release() == []
    Case.objects.filter(pk=case_id).update(status="closed", closed_at=timezone.now() - timedelta(days=30))
    assert release_legal_holds() == 0
    Case.objects.filter(pk=case_id).update(closed_at=timezone.now() - timedelta(days=366))
    assert release_legal_holds() == len(held)
    assert not Message.objects.filter(legal_hold=True).exists()


def test_r_priv_03_trygg_retention_dry_run_lists_what_would_go(api_client, capsys):
    """R-PRIV-03: ``trygg retention --dry-run`` lists the holds, files and messages that would go and
    changes nothing."""
    from trygg.cli import main

    case_id, held = _reported_case(api_client)
    Case.objects.filter(pk=case_id).update(status="closed", closed_at=timezone.now() - timedelta(days=400))
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"legal holds to release (closed cases past their period): {len(held)}" in out
    assert "Dry run" in out
    assert Message.objects.filter(legal_hold=True).count() == len(held)


def test_r_priv_03_the_rulebook_shows_the_real_numbers(api_client):
    """R-PRIV-03: the retention rule's reason states the three periods in force."""
    rules = {r["id"]: r for r in api_client("kari.4a").get("/api/v1/policy/rules").json()}
    rule = rules["core_platform.retention"]
    assert rule["params"]["legal_hold_days"] == 365
    assert "365" in json.dumps(rule, ensure_ascii=False) and "180" in json.dumps(rule, ensure_ascii=False)


def test_r_priv_03_meeting_chat_reflections_and_requests_have_retention_too(api_client, person, capsys):
    """R-PRIV-03: a meeting's chat goes after 30 days, a pupil's reflections and a guardian's request
    for a meeting after 365 (the pack's defaults); the dry run counts them first."""
    from trygg.cli import main
    from trygg.meetings.models import Meeting, MeetingMessage, MeetingRequest, Reflection
    from trygg.meetings.retention import expired_meeting_data, purge_expired_meeting_data

    talk = post(api_client("kari.4a"), "/api/v1/meetings", {
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": "2026-12-05T10:00:00+01:00",
        "title": "Utviklingssamtale", "invitation_text": "Velkommen."}).json()
    meeting = Meeting.objects.get(pk=talk["id"])
    emma = person("emma.4a")
    Reflection.objects.create(meeting=meeting, pupil=emma, text="Jeg har lært brøk")
    MeetingMessage.objects.create(meeting=meeting, sender=person("kari.4a"), body="Hei")
    MeetingRequest.objects.create(requester=person("mor.emma"), pupil=emma, school=meeting.school,
                                  school_class=meeting.school_class, addressee="contact_teacher", topic="Lekser")
    now = timezone.now()
    assert expired_meeting_data(now + timedelta(days=10)) == {"meeting_chat": 0, "reflections": 0,
                                                               "meeting_requests": 0}
    assert expired_meeting_data(now + timedelta(days=31))["meeting_chat"] == 1
    assert purge_expired_meeting_data(now + timedelta(days=31)) == 1
    assert not MeetingMessage.objects.exists() and Reflection.objects.exists()
    assert purge_expired_meeting_data(now + timedelta(days=366)) == 2
    assert not Reflection.objects.exists() and not MeetingRequest.objects.exists()
    assert main(["retention", "--dry-run"]) == 0
    assert "meeting chat past their period: 0" in capsys.readouterr().out
