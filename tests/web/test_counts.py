"""What waits for a person: counts in /api/v1/me, the menu, the home page and the tab title."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from tests.messaging.test_attachments import class_channel, upload
from trygg.cases import actions as cases
from trygg.messaging import actions as chat
from trygg.notifications.models import Notice
from trygg.web.counts import count_waiting


def counts(api_client: Any, username: str) -> dict[str, int]:
    return api_client(username).get("/api/v1/me").json()["counts"]


def page_of(person: Any, path: str = "/") -> str:
    client = Client()
    client.force_login(person)
    return client.get(path).content.decode()


def test_unread_messages_are_counted_until_read(api_client, person) -> None:
    """Two unread messages count 2 in /me, the menu and the tab title; reading them clears it."""
    kari, mor = person("kari.4a"), person("mor.emma")
    before = counts(api_client, "mor.emma")["messages"]
    conversation = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    chat.check_send(kari, conversation.pk, "Hei", "c-1")
    chat.check_send(kari, conversation.pk, "Hallo igjen", "c-2")
    assert counts(api_client, "mor.emma")["messages"] == before + 2
    assert counts(api_client, "kari.4a")["messages"] == 0  # one's own messages are never unread
    html = page_of(mor)
    total = sum(counts(api_client, "mor.emma").values())
    assert f"<title>({total}) " in html
    assert 'data-count="messages"' in html
    chat.check_mark_read(mor, conversation.pk)
    assert counts(api_client, "mor.emma")["messages"] == before


def test_photos_waiting_for_my_permission_are_counted(api_client, person, settings, tmp_path) -> None:
    """R-PAR-02: a photo of emma.4a waits for mor.emma's answer; noah.4a's guardian has nothing waiting."""
    settings.MEDIA_ROOT = tmp_path / "media"
    before = counts(api_client, "mor.emma")["photos"]
    response = upload(api_client("kari.4a"), class_channel("4A").pk, pictured=["emma.4a"])
    assert response.status_code == 201
    assert counts(api_client, "mor.emma")["photos"] == before + 1
    assert counts(api_client, "verge.noah")["photos"] == 0


def test_r_pup_02_contact_teacher_is_told_neutrally_of_a_case_on_his_pupil(api_client, person) -> None:
    """sara.9b shows an adult: ola.9b, her contact teacher, is in the case, sees it waiting and gets a
    neutral notice; nils.9b, who only teaches the class a subject, sees nothing."""
    before = counts(api_client, "ola.9b")["cases"]
    case = cases.check_report(person("sara.9b"), category="bullying", description="Jonas sier stygge ting om meg")
    assert counts(api_client, "ola.9b")["cases"] == before + 1
    assert counts(api_client, "nils.9b")["cases"] == 0
    assert counts(api_client, "sara.9b")["cases"] == 0
    html = page_of(person("ola.9b"))
    assert 'data-count="cases"' in html and "/cases/handling/" in html
    notices = Notice.objects.filter(person=person("ola.9b"), kind="case_new")
    assert notices.exists() and all(n.conversation_id is None for n in notices)
    assert case.pk


def test_meetings_today_are_counted_for_the_invited(api_client, person) -> None:
    """A development talk today counts for the invited guardian; tomorrow it no longer does."""
    from trygg.meetings import actions as meetings

    starts = timezone.localtime() + timedelta(days=2)
    starts = starts.replace(hour=10, minute=0, second=0, microsecond=0)
    meetings.check_create_meeting(person("kari.4a"), "development_talk", starts, "Samtale", "Velkommen.",
                                  student_username="emma.4a")
    assert count_waiting(person("mor.emma"), now=starts.replace(hour=8))["meetings_today"] >= 1
    assert count_waiting(person("mor.ali"), now=starts.replace(hour=8))["meetings_today"] == 0
    assert count_waiting(person("mor.emma"), now=starts + timedelta(days=1))["meetings_today"] == 0


def test_nothing_waiting_is_said_on_the_home_page(person) -> None:
    """R-A11Y-01: a person with nothing waiting reads so, instead of a row of zeros."""
    html = page_of(person("rektor"))
    assert "data-testid=\"waiting\"" in html
