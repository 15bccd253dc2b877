"""JSON API of the shell: the person's own data (R-PRIV-04)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from trygg.api_schemas import Out
from trygg.audit.actions import do_audit
from trygg.signin.stepup import require_step_up
from trygg.web import audit
from trygg.web.views import own_data_response

router = Router(tags=["me"])


class OwnDataOut(Out):
    """The right-of-access document (R-PRIV-04): one section per kind of data Trygg holds."""


@router.get("/me/export", response=OwnDataOut, summary="Everything Trygg holds about me (right of access)")
def export_me(request: HttpRequest) -> HttpResponse:
    return own_data_response(request.auth)


class AuditQuery(Schema):
    person: str | None = Field(default=None, max_length=150)
    kind: str | None = Field(default=None, max_length=60)
    after: int | None = Field(default=None, ge=0, le=audit.MAX_ID)


class ActorOut(Out):
    username: str
    name: str


class AuditRecordOut(Out):
    id: int
    at: str
    actor: ActorOut | None
    action: str
    target_kind: str
    target_id: str
    detail: dict[str, Any]


@router.get("/audit", response=list[AuditRecordOut],
            summary="Who viewed or changed which confidential thing (R-PRIV-02)")
def read_audit(request: HttpRequest, q: Query[AuditQuery]) -> list[dict[str, Any]]:
    """School leaders and the municipality admin read the audit log; 404 for everyone else."""
    audit.access_audit_log(request.auth)
    require_step_up(request, None, "audit_log")
    rows = list(audit.list_audit(request.auth, audit.AuditFilter(q.person, q.kind, q.after)))
    do_audit(request.auth, "audit.read", None, person=q.person, kind=q.kind, after=q.after, rows=len(rows))
    return [audit.serialise_record(r) for r in rows]
