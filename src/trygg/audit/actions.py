"""Writing audit records. Called by actions and by scoped reads of confidential data."""

from __future__ import annotations

from typing import Any

from django.db import models

from trygg.audit.models import AuditRecord
from trygg.database import insert_row, insert_statement


def _record(actor: Any, action: str, target: models.Model | None, detail: dict[str, Any]) -> AuditRecord:
    # The person's own column, not ``actor.facts``: facts read six tables, and this runs on every send.
    municipality_id = getattr(actor, "municipality_id", None) if actor else None
    return AuditRecord(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        municipality_id=municipality_id,
        detail=detail,
    )


def do_audit(actor: Any, action: str, target: models.Model | None = None, **detail: Any) -> AuditRecord:
    """Append one audit record; ``detail`` must hold identifiers, never message text or secrets."""
    record = _record(actor, action, target, detail)
    insert_row(record)  # every send writes one: no ORM statement to build (trygg.database)
    return record


def audit_statement(actor: Any, action: str, target: models.Model | None = None,
                    **detail: Any) -> tuple[str, list[Any]]:
    """The statement that appends the audit record ``do_audit`` would, for a caller that runs it in
    its own transaction later (a message's send hands it to the event log, which makes it with the
    stream's rows: one round trip fewer per send on PostgreSQL)."""
    return insert_statement(_record(actor, action, target, detail))
