"""Follow-up reminders (R-CASE-17) and case events to the right people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.cases.conftest import post
from trygg.cases.actions import remind_follow_ups
from trygg.cases.models import Case, TimelineEvent
from trygg.events.models import Event, EventRecipient
from trygg.notifications.models import Notice


def test_r_case_17_a_case_has_the_policys_follow_up_interval(emma_case_factory):
    """R-CASE-17: a new case with a harmed person gets the policy's contact interval (7 days in S4)."""
    case = Case.objects.get(pk=emma_case_factory())
    assert case.follow_up_days == 7
    assert timedelta(days=6, hours=23) < case.next_follow_up_at - case.created_at <= timedelta(days=7, seconds=1)


def test_r_case_17_the_leader_is_reminded_once_when_the_follow_up_passes(emma_case_factory, person):
    """R-CASE-17: when the interval passes, one neutral reminder is queued for the leader; a second run
    does not repeat it; a logged contact arms the next one."""
    case_id = emma_case_factory()
    rektor = person("rektor")
    later = timezone.now() + timedelta(days=8)
    before = Notice.objects.filter(person=rektor, kind="case_follow_up").count()
    assert remind_follow_ups(later) >= 1
    assert Notice.objects.filter(person=rektor, kind="case_follow_up").count() == before + 1
    assert remind_follow_ups(later) == 0
    assert TimelineEvent.objects.filter(case_id=case_id, type="reminder_queued").count() == 1


def test_r_case_17_a_logged_contact_and_a_new_interval_move_the_next_follow_up(
    emma_case_factory, api_client, strong_api_client
):
    """R-CASE-17: the leader logs a contact (with a note) and sets a shorter interval for this case."""
    case_id = emma_case_factory()
    rektor = strong_api_client("rektor")
    response = post(rektor, f"/api/v1/cases/{case_id}/contacts", {"note": "Snakket med Emma og mor"})
    assert response.status_code == 201
    assert post(rektor, f"/api/v1/cases/{case_id}/follow-up", {"days": 2}).json()["follow_up_days"] == 2
    case = Case.objects.get(pk=case_id)
    assert case.next_follow_up_at - timezone.now() < timedelta(days=2, minutes=1)
    assert TimelineEvent.objects.filter(case_id=case_id, type="contact_logged").exists()
    assert post(rektor, f"/api/v1/cases/{case_id}/follow-up", {"days": 0}).status_code == 400
    assert post(rektor, f"/api/v1/cases/{case_id}/contacts", {"note": ""}).status_code == 400
    assert post(api_client("emma.4a"), f"/api/v1/cases/{case_id}/contacts", {"note": "x"}).status_code == 403


def test_case_events_go_to_the_people_who_see_the_case_and_carry_no_text(emma_case_factory, person: Any):
    """Case events reach the participants who can open the case (not the reported pupil) and hold ids only."""
    case_id = emma_case_factory()
    event = Event.objects.filter(type="case.updated", payload__case_id=case_id).latest("id")
    assert set(event.payload) == {"case_id", "status", "change"}
    recipients = set(EventRecipient.objects.filter(event=event).values_list("person__username", flat=True))
    assert {"emma.4a", "mor.emma", "far.emma", "rektor", "kari.4a"} <= recipients
    assert "noah.4a" not in recipients and "tr" not in recipients


def test_a_new_case_queues_a_neutral_notice_to_its_handlers(emma_case_factory, person):
    """R-STAFF-06: the leader is told that something new waits in Trygg, by a notice without names or text."""
    from trygg.notifications.texts import notice_text

    emma_case_factory()
    notice = Notice.objects.filter(person=person("rektor"), kind="case_new").latest("id")
    subject, body = notice_text("nb", [notice.kind], 0, False)
    assert "Noah" not in body and "Emma" not in body and "slem" not in body
    assert body.endswith("/cases/handling/")
