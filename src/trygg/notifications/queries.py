"""Scoped reads of the notifications app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from trygg.directory.models import Municipality, Person, SchoolClass
from trygg.errors import NotFoundOrHidden
from trygg.notifications.models import ClassQuietHours, PushSubscription


def list_quiet_hours(viewer: Person) -> list[dict[str, Any]]:
    """Return the quiet hours of the classes the viewer is contact teacher for (R-CHAT-05)."""
    classes = SchoolClass.objects.filter(id__in=viewer.facts.contact_class_ids).order_by("name")
    schedules = dict(ClassQuietHours.objects.filter(school_class__in=classes).values_list("school_class_id",
                                                                                           "schedule"))
    result = []
    for school_class in classes:
        schedule = schedules.get(school_class.pk) or {}
        span = next(iter(schedule.values()), None)
        result.append({"class": school_class, "schedule": schedule, "days": set(schedule),
                       "start": span[0] if span else "", "end": span[1] if span else ""})
    return result


def access_quiet_hours(viewer: Person, class_id: int) -> dict[str, Any]:
    """Return a class's quiet hours for people who belong to the class; anyone else gets 404."""
    from trygg.directory.queries import list_classes

    if not list_classes(viewer).filter(id=class_id).exists():
        raise NotFoundOrHidden()
    quiet = ClassQuietHours.objects.filter(school_class_id=class_id).first()
    return {"class_id": class_id, "schedule": quiet.schedule if quiet else {}}


def list_push_devices(viewer: Person) -> list[PushSubscription]:
    """Return the devices the viewer turned push notices on for, newest first."""
    return list(PushSubscription.objects.filter(person=viewer).order_by("-created_at", "-id"))


@dataclass(frozen=True)
class SchoolCalendar:
    """A year of a municipality's days without school, and whether the viewer may import days off."""

    municipality: Municipality
    year: int
    days: list[dict[str, str]]
    can_import: bool


def access_school_calendar(viewer: Person, year: int | None = None) -> SchoolCalendar:
    """Return the school calendar of the viewer's municipality for ``year`` (this year if absent or
    implausible): the public holidays and the imported days off. Staff only; 404 for anyone else."""
    from trygg.notifications.calendar import days_off
    from trygg.policy.engine import decide

    municipality = Municipality.objects.filter(pk=viewer.municipality_id).first()
    if not viewer.facts.is_staff_member or municipality is None:
        raise NotFoundOrHidden()
    year = year if year is not None and 2000 <= year <= 2100 else date.today().year
    days = [{"date": d.isoformat(), "name": name}
            for d, name in days_off(municipality, date(year, 1, 1), date(year, 12, 31)).items()]
    can_import = decide("calendar.import", viewer, municipality, {"municipality_id": municipality.pk}).allowed
    return SchoolCalendar(municipality, year, days, can_import)
