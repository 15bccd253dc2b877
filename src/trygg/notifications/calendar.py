"""The school calendar of a municipality: public holidays (the ``holidays`` library, by the
municipality's country) and the days off the municipality imports (school holidays, planning days).

School-hours holds (R-CHAT-05) do not apply on a day without school, and reminders that are due on
one wait until the next school day. Staff see the calendar at ``/school-calendar/``; a school's
leaders (and the municipality's administrator) import days off there or with ``trygg calendar import``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

import holidays as public_holidays
from django.db import transaction
from django.utils import timezone

from trygg.directory.models import Municipality, Person
from trygg.notifications.models import SchoolDayOff

# Reminders wait for a school day: a case's follow-up, and the class-list reminder to guardians (it
# asks them to do something for the school, which can wait for the holiday to end). Notices a person
# caused just now about something new (a case, a meeting) go when they are due.
REMINDER_KINDS = frozenset({"case_follow_up", "classlist_reminder"})
SCHOOL_DAY_STARTS = time(8, 0)
MAX_IMPORT_DAYS = 400


def days_off(municipality: Municipality, start: date, end: date) -> dict[date, str]:
    """Return the days without school from ``start`` to ``end`` (inclusive), with their names;
    weekends are not listed (every weekday schedule already leaves them out)."""
    years = list(range(start.year, end.year + 1))
    found: dict[date, str] = {
        d: str(name) for d, name in public_holidays.country_holidays(municipality.country, years=years).items()
        if start <= d <= end
    }
    for row in SchoolDayOff.objects.filter(municipality=municipality, date__gte=start, date__lte=end):
        found.setdefault(row.date, row.name)
    return dict(sorted(found.items()))


def is_day_off(municipality_id: int | None, day: date) -> bool:
    """Return whether ``day`` has no school in the municipality (weekend, holiday, imported day off)."""
    if day.weekday() >= 5:
        return True
    municipality = Municipality.objects.filter(pk=municipality_id).first() if municipality_id else None
    if municipality is None:
        return False
    return day in days_off(municipality, day, day)


def next_school_day_start(municipality_id: int | None, now: datetime) -> datetime:
    """Return ``now`` if today is a school day, else 08:00 on the next school day (local time)."""
    local = timezone.localtime(now)
    day = local.date()
    if not is_day_off(municipality_id, day):
        return now
    for _ in range(MAX_IMPORT_DAYS):
        day += timedelta(days=1)
        if not is_day_off(municipality_id, day):
            return timezone.make_aware(datetime.combine(day, SCHOOL_DAY_STARTS))
    return now


def reminder_due(person_id: int, kind: str, now: datetime) -> datetime:
    """Return when a notice of ``kind`` to the person is due: reminders wait for a school day."""
    if kind not in REMINDER_KINDS:
        return now
    municipality_id = Person.objects.filter(pk=person_id).values_list("municipality_id", flat=True).first()
    return next_school_day_start(municipality_id, now)


def import_days_off(municipality: Municipality, text: str) -> int:
    """Import days off from CSV lines ``first date,last date,name`` (ISO dates; the last date may be
    empty for one day). Return how many days were added; days already there keep their name."""
    rows: list[SchoolDayOff] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        if len(row) < 3:
            raise ValueError(f"line {line_no}: expected first date,last date,name")
        first = date.fromisoformat(row[0].strip())
        last = date.fromisoformat(row[1].strip()) if row[1].strip() else first
        if last < first or (last - first).days > MAX_IMPORT_DAYS:
            raise ValueError(f"line {line_no}: the last date must follow the first, within a year")
        name = row[2].strip()[:100] or "Day off"
        day = first
        while day <= last:
            rows.append(SchoolDayOff(municipality=municipality, date=day, name=name))
            day += timedelta(days=1)
    with transaction.atomic():
        before = SchoolDayOff.objects.filter(municipality=municipality).count()
        SchoolDayOff.objects.bulk_create(rows, ignore_conflicts=True)
        return SchoolDayOff.objects.filter(municipality=municipality).count() - before
