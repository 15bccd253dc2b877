"""JSON API of the safety app: staff's alerts, acknowledging one, turning one into a case, and a
receiver's "show an adult" on a message read as a threat."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from trygg.api_schemas import CaseCreatedOut, Out
from trygg.safety import actions, queries

router = Router(tags=["safety"])


class PupilOut(Out):
    username: str
    name: str


class AlertOut(Out):
    """An alert as its recipient sees it; never the text (R-SAFE-02)."""

    id: int
    kind: str
    category: str
    pupil: PupilOut | None
    conversation_id: int | None
    conversation_kind: str | None
    school_class_id: int | None
    counts: dict[str, Any]
    created_at: str
    acknowledged: bool
    acknowledged_at: str | None
    case_id: int | None


class AlertCaseOut(CaseCreatedOut):
    alert: AlertOut


@router.get("/safety/alerts", response=list[AlertOut])
def list_alerts(request: HttpRequest) -> list[dict[str, Any]]:
    """The alerts sent to the viewer (staff; none: ``[]``). Pupils and guardians: 404."""
    return [queries.serialise_alert(a) for a in queries.list_alerts(request.auth)]


@router.post("/safety/alerts/{alert_id}/acknowledge", response=AlertOut, operation_id="acknowledge_alert")
def acknowledge(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return queries.serialise_alert(actions.check_acknowledge(request.auth, alert_id))


@router.post("/safety/alerts/{alert_id}/case", response={201: AlertCaseOut})
def make_case(request: HttpRequest, alert_id: int) -> Status:
    """Turn the alert into a case (the same case again on a repeat)."""
    case = actions.check_make_case(request.auth, alert_id)
    return Status(201, {"case_id": case.pk, "status": case.status,
                        "alert": queries.serialise_alert(queries.access_alert(request.auth, alert_id))})


@router.post("/messages/{message_id}/show-an-adult", response={201: CaseCreatedOut})
def show_an_adult(request: HttpRequest, message_id: int) -> Status:
    """R-PUP-02: the receiver of a message read as a threat reports it; the message is kept as evidence."""
    case = actions.check_show_an_adult(request.auth, message_id)
    return Status(201, {"case_id": case.pk, "status": case.status})
