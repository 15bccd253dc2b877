"""JSON API of the cases app: reports, cases, the workflow, checklists, contacts and confirmations.

Handlers stay thin: access (queries), check (actions), serialise.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field, StrictBool

from trygg.api_schemas import NOT_BLANK, USERNAME, CaseCreatedOut, Out
from trygg.audit.actions import do_audit
from trygg.cases import actions, queries
from trygg.cases.models import Category
from trygg.cases.models import Status as CaseStatus
from trygg.cases.serialise import serialise_case
from trygg.errors import TooLarge
from trygg.signin.stepup import require_step_up

router = Router(tags=["cases"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ReportIn(In):
    # A report names a message or describes what happened (or both).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["message_id"], "properties": {"message_id": {"type": "integer"}}},
        {"required": ["description"], "properties": {"description": {"pattern": NOT_BLANK}}},
    ]})

    # Any number: one no message has (beyond 64 bits too) answers 404.
    message_id: int | None = None
    # Which of them a person may use: GET /report-categories (others answer 403).
    category: Literal[tuple(Category.values)]  # type: ignore[valid-type]
    description: str = Field(default="", max_length=actions.MAX_DESCRIPTION_CHARS)
    reported_username: str | None = Field(default=None, **USERNAME)
    harmed_usernames: list[Annotated[str, Field(**USERNAME)]] = Field(default_factory=list, max_length=20)


class TransitionIn(In):
    to: Literal[tuple(CaseStatus.values)]  # type: ignore[valid-type]


class ConfirmIn(In):
    confirmed: StrictBool = True


class StepIn(In):
    done: StrictBool = False
    reference: str = ""
    note: str = ""
    # A step that does not apply is settled with a reason instead (R-CASE-12).
    not_applicable: StrictBool = False
    reason: str = ""


class ContactIn(In):
    note: str


class FollowUpIn(In):
    days: int


class FamilyMessageIn(In):
    body: str


class FamilyMessageDecisionIn(In):
    approve: StrictBool


# ------------------------------------------------------------------------------------- answers


class CasePerson(Out):
    """A person named in a case, as the reader may see them: someone hidden from the reader
    (R-LIST-05) is "a pupil" or "a guardian" with neither id nor username."""

    id: int | None
    username: str | None
    name: str


class ConfirmationOut(Out):
    person: CasePerson | None
    confirmed: bool
    confirmed_at: str | None


class CaseRoleOut(Out):
    person: CasePerson | None
    role: str


class TimelineEntryOut(Out):
    type: str
    at: str
    label: str
    data: dict[str, Any]


class FamilyMessageOut(Out):
    id: int
    state: str
    body: str
    created_at: str
    sender: CasePerson | None = None


class FamilyMessagesOut(Out):
    can_write: bool
    mine: list[FamilyMessageOut]
    all: list[FamilyMessageOut] | None = None


class StepOut(Out):
    id: int
    key: str
    label: str
    rule: str | None
    requirement: str | None
    needs_reference: bool
    reference: str
    note: str
    done: bool
    not_applicable: bool
    not_applicable_reason: str
    done_at: str | None
    done_by: CasePerson | None


class EvidenceOut(Out):
    seq: int
    kind: str
    sha256: str
    chain_hash: str
    content: dict[str, Any]
    created_at: str


class CaseOut(Out):
    """A case as the viewer may see it (``cases.serialise``): the reporter's side gets the status
    and its own part; handlers get the file (the fields that default to null)."""

    id: int
    category: str
    category_label: str
    status: str
    status_label: str
    created_at: str
    closed_at: str | None
    reopen_until: str | None
    my_roles: list[str]
    victim_confirmed: bool
    confirmations: list[ConfirmationOut]
    support: list[CaseRoleOut]
    timeline: list[TimelineEntryOut]
    family_messages: FamilyMessagesOut
    description: str | None = None
    school: str | None = None
    reporter: CasePerson | None = None
    assigned_leader: CasePerson | None = None
    message_id: int | None = None
    participants: list[CaseRoleOut] | None = None
    checklist: list[StepOut] | None = None
    evidence: list[EvidenceOut] | None = None
    follow_up_days: int | None = None
    next_follow_up_at: str | None = None
    respond_by: str | None = None
    rules: list[str] | None = None
    age_hours: int | None = None
    response_overdue: bool | None = None
    follow_up_due: bool | None = None


class CaseSummaryOut(Out):
    id: int
    status: str
    category: str
    created_at: str
    age_hours: int | None = None
    response_overdue: bool | None = None
    follow_up_due: bool | None = None


class CaseListOut(Out):
    mine: list[CaseSummaryOut]
    handling: list[CaseSummaryOut]


class FamilyMessageStateOut(Out):
    id: int
    state: str


class FamilyMessageDecidedOut(FamilyMessageStateOut):
    conversation_id: int | None


class ContactLoggedOut(Out):
    id: int
    at: str


class EvidenceAddedItem(Out):
    seq: int
    sha256: str
    chain_hash: str


class EvidenceAddedOut(Out):
    items: list[EvidenceAddedItem]


def _lang() -> str:
    return (get_language() or "nb")[:2]


def read_uploads(files: list[UploadedFile]) -> list[actions.Upload]:
    """Read and check uploaded files: type by magic bytes, size limit (413 over it)."""
    limit = actions.max_upload_bytes()
    uploads = []
    for f in files:
        if f.size is not None and f.size > limit:
            raise TooLarge(code="file_too_large")
        uploads.append(actions.check_upload(f.name or "file", f.read(limit + 1)))
    return uploads


@router.post("/reports", response={201: CaseCreatedOut})
def create_report(request: HttpRequest, payload: ReportIn) -> Status:
    case = actions.check_report(
        request.auth, category=payload.category, description=payload.description, message_id=payload.message_id,
        reported_username=payload.reported_username, harmed_usernames=payload.harmed_usernames,
    )
    return Status(201, {"case_id": case.pk, "status": case.status})


@router.get("/report-categories", response=list[str])
def report_categories(request: HttpRequest) -> list[str]:
    return actions.available_categories(request.auth)


@router.get("/cases", response=CaseListOut)
def list_cases(request: HttpRequest) -> dict[str, Any]:
    mine = queries.list_my_reports(request.auth)
    handled = queries.list_handled_cases(request.auth)
    return {
        "mine": [{"id": c.pk, "status": c.status, "category": c.category, "created_at": c.created_at.isoformat()}
                 for c in mine],
        "handling": [{"id": c.pk, "status": c.status, "category": c.category,
                      "created_at": c.created_at.isoformat(), **queries.age_of(c, _now())} for c in handled],
    }


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _case_file_door(request: HttpRequest, case_id: int) -> Any:
    """Return the case (unaudited) once a handler has a recent strong sign-in (R-STAFF-02); the
    reporter's side sees only the status and needs none. Outsiders get 404 before any step-up."""
    case = queries.access_case(request.auth, case_id, audit=False)
    if queries.is_handler(request.auth, case):
        require_step_up(request, case, "case_file")
    return case


@router.get("/cases/{case_id}", response=CaseOut)
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = _case_file_door(request, case_id)
    do_audit(request.auth, "case.viewed", case)
    return serialise_case(request.auth, case, _lang())


@router.post("/cases/{case_id}/transition", response=CaseOut)
def transition(request: HttpRequest, case_id: int, payload: TransitionIn) -> dict[str, Any]:
    _case_file_door(request, case_id)
    case = actions.check_transition(request.auth, case_id, payload.to)
    return serialise_case(request.auth, case, _lang())


@router.post("/cases/{case_id}/victim-confirmation", response=CaseOut)
def victim_confirmation(request: HttpRequest, case_id: int, payload: ConfirmIn | None = None) -> dict[str, Any]:
    confirmed = True if payload is None else payload.confirmed
    _case_file_door(request, case_id)
    case = actions.check_confirm(request.auth, case_id, confirmed)
    return serialise_case(request.auth, case, _lang())


@router.post("/cases/{case_id}/reopen", response=CaseOut)
def reopen(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """The harmed side says a closed case is not over (R-CASE-20): 200, or 409 after the period."""
    _case_file_door(request, case_id)
    case = actions.check_reopen(request.auth, case_id)
    return serialise_case(request.auth, case, _lang())


@router.post("/cases/{case_id}/family-messages", response={201: FamilyMessageStateOut})
def propose_family_message(request: HttpRequest, case_id: int, payload: FamilyMessageIn) -> Status:
    """R-PAR-03: a harmed child's guardian writes to the other child's guardians; the leader approves."""
    _case_file_door(request, case_id)
    row = actions.check_propose_family_message(request.auth, case_id, payload.body)
    return Status(201, {"id": row.pk, "state": row.state})


@router.post("/cases/{case_id}/family-messages/{message_id}/decision", response=FamilyMessageDecidedOut)
def decide_family_message(request: HttpRequest, case_id: int, message_id: int,
                          payload: FamilyMessageDecisionIn) -> dict[str, Any]:
    _case_file_door(request, case_id)
    row = actions.check_decide_family_message(request.auth, case_id, message_id, payload.approve)
    return {"id": row.pk, "state": row.state, "conversation_id": row.conversation_id}


@router.post("/cases/{case_id}/steps/{step_id}", response=CaseOut)
def set_step(request: HttpRequest, case_id: int, step_id: int, payload: StepIn) -> dict[str, Any]:
    _case_file_door(request, case_id)
    actions.check_set_step(request.auth, case_id, step_id, payload.done, payload.reference, payload.note,
                           payload.not_applicable, payload.reason)
    case = queries.access_case(request.auth, case_id, audit=False)
    return serialise_case(request.auth, case, _lang())


@router.post("/cases/{case_id}/contacts", response={201: ContactLoggedOut})
def log_contact(request: HttpRequest, case_id: int, payload: ContactIn) -> Status:
    _case_file_door(request, case_id)
    row = actions.check_log_contact(request.auth, case_id, payload.note)
    return Status(201, {"id": row.pk, "at": row.at.isoformat()})


@router.post("/cases/{case_id}/follow-up", response=CaseOut)
def set_follow_up(request: HttpRequest, case_id: int, payload: FollowUpIn) -> dict[str, Any]:
    _case_file_door(request, case_id)
    case = actions.check_set_follow_up(request.auth, case_id, payload.days)
    return serialise_case(request.auth, case, _lang())


@router.post("/cases/{case_id}/evidence", response={201: EvidenceAddedOut})
def add_evidence(request: HttpRequest, case_id: int, files: File[list[UploadedFile]]) -> Status:
    # Access before reading the files: someone outside the case gets 404 whatever they send.
    _case_file_door(request, case_id)
    items = actions.check_add_evidence(request.auth, case_id, read_uploads(files))
    return Status(201, {"items": [{"seq": i.seq, "sha256": i.sha256, "chain_hash": i.chain_hash} for i in items]})
