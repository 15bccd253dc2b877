"""The calendar feed (R-MEET-11): ICS of one's own calendar, and the secret subscription address."""

from __future__ import annotations

from django.test import Client

from trygg.meetings.ics import escape, fold

from .conftest import post


def unfold(text: str) -> str:
    return text.replace("\r\n ", "")


def test_r_meet_11_the_talk_is_in_the_pupils_ics_with_its_link(talk, api_client) -> None:
    """R-MEET-11: emma.4a's own calendar.ics holds the talk, with its link, as valid iCalendar."""
    response = api_client("emma.4a").get("/api/v1/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    body = unfold(text)
    assert f"UID:meeting-{talk['id']}@trygg" in body
    assert "SUMMARY:Utviklingssamtale" in body
    assert talk["link"] in body


def test_r_meet_11_guardian_has_the_talk_while_the_pupil_has_not_opened_her_calendar(talk, api_client) -> None:
    """R-MEET-11: mor.emma's feed carries the invitation (the pupil had not opened her calendar)."""
    assert f"meeting-{talk['id']}@trygg" in api_client("mor.emma").get("/api/v1/calendar.ics").content.decode()
    assert f"meeting-{talk['id']}@trygg" not in api_client("mor.sara").get("/api/v1/calendar.ics").content.decode()


def test_r_meet_18_after_a_halt_the_feed_has_the_new_link_and_a_higher_sequence(talk, api_client) -> None:
    """R-MEET-18: the new invitation goes through the same route: the feed's event gets the new link."""
    halted = post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/halt").json()
    body = unfold(api_client("emma.4a").get("/api/v1/calendar.ics").content.decode())
    assert halted["link"] in body
    assert talk["link"] not in body
    assert "SEQUENCE:1" in body


def test_r_meet_01_an_ended_meeting_is_cancelled_without_link(talk, api_client) -> None:
    """R-MEET-01: an ended meeting stays in the feed as CANCELLED, with no link to join."""
    post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/end")
    body = unfold(api_client("emma.4a").get("/api/v1/calendar.ics").content.decode())
    assert "STATUS:CANCELLED" in body
    assert "/room/" not in body


def test_r_meet_11_secret_feed_works_without_sign_in_and_can_be_replaced(talk, api_client) -> None:
    """R-MEET-11: the per-person secret address serves the feed without signing in; a reset kills it."""
    emma = api_client("emma.4a")
    url = emma.get("/api/v1/calendar/feed").json()["url"]
    path = url[url.index("/api/v1/"):]
    anonymous = Client()
    response = anonymous.get(path)
    assert response.status_code == 200
    assert f"meeting-{talk['id']}@trygg" in response.content.decode()
    new_url = post(emma, "/api/v1/calendar/feed/reset").json()["url"]
    assert new_url != url
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/api/v1/calendar/feed/nonsense.ics").status_code == 404
    assert anonymous.get("/api/v1/calendar.ics").status_code == 401


def test_ics_text_is_escaped_and_folded_on_character_boundaries() -> None:
    """Commas, semicolons, backslashes and newlines are escaped; long lines fold without splitting UTF-8."""
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold("DESCRIPTION:" + "æøå" * 40)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "æøå" * 40
