"""Rule logic for out-of-app notices (R-CHAT-05 held notices and quiet hours, R-STAFF-06 neutral text).

Context of ``notification.deliver``: ``recipient`` (``PersonFacts``), ``social`` (bool), ``now``
(aware datetime, local time of the municipality), ``school_id``, ``class_id``,
``class_quiet_hours`` (the class's own weekly schedule, or ``None`` for the rule's default),
``day_off`` (no school that day in the municipality's calendar).
A hold is an obligation ``hold`` with ``until`` (an aware datetime): the notice waits and goes
out in the digest after.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from django.utils import timezone

from trygg.policy.engine import Effect, Request, allow, deny, logic, oblige
from trygg.policy.packs_schema import WEEKDAYS


def _local(now: datetime) -> datetime:
    return timezone.localtime(now) if timezone.is_aware(now) else now


def end_of_span(schedule: Mapping[str, Any] | None, now: datetime) -> datetime | None:
    """Return when the span of ``schedule`` that contains ``now`` ends, or ``None`` if none does."""
    if not schedule:
        return None
    local = _local(now)
    span = schedule.get(WEEKDAYS[local.weekday()])
    if not span:
        return None
    start = time.fromisoformat(span[0])
    end = time.fromisoformat(span[1])
    if start <= local.time() < end:
        return local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return None


@logic("notifications.social_held_in_school_hours")
def social_held_in_school_hours(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-05: a notice from a social conversation waits until school hours are over; on a day
    without school (a holiday in the municipality's school calendar, ``day_off``) nothing waits."""
    if not req.context.get("social") or req.context.get("day_off"):
        return None
    now = req.context.get("now") or timezone.now()
    until = end_of_span(params.get("school_hours"), now)
    if until is None:
        return None
    return oblige("hold", None, until=until)


@logic("notifications.class_quiet_hours")
def class_quiet_hours(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-05: during a class's quiet hours (set by its contact teacher), notices wait."""
    if req.context.get("class_id") is None:
        return None
    schedule = req.context.get("class_quiet_hours")
    if schedule is None:
        schedule = params.get("quiet_hours")
    now = req.context.get("now") or timezone.now()
    until = end_of_span(schedule, now)
    if until is None:
        return None
    return oblige("hold", None, until=until)


@logic("notifications.neutral_text")
def neutral_text(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-06: out-of-app notices carry only neutral text (the sender builds no other)."""
    return oblige("neutral_text", None)


@logic("notifications.quiet_hours_by_contact_teacher")
def quiet_hours_by_contact_teacher(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-05: only the class's contact teacher sets its quiet hours."""
    school_class = req.target
    class_id = getattr(school_class, "id", school_class)
    return allow() if class_id in req.actor.contact_class_ids else deny()


@logic("notifications.calendar_by_leaders")
def calendar_by_leaders(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The days without school of a municipality (its holidays) are imported by a leader of one of
    its schools or by its administrator. ``context["municipality_id"]`` is the calendar's."""
    municipality_id = req.context.get("municipality_id")
    if municipality_id is None:
        return deny()
    if municipality_id in req.actor.admin_municipality_ids:
        return allow()
    if req.actor.led_school_ids and req.actor.municipality_id == municipality_id:
        return allow()
    return deny()
