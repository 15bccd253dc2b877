"""Writing audit records. Called by actions and by scoped reads of confidential data."""

from __future__ import annotations

from typing import Any

from django.db import models

from trygg.audit.models import AuditRecord
from trygg.database import insert_row


def do_audit(actor: Any, action: str, target: models.Model | None = None, **detail: Any) -> AuditRecord:
    """Append one audit record; ``detail`` must hold identifiers, never message text or secrets."""
    # The person's own column, not ``actor.facts``: facts read six tables, and this runs on every send.
    municipality_id = getattr(actor, "municipality_id", None) if actor else None
    record = AuditRecord(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        municipality_id=municipality_id,
        detail=detail,
    )
    insert_row(record)  # every send writes one: no ORM statement to build (trygg.database)
    return record
