"""A meeting's time defaults to the next school-day slot; a family's meetings page leads with their meetings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.test import Client

from trygg.meetings.views import next_school_slot

OSLO = ZoneInfo("Europe/Oslo")


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A time in 2026 in Oslo; 30 November 2026 is a Monday, 4 December a Friday."""
    return datetime(2026, month, day, hour, minute, tzinfo=OSLO)


def test_planned_at_night_the_default_is_eight_the_same_school_day() -> None:
    assert next_school_slot(at(11, 30, 3, 12)) == at(11, 30, 8)


def test_planned_in_the_morning_the_default_is_the_next_whole_hour_after_an_hour() -> None:
    assert next_school_slot(at(11, 30, 10, 30)) == at(11, 30, 12)
    assert next_school_slot(at(11, 30, 10)) == at(11, 30, 11)


def test_planned_after_school_or_on_friday_evening_the_default_is_the_next_school_day() -> None:
    assert next_school_slot(at(11, 30, 14, 30)) == at(12, 1, 8)  # Monday afternoon -> Tuesday 08:00
    assert next_school_slot(at(12, 4, 18)) == at(12, 7, 8)  # Friday 4 Dec evening -> Monday 7 Dec


def test_a_guardians_meetings_page_leads_with_the_meetings(person) -> None:
    client = Client()
    client.force_login(person("mor.emma"))
    page = client.get("/meetings/").content.decode()
    assert page.index('data-testid="meeting-list"') < page.index('data-testid="ask-meeting"')
    teacher = Client()
    teacher.force_login(person("kari.4a"))
    page = teacher.get("/meetings/").content.decode()
    assert page.index('data-testid="new-meeting"') < page.index('data-testid="meeting-list"')
