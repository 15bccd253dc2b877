"""JSON API of the class contact list (design.md: ``/classes/{id}/contact-list`` and its consent).

Handlers stay thin: access (queries), check (actions), serialise.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool

from trygg.api_schemas import Out
from trygg.classlist import actions, queries
from trygg.classlist.csv_export import csv_response
from trygg.classlist.models import ExportFormat
from trygg.directory.models import SchoolClass
from trygg.errors import BadInput, NotFoundOrHidden
from trygg.signin.stepup import require_step_up

router = Router(tags=["classlist"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class FieldsIn(In):
    student_name: StrictBool
    guardian_name: StrictBool
    email: StrictBool
    phone: StrictBool
    address: StrictBool


class ConsentIn(In):
    student_username: str = Field(min_length=1, max_length=150)
    fields: FieldsIn
    # R-LIST-04: the guardian accepts the current notice (GET …/consent gives it) with this request.
    public_notice_accepted: StrictBool = False


class ConsentQuery(Schema):
    student_username: str | None = Field(default=None, max_length=150)


class ExportQuery(Schema):
    requester: str = Field(default="", max_length=actions.MAX_REQUESTER_CHARS)
    format: Literal["json", "csv"] = "json"


class ClassRef(Out):
    id: int
    name: str
    grade: int | None
    school: str


class CompletenessRef(Out):
    covered: int
    total: int


class ContactListOut(Out):
    """The list as the viewer may see it: ``rows`` carry only the ``fields`` offered to them."""

    class_: ClassRef = Field(alias="class")
    fields: list[str]
    rows: list[dict[str, Any]]
    completeness: CompletenessRef | None = None


class NoticeOut(Out):
    text: str
    language: str
    rule: str
    version: str


class ChildConsentOut(Out):
    student_username: str
    student_name: str
    fields: dict[str, bool]
    locked: list[str]


class ConsentOut(Out):
    class_: ClassRef = Field(alias="class")
    notice: NoticeOut
    notice_accepted: bool
    children: list[ChildConsentOut]


class ConsentSetOut(Out):
    student_username: str
    fields: dict[str, bool]
    notice: NoticeOut


class CompletenessOut(CompletenessRef):
    next_reminder_at: str | None


class ReminderOut(CompletenessRef):
    sent_at: str
    recipients: int


class ExportOut(Out):
    class_id: int
    exported_at: str
    exported_by: str
    requester: str
    fields: list[str]
    # One list per row, in the order of ``fields``.
    rows: list[list[str | None]]


EXPORT_CSV = {"responses": {200: {"description": "The list (JSON, or CSV with ``format=csv``)", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ExportOut"}},
    "text/csv": {"schema": {"type": "string"}}}}}}


def class_out(school_class: SchoolClass) -> dict[str, Any]:
    return {"id": school_class.pk, "name": school_class.name, "grade": school_class.grade,
            "school": school_class.school.name}


def child_consent_out(guardian: Any, school_class: SchoolClass, child: Any) -> dict[str, Any]:
    return {
        "student_username": child.username,
        "student_name": child.name,
        "fields": queries.consents_of(guardian, child),
        "locked": sorted(queries.locked_for(child, school_class)),
    }


@router.get("/classes/{class_id}/contact-list", response=ContactListOut)
def contact_list(request: HttpRequest, class_id: int) -> dict[str, Any]:
    """The class list as the viewer may see it (R-LIST-01, R-LIST-02, R-LIST-05); the view is audited."""
    viewer = request.auth
    school_class, decision = queries.access_contact_list(viewer, class_id)
    rows = queries.list_rows(viewer, school_class, decision, via="api")
    body: dict[str, Any] = {
        "class": class_out(school_class),
        "fields": list(queries.offered_fields(decision)),
        "rows": [row.as_dict() for row in rows],
    }
    allowed, _next = queries.can_remind(viewer, school_class)
    if allowed:
        completeness = queries.get_completeness(school_class)
        body["completeness"] = {"covered": completeness.covered, "total": completeness.total}
    return body


@router.get("/classes/{class_id}/contact-list/consent", response=ConsentOut)
def get_consent(request: HttpRequest, class_id: int, q: Query[ConsentQuery]) -> dict[str, Any]:
    """The viewer's own consents for their children in the class, with the notice (R-LIST-04)."""
    viewer = request.auth
    school_class = queries.access_class(viewer, class_id)
    children = queries.children_in_class(viewer, school_class)
    if q.student_username:
        children = [queries.access_child(viewer, school_class, q.student_username)]
    if not children:
        # A contact teacher has no consent to give; the list exists for them, the form does not.
        raise NotFoundOrHidden()
    return {
        "class": class_out(school_class),
        "notice": actions.notice_for(viewer),
        "notice_accepted": actions.accepted_notice(viewer) is not None,
        "children": [child_consent_out(viewer, school_class, c) for c in children],
    }


@router.put("/classes/{class_id}/contact-list/consent", response=ConsentSetOut)
def put_consent(request: HttpRequest, class_id: int, payload: ConsentIn) -> dict[str, Any]:
    """Set the viewer's consent per field for one child (R-LIST-02, R-LIST-05, R-LIST-06)."""
    fields = actions.check_set_consent(request.auth, class_id, payload.student_username,
                                       payload.fields.model_dump(), via="api",
                                       notice_accepted=payload.public_notice_accepted)
    return {"student_username": payload.student_username, "fields": fields,
            "notice": actions.notice_for(request.auth)}


@router.get("/classes/{class_id}/contact-list/completeness", response=CompletenessOut)
def completeness(request: HttpRequest, class_id: int) -> dict[str, Any]:
    """How many pupils the list covers, for the contact teacher; never who (R-LIST-03)."""
    school_class, result = queries.access_completeness(request.auth, class_id)
    _allowed, next_at = queries.can_remind(request.auth, school_class)
    return {"covered": result.covered, "total": result.total,
            "next_reminder_at": next_at.isoformat() if next_at else None}


@router.post("/classes/{class_id}/contact-list/reminders", response={201: ReminderOut})
def remind(request: HttpRequest, class_id: int) -> Status:
    """Send every guardian of the class one neutral reminder (R-LIST-03); 429 if one went recently."""
    result = actions.check_remind(request.auth, class_id)
    return Status(201, {"sent_at": result.reminder.sent_at.isoformat(), "recipients": result.reminder.recipients,
                        "covered": result.completeness.covered, "total": result.completeness.total})


@router.get("/classes/{class_id}/contact-list/export", response=ExportOut, openapi_extra=EXPORT_CSV)
def export(request: HttpRequest, class_id: int, q: Query[ExportQuery]) -> Any:
    """The list as handed out on an access request, for the school's leaders (R-LIST-04)."""
    require_step_up(request, queries.access_export_class(request.auth, class_id), "classlist_export")
    if q.format not in (ExportFormat.CSV, ExportFormat.JSON):
        raise BadInput()
    result = actions.check_export(request.auth, class_id, q.requester, q.format)
    if q.format == ExportFormat.CSV:
        return csv_response(result, class_id)
    return {
        "class_id": class_id,
        "exported_at": result.export.exported_at.isoformat(),
        "exported_by": request.auth.username,
        "requester": result.export.requester,
        "fields": list(queries.FIELDS),
        "rows": result.lines,
    }
