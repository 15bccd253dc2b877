"""Reads of the safety app, scoped to the viewer: an alert is seen only by the member of staff it
was sent to; pupils and guardians have no alert list at all (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trygg.directory.models import Person
from trygg.errors import NotFoundOrHidden
from trygg.safety.models import Alert


def _staff_only(viewer: Person) -> None:
    if not viewer.facts.is_staff_member:
        raise NotFoundOrHidden()


def list_alerts(viewer: Person, *, open_only: bool = False) -> QuerySet[Alert]:
    """Return the alerts sent to ``viewer``, newest first (staff with none: empty; others: 404)."""
    _staff_only(viewer)
    alerts = Alert.objects.filter(recipient=viewer).select_related("pupil").order_by("-created_at", "-id")
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return alerts


def access_alert(viewer: Person, alert_id: Any) -> Alert:
    """Return one of the viewer's alerts, or 404 for a missing one and for anyone else's."""
    _staff_only(viewer)
    try:
        number = int(alert_id)
    except (TypeError, ValueError):
        raise NotFoundOrHidden() from None
    alert = Alert.objects.filter(pk=number, recipient=viewer).select_related("pupil").first()
    if alert is None:
        raise NotFoundOrHidden()
    return alert


def count_open_alerts(viewer: Person) -> int:
    if not viewer.facts.is_staff_member:
        return 0
    return Alert.objects.filter(recipient=viewer, acknowledged_at__isnull=True).count()


def serialise_alert(alert: Alert) -> dict[str, Any]:
    """An alert as its recipient sees it: category, the writing pupil, which conversation, when,
    counts; never the text (R-SAFE-02)."""
    pupil = alert.pupil
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "category": alert.category,
        "pupil": {"username": pupil.username, "name": pupil.name} if pupil is not None else None,
        "conversation_id": alert.conversation_id,
        "conversation_kind": alert.conversation_kind or None,
        "school_class_id": alert.school_class_id,
        "counts": dict(alert.counts or {}),
        "created_at": alert.created_at.isoformat(),
        "acknowledged": alert.acknowledged_at is not None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "case_id": alert.case_id,
    }
