"""JSON API of the notifications app: a person's notice preferences and a class's quiet hours."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict

from trygg.notifications import actions, queries

router = Router(tags=["notifications"])


class PreferencesIn(Schema):
    model_config = ConfigDict(extra="forbid")
    email_messages: bool | None = None
    sms_messages: bool | None = None
    email_other: bool | None = None
    sms_other: bool | None = None


class QuietHoursIn(Schema):
    model_config = ConfigDict(extra="forbid")
    schedule: dict[str, Any]


def _prefs(pref: Any) -> dict[str, bool]:
    return {name: getattr(pref, name) for name in actions.PREFERENCE_FIELDS}


@router.get("/notifications/preferences")
def get_preferences(request: HttpRequest) -> dict[str, bool]:
    return _prefs(actions.preferences_of([request.auth.pk])[request.auth.pk])


@router.put("/notifications/preferences")
def set_preferences(request: HttpRequest, payload: PreferencesIn) -> dict[str, bool]:
    values = {k: v for k, v in payload.model_dump().items() if v is not None}
    return _prefs(actions.check_set_preferences(request.auth, **values))


@router.put("/classes/{class_id}/quiet-hours")
def set_quiet_hours(request: HttpRequest, class_id: int, payload: QuietHoursIn) -> dict[str, Any]:
    quiet = actions.check_set_quiet_hours(request.auth, class_id, payload.schedule)
    return {"class_id": class_id, "schedule": quiet.schedule}


@router.get("/classes/{class_id}/quiet-hours")
def get_quiet_hours(request: HttpRequest, class_id: int) -> dict[str, Any]:
    return queries.access_quiet_hours(request.auth, class_id)


@router.get("/school-calendar", summary="Days without school in the staff member's municipality")
def school_calendar(request: HttpRequest, year: int | None = None) -> list[dict[str, str]]:
    """Staff see the school calendar their notices and reminders follow (R-CHAT-05); 404 for others."""
    from datetime import date

    from trygg.directory.models import Municipality
    from trygg.errors import NotFoundOrHidden
    from trygg.notifications.calendar import days_off

    viewer = request.auth
    municipality = Municipality.objects.filter(pk=viewer.municipality_id).first()
    if not viewer.facts.is_staff_member or municipality is None:
        raise NotFoundOrHidden()
    year = year if year is not None and 2000 <= year <= 2100 else date.today().year
    return [{"date": d.isoformat(), "name": name}
            for d, name in days_off(municipality, date(year, 1, 1), date(year, 12, 31)).items()]
