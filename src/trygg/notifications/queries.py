"""Scoped reads of the notifications app."""

from __future__ import annotations

from typing import Any

from trygg.directory.models import Person, SchoolClass
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
