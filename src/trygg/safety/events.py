"""Typed events of the safety app. An alert's payload holds ids, a category, the writing pupil's
name, counts and times: never message text."""

from __future__ import annotations

from trygg.events.payloads import EventPayload, register_event_type


class PupilRef(EventPayload):
    id: int
    username: str
    name: str


class AlertPayload(EventPayload):
    alert_id: int
    kind: str
    category: str
    pupil: PupilRef | None
    conversation_id: int | None
    counts: dict[str, int]
    created_at: str


class AlertAcknowledgedPayload(EventPayload):
    alert_id: int
    acknowledged: bool
    case_id: int | None


SAFETY_ALERT = register_event_type("safety.alert", AlertPayload)
SAFETY_ALERT_UPDATED = register_event_type("safety.alert_updated", AlertAcknowledgedPayload)
