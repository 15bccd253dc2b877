"""How a case looks to the person viewing it: handlers see the file, the reporter's side its status.

The reporter, the harmed person and a harmed pupil's guardians see the status, the category and the
status changes; not the checklist, the evidence or what the reported person was told.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trygg.cases.models import Case, Category, ChecklistStep, Participant, Status, TimelineEvent
from trygg.cases.queries import age_of, can_message_other_family, harmed_confirmed, is_handler, roles_in
from trygg.directory.models import Person
from trygg.directory.queries import person_ref as seen_ref
from trygg.policy.engine import params_for, registry

# The checklist steps the packs can name, in words. A key without a label shows its rule's title.
STEP_LABELS: dict[str, Any] = {
    "police_report": _("Report to the police"),
    "work_injury_report": _("Report it as a work injury"),
    "register_safety_system": _("Register the incident in the occupational-safety system"),
    "report_to_network": _("Report the sender to the network's own report function"),
    "agree_next_steps": _("Agree with the leaders, union or safety representative how the case goes on"),
    "inform_class_teacher": _("Tell the class teacher; the parents contact each other"),
    "collect_documentation": _("Collect the documentation of the harassment"),
    "contact_harmed_family": _("Contact the guardians of the harmed pupil"),
    "contact_offender_family": _("Contact the guardians of the pupil who did it"),
    "inform_leadership": _("Inform the school's leaders"),
    "secure_screenshots": _("Secure the evidence (screenshots) with the person who reported"),
    "deescalate_with_reps": _("De-escalate together with the union and safety representatives"),
    "ask_offender_to_stop": _("Ask the offender to stop and delete the post, and state the consequences"),
    "ask_platform_to_delete": _("Ask the platform's administrator to delete the post"),
    "consider_psychologist": _("Consider talks with a psychologist for the harmed person"),
    "parent_meeting": _("Call the parent to a meeting with the leaders about future cooperation"),
    "assess_concern": _("Assess the concern about the pupil"),
    "concern_report_decided": _("Decide on a concern report to the child welfare service"),
}


def step_label(step: ChecklistStep, lang: str = "en") -> str:
    label = STEP_LABELS.get(step.key)
    if label is not None:
        return str(label)
    spec = registry().rules.get(step.rule_id)
    return spec.title.get(lang, spec.title.get("en", step.key)) if spec else step.key


def reopen_deadline(case: Case) -> Any:
    """Return until when the harmed side can reopen the closed case (None while open)."""
    from datetime import timedelta

    if case.closed_at is None:
        return None
    days = int(params_for("core_cases.reopen-period", case.municipality_id).get("reopen_days") or 0)
    return case.closed_at + timedelta(days=days)


def serialise_case(viewer: Person, case: Case, lang: str = "en") -> dict[str, Any]:
    """Return the case as ``viewer`` may see it.

    Every person it names goes through ``trygg.directory.queries`` (R-LIST-05): a protected pupil
    or guardian is "a pupil"/"a guardian" with no username to anyone the one visibility function
    hides them from, here as in every other list.
    """

    def person_ref(person: Person | None) -> dict[str, Any] | None:
        return seen_ref(viewer, person)

    now = timezone.now()
    full = is_handler(viewer, case)
    roles = sorted(roles_in(viewer, case))
    reopen_until = reopen_deadline(case)
    confirmations = [
        {"person": person_ref(p.person), "confirmed": p.confirmed_at is not None,
         "confirmed_at": p.confirmed_at.isoformat() if p.confirmed_at else None}
        for p in case.participants.filter(role=Participant.Role.HARMED).select_related("person")
    ]
    body: dict[str, Any] = {
        "id": case.pk,
        "category": case.category,
        "category_label": str(Category(case.category).label),
        "status": case.status,
        "status_label": str(Status(case.status).label),
        "created_at": case.created_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "reopen_until": reopen_until.isoformat() if reopen_until else None,
        "my_roles": roles,
        "victim_confirmed": harmed_confirmed(case),
        "confirmations": confirmations,
        # The representatives in the case, offered to the reporter as support (R-CASE-04).
        "support": [
            {"person": person_ref(p.person), "role": p.role}
            for p in case.participants.filter(
                role__in=[Participant.Role.UNION_REP, Participant.Role.SAFETY_REP]
            ).select_related("person").order_by("role", "person__name")
        ],
        "timeline": [
            {"type": t.type, "at": t.at.isoformat(), "label": str(TimelineEvent.Type(t.type).label),
             "data": t.data if full else {
                k: v for k, v in t.data.items() if k in ("before", "after")}}
            for t in case.timeline.all() if full or t.shown_to_reporter
        ],
    }
    mine = case.family_messages.filter(sender=viewer)
    body["family_messages"] = {
        # R-PAR-03: the harmed child's guardian writes to the other family through the leader.
        "can_write": can_message_other_family(viewer, case),
        "mine": [{"id": m.pk, "state": m.state, "body": m.body, "created_at": m.created_at.isoformat()}
                 for m in mine],
    }
    if not full:
        return body
    body["family_messages"]["all"] = [
        {"id": m.pk, "state": m.state, "body": m.body, "sender": person_ref(m.sender),
         "created_at": m.created_at.isoformat()}
        for m in case.family_messages.select_related("sender")
    ]
    body.update({
        "description": case.description,
        "school": case.school.name,
        "reporter": person_ref(case.reporter),
        "assigned_leader": person_ref(case.assigned_leader),
        "message_id": case.message_id,
        "participants": [
            {"person": person_ref(p.person), "role": p.role}
            for p in case.participants.select_related("person").order_by("role", "person__name")
        ],
        "checklist": [
            {"id": s.pk, "key": s.key, "label": step_label(s, lang), "rule": s.rule_id,
             "requirement": s.requirement, "needs_reference": s.needs_reference, "reference": s.reference,
             "note": s.note, "done": s.done_at is not None, "not_applicable": s.not_applicable,
             "not_applicable_reason": s.not_applicable_reason,
             "done_at": s.done_at.isoformat() if s.done_at else None, "done_by": person_ref(s.done_by)}
            for s in case.steps.select_related("done_by")
        ],
        "evidence": [
            {"seq": e.seq, "kind": e.kind, "sha256": e.sha256, "chain_hash": e.chain_hash,
             "content": json.loads(e.canonical), "created_at": e.created_at.isoformat()}
            for e in case.evidence.order_by("seq")
        ],
        "follow_up_days": case.follow_up_days,
        "next_follow_up_at": case.next_follow_up_at.isoformat() if case.next_follow_up_at else None,
        "respond_by": case.respond_by.isoformat() if case.respond_by else None,
        "rules": case.rules,
        **age_of(case, now),
    })
    return body


def timeline_rows(case: Case, full: bool) -> list[TimelineEvent]:
    qs = case.timeline.select_related("actor")
    return list(qs if full else qs.filter(shown_to_reporter=True))
