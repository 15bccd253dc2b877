"""JSON API of the notifications app: a person's notice preferences and a class's quiet hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from trygg.api_schemas import Out
from trygg.notifications import actions, push, queries

router = Router(tags=["notifications"])


class PreferencesIn(Schema):
    # Strict: 0 and "yes" are not booleans.
    model_config = ConfigDict(extra="forbid", strict=True)
    email_messages: StrictBool | None = None
    sms_messages: StrictBool | None = None
    email_other: StrictBool | None = None
    sms_other: StrictBool | None = None


class QuietHoursIn(Schema):
    model_config = ConfigDict(extra="forbid")
    schedule: dict[str, Any]


class PushKeysIn(Schema):
    model_config = ConfigDict(extra="forbid")
    # base64url: an uncompressed P-256 point (65 bytes, 0x04 first) and a 16-byte secret (RFC 8291).
    # Documented, and checked by the action (which answers bad_push_keys).
    p256dh: str = Field(json_schema_extra={"pattern": r"^B[A-P][A-Za-z0-9_-]{84}[AQgw]=?$"})
    auth: str = Field(json_schema_extra={"pattern": r"^[A-Za-z0-9_-]{21}[AQgw](==)?$"})


class PushSubscriptionIn(Schema):
    # The browser's PushSubscription.toJSON() as it is (expirationTime is not used); device is our label.
    model_config = ConfigDict(extra="forbid")
    # The push service's https address, documented; the action checks it (bad_push_endpoint), and a
    # development setting may allow http.
    endpoint: str = Field(max_length=2000, json_schema_extra={
        "pattern": r"^https://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?(/[^\s]*)?$"})
    keys: PushKeysIn
    # Strict: false is not a time.
    expiration_time: StrictInt | StrictFloat | None = Field(default=None, alias="expirationTime")
    device: str = ""


class PreferencesOut(Out):
    email_messages: bool
    sms_messages: bool
    email_other: bool
    sms_other: bool


class QuietHoursOut(Out):
    class_id: int
    schedule: dict[str, Any]


class DayOffOut(Out):
    date: str
    name: str


class PushKeyOut(Out):
    public_key: str


class PushDeviceOut(Out):
    id: int
    device: str
    endpoint: str
    created_at: datetime
    last_success_at: datetime | None


class PushDeviceAddedOut(Out):
    id: int


def _prefs(pref: Any) -> dict[str, bool]:
    return {name: getattr(pref, name) for name in actions.PREFERENCE_FIELDS}


@router.get("/notifications/preferences", response=PreferencesOut)
def get_preferences(request: HttpRequest) -> dict[str, bool]:
    return _prefs(actions.preferences_of([request.auth.pk])[request.auth.pk])


@router.put("/notifications/preferences", response=PreferencesOut)
def set_preferences(request: HttpRequest, payload: PreferencesIn) -> dict[str, bool]:
    values = {k: v for k, v in payload.model_dump().items() if v is not None}
    return _prefs(actions.check_set_preferences(request.auth, **values))


@router.put("/classes/{class_id}/quiet-hours", response=QuietHoursOut)
def set_quiet_hours(request: HttpRequest, class_id: int, payload: QuietHoursIn) -> dict[str, Any]:
    quiet = actions.check_set_quiet_hours(request.auth, class_id, payload.schedule)
    return {"class_id": class_id, "schedule": quiet.schedule}


@router.get("/classes/{class_id}/quiet-hours", response=QuietHoursOut)
def get_quiet_hours(request: HttpRequest, class_id: int) -> dict[str, Any]:
    return queries.access_quiet_hours(request.auth, class_id)


@router.get("/school-calendar", response=list[DayOffOut],
            summary="Days without school in the staff member's municipality")
def school_calendar(request: HttpRequest, year: int | None = None) -> list[dict[str, str]]:
    """Staff see the school calendar their notices and reminders follow (R-CHAT-05); 404 for others."""
    return queries.access_school_calendar(request.auth, year).days


@router.get("/push/key", response=PushKeyOut)
def push_key(request: HttpRequest) -> dict[str, str]:
    """The VAPID application server key browsers subscribe with."""
    return {"public_key": push.public_key()}


@router.get("/push/subscriptions", response=list[PushDeviceOut])
def push_devices(request: HttpRequest) -> list[dict[str, Any]]:
    # The endpoint is the owner's own; the page compares it with this browser's subscription.
    return [{"id": sub.pk, "device": sub.device, "endpoint": sub.endpoint, "created_at": sub.created_at,
             "last_success_at": sub.last_success_at} for sub in queries.list_push_devices(request.auth)]


@router.post("/push/subscriptions", response={201: PushDeviceAddedOut})
def add_push_device(request: HttpRequest, payload: PushSubscriptionIn) -> Status:
    sub = actions.check_add_push_device(request.auth, payload.endpoint, payload.keys.p256dh, payload.keys.auth,
                                        payload.device)
    return Status(201, {"id": sub.pk})


@router.delete("/push/subscriptions/{subscription_id}", response={204: None})
def remove_push_device(request: HttpRequest, subscription_id: int) -> Status:
    actions.check_remove_push_device(request.auth, subscription_id)
    return Status(204, None)
