"""Retention of what meetings leave behind (R-PRIV-03): the chat of a meeting, a pupil's reflections
and guardians' meeting requests are deleted after the periods in ``core_platform.retention``.

A daily job deletes one batch per kind and municipality; ``trygg retention --dry-run`` counts
what would go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from trygg.audit.actions import do_audit
from trygg.directory.models import Municipality
from trygg.meetings.models import MeetingMessage, MeetingRequest, Reflection
from trygg.policy.engine import params_for

RETENTION_RULE = "core_platform.retention"
BATCH = 1000


def _expired(municipality_id: int, now: datetime) -> dict[str, QuerySet[Any]]:
    params = params_for(RETENTION_RULE, municipality_id)
    found: dict[str, QuerySet[Any]] = {}
    chat_days = int(params.get("meeting_chat_retention_days") or 0)
    if chat_days > 0:
        found["meeting_chat"] = MeetingMessage.objects.filter(
            meeting__school__municipality_id=municipality_id, created_at__lt=now - timedelta(days=chat_days))
    reflection_days = int(params.get("reflection_retention_days") or 0)
    if reflection_days > 0:
        found["reflections"] = Reflection.objects.filter(
            meeting__school__municipality_id=municipality_id, updated_at__lt=now - timedelta(days=reflection_days))
    request_days = int(params.get("meeting_request_retention_days") or 0)
    if request_days > 0:
        found["meeting_requests"] = MeetingRequest.objects.filter(
            school__municipality_id=municipality_id, created_at__lt=now - timedelta(days=request_days))
    return found


def expired_meeting_data(now: datetime | None = None) -> dict[str, int]:
    """Return how many meeting chat messages, reflections and requests are past their periods."""
    now = now or timezone.now()
    counts: dict[str, int] = {"meeting_chat": 0, "reflections": 0, "meeting_requests": 0}
    for municipality_id in Municipality.objects.values_list("id", flat=True):
        for kind, qs in _expired(municipality_id, now).items():
            counts[kind] += qs.count()
    return counts


def purge_expired_meeting_data(now: datetime | None = None) -> int:
    """Delete one batch of each kind past its period, per municipality; return how many rows went."""
    now = now or timezone.now()
    deleted = 0
    for municipality_id in Municipality.objects.values_list("id", flat=True):
        for kind, qs in _expired(municipality_id, now).items():
            ids = list(qs.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                continue
            with transaction.atomic():
                qs.model.objects.filter(pk__in=ids).delete()
                do_audit(None, "meetings.retention_purged", None, kind=kind, count=len(ids),
                         municipality_id=municipality_id)
            deleted += len(ids)
    return deleted
