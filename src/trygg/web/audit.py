"""The audit log's reader (R-PRIV-02): who viewed or changed which confidential thing, and when.

Leadership of a school reads what the people of their school did; the municipality's administrator
reads the whole municipality. Everyone else gets 404, as for something that does not exist. The
reader opens only after a recent strong sign-in (the caller asks ``require_step_up``), and reading
it is audited too.

Records about a case in which the reader is the reported person are left out: a leader must not
learn through the log that a case against them exists (R-STAFF-02).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from trygg.audit.models import AuditRecord
from trygg.directory.models import Person
from trygg.directory.queries import list_people_of_schools
from trygg.errors import BadInput, NotFoundOrHidden

PAGE_SIZE = 200
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class AuditFilter:
    person: str | None = None
    kind: str | None = None
    after: int | None = None


def can_read_audit(viewer: Person) -> bool:
    """Return whether the viewer reads any part of the audit log (school leaders, municipality admins)."""
    facts = viewer.facts
    return bool(facts.led_school_ids or facts.admin_municipality_ids)


def _scope(viewer: Person) -> Q:
    facts = viewer.facts
    scope = Q(pk__in=[])
    if facts.admin_municipality_ids:
        scope |= Q(municipality_id__in=sorted(facts.admin_municipality_ids))
    if facts.led_school_ids:
        people = list_people_of_schools(facts.led_school_ids).values("id")
        scope |= Q(actor_id__in=people)
    return scope


def _hidden_from(viewer: Person) -> Q:
    """Return the records about cases in which the viewer is reported."""
    from trygg.cases.models import Participant

    case_ids = [str(c) for c in Participant.objects.filter(person=viewer, role=Participant.Role.REPORTED)
                .values_list("case_id", flat=True)]
    return Q(target_type="cases.case", target_id__in=case_ids)


def access_audit_log(viewer: Person) -> None:
    """Raise 404 unless the viewer may read the audit log."""
    if not can_read_audit(viewer):
        raise NotFoundOrHidden()


def list_audit(viewer: Person, flt: AuditFilter) -> QuerySet[AuditRecord]:
    """Return the audit records the viewer may read, oldest first after ``flt.after``, one page."""
    access_audit_log(viewer)
    if flt.after is not None and not (isinstance(flt.after, int) and 0 <= flt.after <= MAX_ID):
        raise BadInput(code="bad_after")
    qs = AuditRecord.objects.filter(_scope(viewer)).exclude(_hidden_from(viewer)).select_related("actor")
    if flt.person:
        qs = qs.filter(actor__username=flt.person.strip())
    if flt.kind:
        kind = flt.kind.strip().lower()
        # "case" or "cases.case": the model name alone is enough.
        qs = qs.filter(Q(target_type=kind) | Q(target_type__endswith=f".{kind}"))
    if flt.after is not None:
        qs = qs.filter(pk__gt=flt.after)
    return qs.order_by("pk")[:PAGE_SIZE]


def serialise_record(record: AuditRecord) -> dict[str, Any]:
    """Return one record as the reader sees it: identifiers, never message text (none is stored)."""
    actor = record.actor
    return {
        "id": record.pk,
        "at": record.at.isoformat(),
        "actor": {"username": actor.username, "name": actor.name} if actor else None,
        "action": record.action,
        "target_kind": record.target_type,
        "target_id": record.target_id,
        # Why: the door a view came through, the rules that fired, the ids involved.
        "detail": record.detail,
    }
