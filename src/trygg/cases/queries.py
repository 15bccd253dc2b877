"""Scoped reads of cases: a case exists only for its participants (and an admin where configured).

Every view of a case file is audited (R-PRIV-02). The policy decides (``case.view``); the list
queries are its queryset twin, so lists are filtered in the database.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from trygg.audit.actions import do_audit
from trygg.cases.models import HANDLING_ROLES, VIEWING_ROLES, Case, EvidenceItem, Participant, Status
from trygg.directory.models import Person
from trygg.errors import NotFoundOrHidden
from trygg.policy.engine import decide, params_for

VIEW_RULE = "core_cases.participants-view"
REPORTER_SIDE = frozenset({Participant.Role.REPORTER, Participant.Role.HARMED, Participant.Role.HARMED_GUARDIAN})


def reported_ids(case: Case) -> set[int]:
    """Return the people the case is against: they never see or handle it, whatever else they are."""
    return set(
        Participant.objects.filter(case=case, role=Participant.Role.REPORTED).values_list("person_id", flat=True)
    )


def viewer_ids(case: Case) -> set[int]:
    """Return the people who may open the case as participants (never the reported person)."""
    return set(
        Participant.objects.filter(case=case, role__in=list(VIEWING_ROLES)).values_list("person_id", flat=True)
    ) - reported_ids(case)


def handler_ids(case: Case) -> set[int]:
    """Return the leader and representatives (and contact teacher) who handle the case.

    A handler who is also reported in it is left out: a conflict of interest (R-STAFF-02)."""
    return set(
        Participant.objects.filter(case=case, role__in=list(HANDLING_ROLES)).values_list("person_id", flat=True)
    ) - reported_ids(case)


def confirmer_ids(case: Case) -> set[int]:
    """Return who may agree that the case can close: the harmed people and harmed pupils' guardians."""
    return set(
        Participant.objects.filter(
            case=case, role__in=[Participant.Role.HARMED, Participant.Role.HARMED_GUARDIAN]
        ).values_list("person_id", flat=True)
    )


def harmed_confirmed(case: Case) -> bool:
    """Return whether every harmed person (or their guardian) has agreed that the case may close."""
    return not Participant.objects.filter(case=case, role=Participant.Role.HARMED, confirmed_at__isnull=True).exists()


def other_family_ids(case: Case) -> list[int]:
    """Return the guardians (with parental responsibility) of the pupils reported in the case."""
    from trygg.directory.models import Guardianship

    return sorted(set(
        Guardianship.objects.filter(pupil_id__in=reported_ids(case), pupil__enrollments__isnull=False,
                                    parental_responsibility=True, guardian__is_active=True)
        .values_list("guardian_id", flat=True)
    ))


def family_context(case: Case) -> dict[str, Any]:
    """Return what ``case.message_other_family`` is told (R-PAR-03)."""
    harmed_guardians = set(case.participants.filter(role=Participant.Role.HARMED_GUARDIAN)
                           .values_list("person_id", flat=True))
    return {"harmed_guardian_ids": harmed_guardians, "other_family_ids": other_family_ids(case),
            "school_id": case.school_id, "handler_ids": handler_ids(case), "reported_ids": reported_ids(case)}


def can_message_other_family(viewer: Person, case: Case) -> bool:
    """Return whether the viewer may write to the other child's guardians in this open case."""
    return not case.is_closed and decide("case.message_other_family", viewer.facts, case,
                                         family_context(case)).allowed


def roles_in(viewer: Person, case: Case) -> set[str]:
    return set(Participant.objects.filter(case=case, person=viewer).values_list("role", flat=True))


def _reported_in(viewer: Person) -> QuerySet[Participant]:
    """Return the case ids in which the viewer is the reported person (as a subquery)."""
    return Participant.objects.filter(person=viewer, role=Participant.Role.REPORTED).values("case_id")


def _admin_sees(viewer: Person) -> Q | None:
    facts = viewer.facts
    ids = [m for m in facts.admin_municipality_ids if params_for(VIEW_RULE, m).get("admin_sees_cases")]
    return Q(municipality_id__in=ids) if ids else None


MAX_ID = 2**63 - 1


def is_valid_id(value: object) -> bool:
    """Return whether ``value`` can be a row id (a larger number would be a database error, not a 404)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def access_case(viewer: Person, case_id: int, *, audit: bool = True) -> Case:
    """Return a case the viewer may see, auditing the view; anything else is 404."""
    if not is_valid_id(case_id):
        raise NotFoundOrHidden()
    case = Case.objects.select_related("school", "reporter", "assigned_leader").filter(pk=case_id).first()
    if case is None:
        raise NotFoundOrHidden()
    decision = decide("case.view", viewer.facts, case,
                      {"viewer_ids": viewer_ids(case), "reported_ids": reported_ids(case),
                       "municipality_id": case.municipality_id, "school_id": case.school_id})
    if not decision.allowed:
        raise NotFoundOrHidden()
    if audit:
        do_audit(viewer, "case.viewed", case)
    return case


def is_handler(viewer: Person, case: Case) -> bool:
    """Return whether the viewer sees the whole case file (handlers, and an admin allowed to see it)."""
    roles = roles_in(viewer, case)
    if roles & HANDLING_ROLES:
        return True
    return not (roles & VIEWING_ROLES) and case.municipality_id in viewer.facts.admin_municipality_ids


def has_confirmed(viewer: Person, case: Case) -> bool:
    """Return whether the viewer has said the case is over, for themselves or a child (R-CASE-20)."""
    harmed = set(viewer.facts.child_ids) | {viewer.pk}
    return case.participants.filter(role="harmed", person_id__in=harmed, confirmed_by=viewer).exists()


def access_evidence_upload(case: Case, seq: Any) -> EvidenceItem:
    """Return an uploaded evidence file of a case its handler already accessed; anything else is 404."""
    item = EvidenceItem.objects.filter(case=case, seq=seq, kind=EvidenceItem.Kind.UPLOAD).first() \
        if is_valid_id(seq) else None
    if item is None:
        raise NotFoundOrHidden()
    return item


def list_my_reports(viewer: Person) -> QuerySet[Case]:
    """Return the cases the viewer reported, was harmed in, or is a harmed pupil's guardian in."""
    return (
        Case.objects.filter(participants__person=viewer, participants__role__in=list(REPORTER_SIDE))
        .exclude(pk__in=_reported_in(viewer))
        .distinct()
        .order_by("-created_at")
    )


def list_handled_cases(viewer: Person, *, open_only: bool = True) -> QuerySet[Case]:
    """Return the cases the viewer handles, oldest first, so age is visible (R-CASE-12)."""
    scope = Q(participants__person=viewer, participants__role__in=list(HANDLING_ROLES))
    admin = _admin_sees(viewer)
    if admin is not None:
        scope |= admin
    # The twin of ``cases.participants_view``: a case against the viewer is not in their list.
    qs = Case.objects.filter(scope).exclude(pk__in=_reported_in(viewer)).distinct().select_related("assigned_leader")
    if open_only:
        qs = qs.exclude(status=Status.CLOSED)
    return qs.order_by("created_at", "pk")


def age_of(case: Case, now: Any) -> dict[str, Any]:
    """Return the case's age in hours and whether a first response or a follow-up is overdue."""
    hours = int((now - case.created_at).total_seconds() // 3600)
    return {
        "age_hours": hours,
        "response_overdue": bool(case.respond_by and case.status == Status.REPORTED and now > case.respond_by),
        "follow_up_due": bool(
            case.next_follow_up_at and case.status != Status.CLOSED and now >= case.next_follow_up_at
        ),
    }


def export_own(viewer: Person) -> dict[str, Any]:
    """Return the cases the viewer reported or is harmed in, as they see them (R-PRIV-04).

    A case where the viewer is only the reported person is left out: what they are told is the
    leader's conversation with them (R-CASE-15), and the law lets an ongoing case be withheld
    from the person it is about. Handlers find their cases in the case list, not here.
    """
    own_roles = (Participant.Role.REPORTER, Participant.Role.HARMED, Participant.Role.HARMED_GUARDIAN)
    rows = (
        Participant.objects.filter(person=viewer, role__in=own_roles)
        .select_related("case")
        .order_by("case_id", "role")
    )
    cases: dict[int, dict[str, Any]] = {}
    for p in rows:
        entry = cases.setdefault(p.case_id, {
            "case_id": p.case_id,
            "your_roles": [],
            "category": p.case.category,
            "status": p.case.status,
            "reported_at": p.case.created_at.isoformat(),
            "description": p.case.description if p.case.reporter_id == viewer.pk else None,
            "you_agreed_to_close": None,
        })
        entry["your_roles"].append(p.role)
        if p.confirmed_at:
            entry["you_agreed_to_close"] = p.confirmed_at.isoformat()
    return {"cases": list(cases.values())}
