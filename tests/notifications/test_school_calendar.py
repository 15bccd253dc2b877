"""The school calendar (issue 11, item 12, R-CHAT-05): public holidays and imported days off per
municipality; school-hours holds do not apply on them and reminders wait for a school day."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from trygg.notifications.calendar import import_days_off, is_day_off
from trygg.notifications.models import Notice, NoticePreference, SchoolDayOff
from trygg.policy.engine import decide

OSLO = ZoneInfo("Europe/Oslo")
# Tuesday in the Easter holiday week of 2027 (Easter Sunday is 28 March): a weekday, school hours,
# but no school. Maundy Thursday (25 March) is a public holiday.
EASTER_TUESDAY = datetime(2027, 3, 23, 10, 0, tzinfo=OSLO)
ORDINARY_TUESDAY = datetime(2027, 3, 16, 10, 0, tzinfo=OSLO)
EASTER_WEEK = "2027-03-22,2027-03-24,Påskeferie\n"


def _held(person, when) -> bool:
    facts = person("emma.4a").facts
    context = {"recipient": facts, "social": True, "now": when, "school_id": None, "class_id": None,
               "class_quiet_hours": {}, "day_off": is_day_off(facts.municipality_id, when.date())}
    decision = decide("notification.deliver", facts, None, context)
    return any(o.rule_id == "amot.social-notifications-held" for o in decision.obligations_of("hold"))


def test_r_chat_05_social_notices_are_not_held_in_school_hours_of_the_easter_holiday(person, demo):
    """R-CHAT-05: a social notice at 10:00 on an ordinary Tuesday waits; in the Easter holiday the
    municipality imported, and on Maundy Thursday (a public holiday), it does not."""
    assert _held(person, ORDINARY_TUESDAY)
    assert _held(person, EASTER_TUESDAY)
    import_days_off(demo, EASTER_WEEK)
    assert not _held(person, EASTER_TUESDAY)
    assert not _held(person, datetime(2027, 3, 25, 10, 0, tzinfo=OSLO))


def test_r_case_17_a_reminder_due_in_the_holiday_waits_for_the_next_school_day(person, demo):
    """R-CASE-17: rektor's follow-up reminder queued on the Tuesday of Easter waits until 08:00 on
    Tuesday 30 March (Monday the 29th is Easter Monday); a new-case notice does not wait."""
    from trygg.notifications.actions import queue_notice

    import_days_off(demo, EASTER_WEEK)
    rektor = person("rektor")
    NoticePreference.objects.update_or_create(person=rektor, defaults={"email_other": True})
    queue_notice(rektor.pk, "case_follow_up", now=EASTER_TUESDAY)
    queue_notice(rektor.pk, "case_new", now=EASTER_TUESDAY)
    due = {n.kind: n.due_at.astimezone(OSLO) for n in Notice.objects.filter(person=rektor)}
    assert due["case_follow_up"] == datetime(2027, 3, 30, 8, 0, tzinfo=OSLO)
    assert due["case_new"] == EASTER_TUESDAY


def test_the_calendar_is_imported_by_the_cli_and_shown_to_staff(tmp_path: Path, demo, api_client):
    """The municipality imports its days off from a CSV file with ``trygg calendar import``; staff
    see holidays and imported days through the API; guardians get 404."""
    from trygg.cli import main

    csv_file = tmp_path / "skolerute.csv"
    csv_file.write_text("# first,last,name\n" + EASTER_WEEK + "2027-10-04,2027-10-08,Høstferie\n", encoding="utf-8")
    assert main(["calendar", "import", "--municipality", str(demo.pk), str(csv_file)]) == 0
    assert SchoolDayOff.objects.filter(municipality=demo).count() == 8
    days = {d["date"]: d["name"] for d in api_client("kari.4a").get("/api/v1/school-calendar?year=2027").json()}
    assert days["2027-03-23"] == "Påskeferie" and days["2027-10-06"] == "Høstferie"
    assert "2027-03-25" in days and "2027-05-17" in days  # Maundy Thursday, Constitution Day
    assert api_client("mor.emma").get("/api/v1/school-calendar").status_code == 404


def test_a_broken_calendar_file_is_refused_whole(demo):
    """A line with a last date before the first is refused and nothing is imported."""
    with pytest.raises(ValueError):
        import_days_off(demo, EASTER_WEEK + "2027-10-08,2027-10-04,Feil\n")
    assert not SchoolDayOff.objects.exists()


def _page(person, username: str):
    from django.test import Client

    client = Client()
    client.force_login(person(username))
    return client


def test_r_chat_05_staff_see_the_school_calendar_page_and_leaders_import_on_it(person, demo):
    """R-CHAT-05: kari.4a sees 2027's holidays and imported days off on the school-calendar page but
    no import form (a POST is 403, nothing imported); rektor imports the Easter week there (audited)
    and everyone on staff then sees it; mor.emma gets 404."""
    from trygg.audit.models import AuditRecord

    kari = _page(person, "kari.4a")
    assert 'data-testid="school-calendar-link"' in kari.get("/").content.decode()
    assert 'data-testid="school-calendar-link"' not in _page(person, "mor.emma").get("/").content.decode()
    page = kari.get("/school-calendar/?year=2027")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-date="2027-03-25"' in html and 'data-date="2027-05-17"' in html
    assert 'data-testid="calendar-import"' not in html
    refused = kari.post("/school-calendar/?year=2027", {"days": EASTER_WEEK})
    assert refused.status_code == 403 and not SchoolDayOff.objects.exists()
    rektor = _page(person, "rektor")
    assert 'data-testid="calendar-import"' in rektor.get("/school-calendar/?year=2027").content.decode()
    imported = rektor.post("/school-calendar/?year=2027", {"days": EASTER_WEEK})
    assert imported.status_code == 302
    assert SchoolDayOff.objects.filter(municipality=demo).count() == 3
    assert AuditRecord.objects.filter(action="calendar.imported", actor=person("rektor")).exists()
    assert "Påskeferie" in kari.get("/school-calendar/?year=2027").content.decode()
    assert _page(person, "mor.emma").get("/school-calendar/").status_code == 404


def test_r_chat_05_a_broken_file_on_the_page_is_refused_whole_with_a_reason(person, demo):
    """A leader's upload with a period that ends before it starts is 400 with the reason on the
    page, and nothing is imported."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    broken = SimpleUploadedFile("skolerute.csv", (EASTER_WEEK + "2027-10-08,2027-10-04,Feil\n").encode())
    refused = _page(person, "rektor").post("/school-calendar/", {"file": broken})
    assert refused.status_code == 400 and 'data-testid="refusal"' in refused.content.decode()
    assert not SchoolDayOff.objects.exists()


def test_r_list_03_a_class_list_reminder_in_the_holiday_waits_for_the_next_school_day(person, demo):
    """R-LIST-03, R-CHAT-05: the class-list reminder kari.4a sends to the guardians on the Tuesday of
    Easter reaches them at 08:00 on the first school day after it; on an ordinary Tuesday at once."""
    from trygg.notifications.actions import queue_notice

    import_days_off(demo, EASTER_WEEK)
    mor = person("mor.emma")
    NoticePreference.objects.update_or_create(person=mor, defaults={"email_other": True})
    queue_notice(mor.pk, "classlist_reminder", now=EASTER_TUESDAY)
    queue_notice(mor.pk, "classlist_reminder", now=ORDINARY_TUESDAY)
    due = sorted(n.due_at.astimezone(OSLO) for n in Notice.objects.filter(person=mor, kind="classlist_reminder"))
    assert due == [ORDINARY_TUESDAY, datetime(2027, 3, 30, 8, 0, tzinfo=OSLO)]
