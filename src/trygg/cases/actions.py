"""Writes of the cases app: reports, evidence, the workflow, checklists, contacts, confirmations.

Every write asks the policy first (``report.create``, ``case.transition``, ``case.close``,
``case.work``, ``case.add_evidence``, ``case.confirm``), writes in one transaction, appends a
timeline row and an audit row, and emits a ``case.updated`` event to the people who can see the
case. Out-of-app notices (a new case, a follow-up that is due) are neutral: no names, no text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.cases import evidence as ev
from trygg.cases.events import CASE_UPDATED
from trygg.cases.models import (
    HANDLING_ROLES,
    VIEWING_ROLES,
    WORKFLOW,
    Case,
    Category,
    ChecklistStep,
    EvidenceItem,
    FamilyMessage,
    Participant,
    Status,
    TimelineEvent,
)
from trygg.cases.queries import (
    access_case,
    confirmer_ids,
    family_context,
    handler_ids,
    harmed_confirmed,
    is_valid_id,
    other_family_ids,
    reported_ids,
    viewer_ids,
)
from trygg.directory.models import Guardianship, Person, PersonFacts, StaffRole, TeachingAssignment
from trygg.errors import BadInput, NotFoundOrHidden, PolicyDenied, TooLarge, WrongState
from trygg.events.log import emit_event
from trygg.messaging.media import ImageRefused, open_checked
from trygg.messaging.models import Message
from trygg.policy.engine import Decision, check, decide, params_for
from trygg.policy.limits import check_limit

log = logging.getLogger(__name__)

MAX_DESCRIPTION_CHARS = 5000
MAX_FILES = 10
MAX_NOTE_CHARS = 2000
CATEGORY_RULE = "dk_policy.harassment-categories"
# Rules whose denial means "this cannot happen in the case's current state": answered with 409.
STATE_REQUIREMENTS = frozenset({"R-CASE-20"})
STATE_RULES = frozenset({
    "core_cases.checklist-before-closing", "dk_policy.threats-not-closed-before-police", "core_cases.reopen-period",
})
MAX_REASON_CHARS = 500


def _is_state_refusal(decision: Decision) -> bool:
    fired = decision.denied_by
    if fired is None:
        return False
    if fired.rule.id == "core_cases.harmed-reopens":
        return False
    return fired.rule.id in STATE_RULES or bool(set(fired.rule.requirements) & STATE_REQUIREMENTS)


def max_upload_bytes() -> int:
    return int(getattr(settings, "TRYGG_CASE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


# ---------------------------------------------------------------------------------- categories


def available_categories(person: Person) -> list[str]:
    """Return the categories a report can have under the person's active packs (R-CASE-21).

    S4's list comes from its pack (a municipality may narrow it); Trygg's own categories are always
    there; a concern report is for staff only (R-STAFF-03).
    """
    from trygg.policy.rules.cases import TRYGG_CATEGORIES

    facts = person.facts
    configured = params_for(CATEGORY_RULE, facts.municipality_id).get("categories")
    s4 = [c for c in Category.values if c not in TRYGG_CATEGORIES]
    listed = list(configured) if configured is not None else s4
    result = [c for c in Category.values if c in listed or c in TRYGG_CATEGORIES]
    if not facts.is_staff_member:
        result = [c for c in result if c != "teacher_concern"]
    return result


# ---------------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Upload:
    """A file a reporter attached: its bytes, the sniffed type and the name it came with."""

    name: str
    data: bytes
    content_type: str
    suffix: str


def check_upload(name: str, data: bytes) -> Upload:
    """Return the file if it is a PNG, JPEG, WebP or PDF within the size limit (413 over it)."""
    if len(data) > max_upload_bytes():
        raise TooLarge(_("A file may be at most %(mb)d MB.") % {"mb": max_upload_bytes() // (1024 * 1024)},
                       code="file_too_large")
    kind = ev.sniff(data[:16])
    if kind is None:
        raise BadInput(_("Only pictures (PNG, JPEG, WebP) and PDF files can be attached."), code="file_type")
    if kind[0].startswith("image/"):
        # Evidence keeps its original bytes (their SHA-256 is in the case's hash chain), so it is
        # not re-encoded like a chat photo; it must still decode within the limits, and is only
        # ever served as a download (views.evidence_file), never shown inline.
        try:
            open_checked(data)
        except ImageRefused as exc:
            if exc.reason == "too_large":
                raise TooLarge(_("The picture has too many pixels."), code="too_many_pixels") from None
            raise BadInput(_("The picture could not be read."), code="bad_file") from None
    return Upload(name=(name or "file")[-120:], data=data, content_type=kind[0], suffix=kind[1])


def _school_people(facts: PersonFacts, usernames: Iterable[str]) -> list[Person]:
    """Resolve usernames of people at the actor's schools; anyone else is unknown (400, not 404)."""
    names = [u.strip() for u in usernames if u and u.strip()]
    if not names:
        return []
    found = {p.username: p for p in Person.objects.filter(username__in=names, is_active=True)}
    people = []
    for name in names:
        person = found.get(name)
        if person is None or not (person.facts.school_ids & facts.school_ids):
            # Unknown, or not at the reporter's school: not visible to them (404), as design.md says.
            raise NotFoundOrHidden(_("There is nobody at your school with the username %(name)s.") % {"name": name},
                                   code="unknown_person")
        people.append(person)
    return people


def _school_of(actor: Person, message: Message | None) -> int:
    if message is not None and message.conversation.school_id:
        return message.conversation.school_id
    schools = sorted(actor.facts.school_ids)
    if not schools:
        raise BadInput(_("You do not belong to a school, so there is nobody to report to."), code="no_school")
    return schools[0]


def check_report(
    actor: Person,
    *,
    category: Any,
    description: Any = "",
    message_id: int | None = None,
    reported_username: str | None = None,
    harmed_usernames: Sequence[str] = (),
    uploads: Sequence[Upload] = (),
) -> Case:
    """Open a case from a report: of a message (evidence frozen at once) or of something elsewhere."""
    if not isinstance(category, str) or category not in Category.values:
        raise BadInput(_("Choose one of the listed categories."), code="bad_category", requirement="R-CASE-21")
    check_limit(actor, "report")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise BadInput(_("The description may be at most %(n)d characters.") % {"n": MAX_DESCRIPTION_CHARS},
                       code="bad_description")
    if len(uploads) > MAX_FILES:
        raise BadInput(_("At most %(n)d files can be attached.") % {"n": MAX_FILES}, code="too_many_files")
    from trygg.messaging.queries import access_message

    if message_id is not None and not is_valid_id(message_id):
        raise NotFoundOrHidden()
    message = access_message(actor, int(message_id)) if message_id is not None else None
    if message is not None and message.deleted_at is not None:
        raise NotFoundOrHidden()
    if message is None and not description.strip() and not uploads:
        raise BadInput(_("Describe what happened, or attach a screenshot."), code="empty_report")
    facts = actor.facts
    offender: Person | None = None
    if message is not None and message.sender_id != actor.pk:
        offender = message.sender
    elif reported_username:
        offender = _school_people(facts, [reported_username])[0]
    harmed = _school_people(facts, harmed_usernames)
    if not harmed and category != "teacher_concern":
        harmed = [actor]
    school_id = _school_of(actor, message)
    context = {
        "category": category,
        "has_message": message is not None,
        "harmed": tuple(p.facts for p in harmed),
        "offender": offender.facts if offender else None,
        "school_id": school_id,
    }
    decision = decide("report.create", facts, None, context)
    if not decision.allowed:
        fired = decision.denied_by
        # A category that does not exist is bad input; one that exists but is not offered to this
        # person (a pupil's concern report, a category the municipality left out) is refused.
        unknown = fired is not None and fired.rule.id == CATEGORY_RULE and category not in Category.values
        raise PolicyDenied(decision, status=400 if unknown else 403)
    return do_report(actor, category, description.strip(), message, offender, harmed, school_id, decision, uploads)


def _participants_for(
    reporter: Person, harmed: Sequence[Person], offender: Person | None, category: str, school_id: int,
    decision: Decision,
) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = [(reporter.pk, Participant.Role.REPORTER)]
    for person in harmed:
        rows.append((person.pk, Participant.Role.HARMED))
        if "pupil" in person.facts.roles:
            # A harmed pupil's guardians with parental responsibility are in the case (R-PAR-03).
            for gid in Guardianship.objects.filter(pupil=person, parental_responsibility=True).values_list(
                "guardian_id", flat=True
            ):
                rows.append((gid, Participant.Role.HARMED_GUARDIAN))
    if offender is not None:
        role = Participant.Role.SUBJECT if category == "teacher_concern" else Participant.Role.REPORTED
        rows.append((offender.pk, role))
    wanted: set[str] = set()
    for obligation in decision.obligations_of("participants"):
        wanted.update(obligation.data.get("roles") or ())
    for kind, role in (("union_rep", Participant.Role.UNION_REP), ("safety_rep", Participant.Role.SAFETY_REP)):
        if kind in wanted:
            for pid in StaffRole.objects.filter(kind=kind, school_id=school_id).values_list("person_id", flat=True):
                rows.append((pid, role))
    if "harmed_class_teacher" in wanted:
        # R-PAR-03: the class teacher of each harmed child the reporting guardian is responsible for.
        child_ids = [p.pk for p in harmed if p.pk in reporter.facts.child_ids]
        for pid in TeachingAssignment.objects.filter(
            school_class__enrollments__pupil_id__in=child_ids, kind="contact"
        ).values_list("teacher_id", flat=True):
            rows.append((pid, Participant.Role.TEACHER))
    if "contact_teacher" in wanted:
        class_ids = set(reporter.facts.pupil_class_ids)
        for pid in TeachingAssignment.objects.filter(school_class_id__in=class_ids, kind="contact").values_list(
            "teacher_id", flat=True
        ):
            rows.append((pid, Participant.Role.TEACHER))
    seen: set[tuple[int, str]] = set()
    unique = []
    for row in rows:
        # The reported person is in the case only as such: a contact teacher or representative
        # who is reported does not handle it (R-STAFF-02, conflict of interest).
        if offender is not None and row[0] == offender.pk and row[1] != Participant.Role.REPORTED \
                and category != "teacher_concern":
            continue
        if row not in seen:
            seen.add(row)
            unique.append(row)
    return unique


def _assigned_leader(school_id: int, municipality_id: int, decision: Decision, offender: Person | None) -> int | None:
    """Return who drives the case: the school's leader, or, when the report is against a leader of
    the school, the municipality's case handler (the admin where there is none), never the
    reported person."""
    excluded = [offender.pk] if offender is not None else []
    if decision.obligations_of("route_to_municipality"):
        for kind in (StaffRole.Kind.CASE_HANDLER, StaffRole.Kind.ADMIN):
            pid = (
                StaffRole.objects.filter(kind=kind, municipality_id=municipality_id, school__isnull=True)
                .exclude(person_id__in=excluded).order_by("id").values_list("person_id", flat=True).first()
            )
            if pid is not None:
                return pid
        return None
    return (
        StaffRole.objects.filter(kind="leader", school_id=school_id).exclude(person_id__in=excluded)
        .order_by("id").values_list("person_id", flat=True).first()
    )


def snapshot_of(message: Message, reporter: Person, around: int) -> dict[str, Any]:
    """Return what the reporter saw, frozen: the message, its neighbours, the sender's profile as
    shown then, the conversation's members and the times (R-CASE-01)."""
    from trygg.messaging.queries import list_members, neighbours

    conversation = message.conversation
    sender = message.sender
    sender_facts = sender.facts

    def person(p: Person) -> dict[str, Any]:
        return {"id": p.pk, "username": p.username, "name": p.name}

    return {
        "reported_message_id": message.pk,
        "captured_at": timezone.now().isoformat(),
        "captured_for": person(reporter),
        "conversation": {
            "id": conversation.pk, "kind": conversation.kind, "title": conversation.title,
            "school_owned": conversation.school_owned,
            "created_at": conversation.created_at.isoformat(),
        },
        "members": [person(p) for p in list_members(conversation)],
        "sender_profile": {
            **person(sender),
            "roles": sorted(sender_facts.roles),
            "grade": sender_facts.grade,
            "classes": sorted(sender.enrollments.values_list("school_class__name", flat=True)),
        },
        "messages": [
            {
                "id": m.pk,
                "sender": person(m.sender),
                "body": "" if m.deleted_at else m.body,
                "deleted": m.deleted_at is not None,
                "created_at": m.created_at.isoformat(),
                "edited_at": m.edited_at.isoformat() if m.edited_at else None,
                "reported": m.pk == message.pk,
            }
            for m in neighbours(message, around, around)
        ],
    }


def _timeline(case: Case, type_: str, actor: Person | None, shown: bool = False, **data: Any) -> TimelineEvent:
    return TimelineEvent.objects.create(case=case, type=type_, actor=actor, data=data, shown_to_reporter=shown)


def _emit(case: Case, change: str) -> None:
    emit_event(CASE_UPDATED, viewer_ids(case), {"case_id": case.pk, "status": case.status, "change": change})


def _add_upload(case: Case, actor: Person, upload: Upload) -> EvidenceItem:
    next_seq = EvidenceItem.objects.filter(case=case).count() + 1
    path = ev.store_upload(case, next_seq, upload.data, upload.suffix)
    item = ev.append_item(case, EvidenceItem.Kind.UPLOAD, {
        "filename": upload.name,
        "content_type": upload.content_type,
        "size": len(upload.data),
        "file_sha256": ev.sha256_hex(upload.data),
        "added_by": actor.pk,
        "added_at": timezone.now().isoformat(),
    }, actor, file_path=path)
    _timeline(case, TimelineEvent.Type.EVIDENCE_ADDED, actor, seq=item.seq, kind=item.kind)
    return item


def do_report(
    actor: Person, category: str, description: str, message: Message | None, offender: Person | None,
    harmed: Sequence[Person], school_id: int, decision: Decision, uploads: Sequence[Upload] = (),
) -> Case:
    from trygg.directory.models import School
    from trygg.messaging.actions import do_set_legal_hold
    from trygg.notifications.actions import queue_notice

    now = timezone.now()
    school = School.objects.get(pk=school_id)
    hours = max([int(o.data.get("hours") or 0) for o in decision.obligations_of("respond_within")] or [0])
    days = min([int(o.data.get("days") or 0) for o in decision.obligations_of("follow_up")] or [0])
    with transaction.atomic():
        case = Case.objects.create(
            category=category, description=description, school=school, municipality_id=school.municipality_id,
            reporter=actor,
            assigned_leader_id=_assigned_leader(school_id, school.municipality_id, decision, offender),
            message_id=message.pk if message else None, created_at=now,
            respond_by=now + timedelta(hours=hours) if hours else None,
            follow_up_days=days or None, next_follow_up_at=now + timedelta(days=days) if days else None,
            rules=decision.rule_ids,
        )
        rows = _participants_for(actor, harmed, offender, category, school_id, decision)
        if case.assigned_leader_id:
            rows.append((case.assigned_leader_id, Participant.Role.LEADER))
        Participant.objects.bulk_create(
            [Participant(case=case, person_id=pid, role=role) for pid, role in dict.fromkeys(rows)]
        )
        _open_checklist(case, decision)
        _timeline(case, TimelineEvent.Type.REPORTED, actor, shown=True, category=category,
                  rules=decision.rule_ids)
        if message is not None:
            around = max([int(o.data.get("around") or 0) for o in decision.obligations_of("evidence")] or [5])
            snapshot = snapshot_of(message, actor, around)
            item = ev.append_item(case, EvidenceItem.Kind.MESSAGE_SNAPSHOT, snapshot, actor)
            # Held messages survive deletion and retention (R-PRIV-03, R-SAFE-02).
            do_set_legal_hold([m["id"] for m in snapshot["messages"]])
            _timeline(case, TimelineEvent.Type.EVIDENCE_ADDED, actor, seq=item.seq, kind=item.kind)
        statement = ev.append_item(case, EvidenceItem.Kind.STATEMENT, {
            "category": category,
            "description": description,
            "reported_by": actor.pk,
            "reported_at": now.isoformat(),
            "reported_person": offender.pk if offender else None,
            "harmed": [p.pk for p in harmed],
        }, actor)
        _timeline(case, TimelineEvent.Type.EVIDENCE_ADDED, actor, seq=statement.seq, kind=statement.kind)
        for upload in uploads:
            _add_upload(case, actor, upload)
        do_audit(actor, "case.reported", case, category=category, message_id=case.message_id,
                 rules=decision.rule_ids)
        for pid in sorted(handler_ids(case)):
            queue_notice(pid, "case_new", now=now)
        _emit(case, TimelineEvent.Type.REPORTED)
    return case


def _open_checklist(case: Case, decision: Decision) -> None:
    from trygg.policy.engine import registry

    rules = registry().rules
    position = 0
    steps: list[ChecklistStep] = []
    seen: set[str] = set()
    for obligation in decision.obligations_of("checklist"):
        spec = rules.get(obligation.rule_id)
        for key in obligation.data.get("steps") or ():
            if key in seen:
                continue
            seen.add(key)
            position += 1
            steps.append(ChecklistStep(
                case=case, key=key, rule_id=obligation.rule_id,
                requirement=spec.requirements[0] if spec and spec.requirements else "",
                position=position, needs_reference=bool(obligation.data.get("reference")),
            ))
    ChecklistStep.objects.bulk_create(steps)


# ---------------------------------------------------------------------------------- evidence


def check_add_evidence(actor: Person, case_id: int, uploads: Sequence[Upload]) -> list[EvidenceItem]:
    """Add screenshots to a case (R-CASE-13: staff help secure evidence; the reporter may add too)."""
    case = access_case(actor, case_id, audit=False)
    allowed = handler_ids(case) | {case.reporter_id} | {
        p for p, r in case.participants.values_list("person_id", "role") if r == Participant.Role.HARMED
    }
    check("case.add_evidence", actor.facts, case, {"handler_ids": allowed})
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    if not uploads:
        raise BadInput(_("Attach at least one file."), code="no_files")
    if len(uploads) > MAX_FILES:
        raise BadInput(_("At most %(n)d files can be attached.") % {"n": MAX_FILES}, code="too_many_files")
    with transaction.atomic():
        items = [_add_upload(case, actor, u) for u in uploads]
        do_audit(actor, "case.evidence_added", case, items=[i.seq for i in items])
        _emit(case, TimelineEvent.Type.EVIDENCE_ADDED)
    return items


# ---------------------------------------------------------------------------------- workflow


def _work_context(case: Case, **extra: Any) -> dict[str, Any]:
    return {"handler_ids": handler_ids(case), "reported_ids": reported_ids(case), "school_id": case.school_id,
            **extra}


def check_transition(actor: Person, case_id: int, to: Any) -> Case:
    """Move a case one step along reported → assessed → actions → follow-up → closed.

    Closing asks ``case.close`` too: without the harmed person's agreement R-CASE-20 refuses (409).
    """
    case = access_case(actor, case_id, audit=False)
    if not isinstance(to, str) or to not in Status.values:
        raise BadInput(_("Unknown status."), code="bad_status")
    check("case.transition", actor.facts, case, _work_context(case, to=to))
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    current = WORKFLOW.index(Status(case.status))
    target = WORKFLOW.index(Status(to))
    if to != Status.CLOSED and target != current + 1:
        raise WrongState(_("A case moves one step at a time."), code="bad_transition")
    if to == Status.CLOSED:
        from trygg.cases.serialise import step_label

        steps = list(case.steps.all())
        open_steps = [s for s in steps if not s.is_settled]
        decision = decide("case.close", actor.facts, case, _work_context(
            case, to=to, victim_confirmed=harmed_confirmed(case), category=case.category,
            open_steps=tuple(s.key for s in open_steps),
            steps_not_done=tuple(s.key for s in steps if not s.is_settled or s.not_applicable),
        ))
        if not decision.allowed:
            error = PolicyDenied(decision, status=409 if _is_state_refusal(decision) else 403)
            # The refusal names the steps still open, so the leader knows what is left.
            error.extra = {**error.extra, "open_steps": [
                {"id": s.pk, "key": s.key, "label": str(step_label(s, _lang_of(actor)))} for s in open_steps]}
            raise error
    return do_transition(actor, case, Status(to))


def _lang_of(person: Person) -> str:
    from django.utils.translation import get_language

    return (get_language() or person.facts.language or "nb")[:2]


def do_transition(actor: Person, case: Case, to: Status) -> Case:
    with transaction.atomic():
        before = case.status
        case.status = to
        fields = ["status"]
        if to == Status.CLOSED:
            case.closed_at = timezone.now()
            case.next_follow_up_at = None
            fields += ["closed_at", "next_follow_up_at"]
        case.save(update_fields=fields)
        _timeline(case, TimelineEvent.Type.STATUS_CHANGED, actor, shown=True, before=before, after=to.value)
        do_audit(actor, "case.transitioned", case, before=before, after=to.value)
        _emit(case, TimelineEvent.Type.STATUS_CHANGED)
    return case


def check_set_step(
    actor: Person, case_id: int, step_id: int, done: bool, reference: Any = "", note: Any = "",
    not_applicable: bool = False, reason: Any = "",
) -> ChecklistStep:
    """Mark a checklist step done (who and when), not applicable (with a reason), or open again;
    a step may carry a reference. A step the guidelines require (the police report of a threat,
    R-CASE-10) cannot be marked not applicable."""
    case = access_case(actor, case_id, audit=False)
    step = ChecklistStep.objects.filter(case=case, pk=step_id).first() if is_valid_id(step_id) else None
    check("case.work", actor.facts, case, _work_context(
        case, category=case.category, mark_not_applicable=step.key if step and not_applicable else None))
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    if step is None:
        raise NotFoundOrHidden()
    if not isinstance(reference, str) or len(reference) > 200:
        raise BadInput(_("The reference may be at most 200 characters."), code="bad_reference")
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise BadInput(_("The note may be at most %(n)d characters.") % {"n": MAX_NOTE_CHARS}, code="bad_note")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise BadInput(_("The reason may be at most %(n)d characters.") % {"n": MAX_REASON_CHARS}, code="bad_reason")
    if not_applicable and not reason.strip():
        raise BadInput(_("Say why the step does not apply to this case."), code="reason_required",
                       requirement="R-CASE-12")
    settled = done or not_applicable
    if not_applicable:
        type_ = TimelineEvent.Type.STEP_NOT_APPLICABLE
    else:
        type_ = TimelineEvent.Type.STEP_DONE if done else TimelineEvent.Type.STEP_REOPENED
    with transaction.atomic():
        step.done_at = timezone.now() if settled else None
        step.done_by = actor if settled else None
        step.reference = reference.strip()
        step.note = note.strip()
        step.not_applicable_reason = reason.strip() if not_applicable else ""
        step.save(update_fields=["done_at", "done_by", "reference", "note", "not_applicable_reason"])
        _timeline(case, type_, actor, step=step.key, rule=step.rule_id, reference=step.reference,
                  **({"reason": step.not_applicable_reason} if not_applicable else {}))
        do_audit(actor, f"case.{type_}", case, step=step.key)
        _emit(case, type_)
    return step


def check_log_contact(actor: Person, case_id: int, note: Any) -> TimelineEvent:
    """Log a contact with the harmed person (R-CASE-17); the next follow-up is counted from it."""
    case = access_case(actor, case_id, audit=False)
    check("case.work", actor.facts, case, _work_context(case))
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE_CHARS:
        raise BadInput(_("Write a short note of the contact (at most %(n)d characters).") % {"n": MAX_NOTE_CHARS},
                       code="bad_note")
    now = timezone.now()
    with transaction.atomic():
        if case.follow_up_days:
            case.next_follow_up_at = now + timedelta(days=case.follow_up_days)
            case.save(update_fields=["next_follow_up_at"])
        row = _timeline(case, TimelineEvent.Type.CONTACT_LOGGED, actor, note=note.strip())
        do_audit(actor, "case.contact_logged", case)
        _emit(case, TimelineEvent.Type.CONTACT_LOGGED)
    return row


def check_set_follow_up(actor: Person, case_id: int, days: Any) -> Case:
    """Set the case's follow-up interval in days (1–60), counted from now."""
    case = access_case(actor, case_id, audit=False)
    check("case.work", actor.facts, case, _work_context(case))
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        raise BadInput(_("The interval is a whole number of days from 1 to 60."), code="bad_interval")
    with transaction.atomic():
        case.follow_up_days = days
        case.next_follow_up_at = timezone.now() + timedelta(days=days)
        case.save(update_fields=["follow_up_days", "next_follow_up_at"])
        _timeline(case, TimelineEvent.Type.FOLLOW_UP_SET, actor, days=days)
        do_audit(actor, "case.follow_up_set", case, days=days)
        _emit(case, TimelineEvent.Type.FOLLOW_UP_SET)
    return case


def check_confirm(actor: Person, case_id: int, confirmed: bool) -> Case:
    """Give (or withdraw, before closing) the harmed side's agreement that the case may close (R-CASE-20)."""
    case = access_case(actor, case_id, audit=False)
    check("case.confirm", actor.facts, case, {"confirmer_ids": confirmer_ids(case), "school_id": case.school_id})
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    harmed = list(case.participants.filter(role=Participant.Role.HARMED))
    children = set(actor.facts.child_ids)
    mine = [p for p in harmed if p.person_id == actor.pk or p.person_id in children]
    now = timezone.now()
    with transaction.atomic():
        for row in mine:
            row.confirmed_at = now if confirmed else None
            row.confirmed_by = actor if confirmed else None
            row.save(update_fields=["confirmed_at", "confirmed_by"])
        type_ = TimelineEvent.Type.CONFIRMED if confirmed else TimelineEvent.Type.CONFIRMATION_WITHDRAWN
        _timeline(case, type_, actor, shown=True, harmed=[p.person_id for p in mine])
        do_audit(actor, "case.confirmed" if confirmed else "case.confirmation_withdrawn", case)
        _emit(case, type_)
    return case


def check_reopen(actor: Person, case_id: int) -> Case:
    """Reopen a closed case when the harmed person (or a harmed pupil's guardian) says it is not
    over, within the pack's period (R-CASE-20); after it, 409."""
    case = access_case(actor, case_id, audit=False)
    now = timezone.now()
    decision = decide("case.reopen", actor.facts, case, {
        "confirmer_ids": confirmer_ids(case), "school_id": case.school_id, "closed_at": case.closed_at, "now": now,
    })
    if not decision.allowed:
        raise PolicyDenied(decision, status=409 if _is_state_refusal(decision) else 403)
    if not case.is_closed:
        raise WrongState(_("The case is open."), code="case_open")
    return do_reopen(actor, case, now)


def do_reopen(actor: Person, case: Case, now: datetime) -> Case:
    from trygg.notifications.actions import queue_notice

    with transaction.atomic():
        before = case.closed_at
        case.status = Status.FOLLOW_UP
        case.closed_at = None
        case.next_follow_up_at = now + timedelta(days=case.follow_up_days) if case.follow_up_days else None
        case.save(update_fields=["status", "closed_at", "next_follow_up_at"])
        # The harmed side said it is not over: their agreement to close no longer holds.
        case.participants.filter(role=Participant.Role.HARMED).update(confirmed_at=None, confirmed_by=None)
        _timeline(case, TimelineEvent.Type.REOPENED, actor, shown=True, before=Status.CLOSED.value,
                  after=Status.FOLLOW_UP.value, closed_at=before.isoformat() if before else None)
        do_audit(actor, "case.reopened", case)
        for pid in sorted(handler_ids(case)):
            queue_notice(pid, "case_new", now=now)
        _emit(case, TimelineEvent.Type.REOPENED)
    return case


# ---------------------------------------------------------------------------------- the other family


def check_propose_family_message(actor: Person, case_id: int, body: Any) -> FamilyMessage:
    """Write to the other child's guardians (R-PAR-03); the case's leader approves it before it goes,
    and the writer never learns their contact details."""
    case = access_case(actor, case_id, audit=False)
    check("case.message_other_family", actor.facts, case, family_context(case))
    if case.is_closed:
        raise WrongState(_("The case is closed."), code="case_closed")
    if not isinstance(body, str) or not body.strip() or len(body) > MAX_NOTE_CHARS:
        raise BadInput(_("Write the message (at most %(n)d characters).") % {"n": MAX_NOTE_CHARS}, code="bad_body")
    from trygg.notifications.actions import queue_notice

    now = timezone.now()
    with transaction.atomic():
        row = FamilyMessage.objects.create(case=case, sender=actor, body=body.strip(), created_at=now)
        _timeline(case, TimelineEvent.Type.FAMILY_MESSAGE_PROPOSED, actor, message=row.pk)
        do_audit(actor, "case.family_message_proposed", case, message=row.pk)
        if case.assigned_leader_id:
            queue_notice(case.assigned_leader_id, "case_new", now=now)
        _emit(case, TimelineEvent.Type.FAMILY_MESSAGE_PROPOSED)
    return row


def check_decide_family_message(actor: Person, case_id: int, message_id: Any, approve: bool) -> FamilyMessage:
    """Approve (deliver) or refuse a waiting message to the other family; only the case's leader."""
    case = access_case(actor, case_id, audit=False)
    check("case.approve_message", actor.facts, case, _work_context(case))
    row = FamilyMessage.objects.filter(case=case, pk=message_id).first() if is_valid_id(message_id) else None
    if row is None:
        raise NotFoundOrHidden()
    if row.state != FamilyMessage.State.PENDING:
        raise WrongState(_("The message has already been decided."), code="already_decided")
    return do_decide_family_message(actor, case, row, approve)


def do_decide_family_message(actor: Person, case: Case, row: FamilyMessage, approve: bool) -> FamilyMessage:
    from trygg.messaging.actions import check_create_conversation, check_send
    from trygg.messaging.models import ConversationKind

    with transaction.atomic():
        if approve:
            others = list(Person.objects.filter(pk__in=other_family_ids(case)).values_list("username", flat=True))
            # A school-owned group the leader is in: the families meet in Trygg, not in each
            # other's phone books, and an adult from the school sees what is written. The
            # messaging guards run as for any group and any send.
            created = check_create_conversation(
                actor, ConversationKind.GROUP, _("Message from another parent, approved by the school"),
                [row.sender.username, *others], school_owned=True,
            )
            check_send(row.sender, created.conversation.pk, row.body, f"family-message-{row.pk}")
            row.conversation_id = created.conversation.pk
        row.state = FamilyMessage.State.APPROVED if approve else FamilyMessage.State.REFUSED
        row.decided_by, row.decided_at = actor, timezone.now()
        row.save(update_fields=["state", "decided_by", "decided_at", "conversation_id"])
        _timeline(case, TimelineEvent.Type.FAMILY_MESSAGE_DECIDED, actor, message=row.pk, state=row.state)
        do_audit(actor, "case.family_message_decided", case, message=row.pk, state=row.state)
        _emit(case, TimelineEvent.Type.FAMILY_MESSAGE_DECIDED)
    return row


def record_export(actor: Person, case: Case, what: str) -> None:
    """Record that someone took the case file out of Trygg (a printable page or the ZIP)."""
    with transaction.atomic():
        _timeline(case, TimelineEvent.Type.EXPORTED, actor, format=what)
        do_audit(actor, "case.exported", case, format=what)


# ---------------------------------------------------------------------------------- legal holds

RETENTION_RULE = "core_platform.retention"
RELEASE_BATCH = 5000


def held_by_cases(now: datetime | None = None) -> set[int]:
    """Return the message ids a case still holds as evidence: every open case, and a closed one
    until ``legal_hold_days`` after it closed (the municipality's setting, R-PRIV-03)."""
    import json as _json

    now = now or timezone.now()
    needed: set[int] = set()
    cases = Case.objects.values_list("pk", "status", "closed_at", "municipality_id")
    keep = []
    for pk, status, closed_at, municipality_id in cases:
        days = int(params_for(RETENTION_RULE, municipality_id).get("legal_hold_days") or 0)
        if status != Status.CLOSED or closed_at is None or closed_at > now - timedelta(days=days):
            keep.append(pk)
    for canonical in EvidenceItem.objects.filter(case_id__in=keep, kind=EvidenceItem.Kind.MESSAGE_SNAPSHOT) \
            .values_list("canonical", flat=True):
        needed.update(int(m["id"]) for m in _json.loads(canonical).get("messages") or ())
    return needed


def holds_to_release(now: datetime | None = None) -> list[int]:
    """Return (one batch of) the held messages no case needs any longer."""
    return list(
        Message.objects.filter(legal_hold=True).exclude(pk__in=held_by_cases(now))
        .order_by("pk").values_list("pk", flat=True)[:RELEASE_BATCH]
    )


def release_legal_holds(now: datetime | None = None) -> int:
    """Release the legal holds of closed cases once their period has passed, so retention can erase
    the messages like any others (R-PRIV-03). A daily job; one batch per run."""
    from trygg.messaging.actions import do_set_legal_hold

    ids = holds_to_release(now)
    if not ids:
        return 0
    with transaction.atomic():
        do_set_legal_hold(ids, hold=False)
        do_audit(None, "case.legal_holds_released", None, count=len(ids))
    return len(ids)


# ---------------------------------------------------------------------------------- reminders


def remind_follow_ups(now: datetime | None = None) -> int:
    """Queue a neutral reminder to the handling leader of each open case whose follow-up is due.

    A case is claimed with a conditional update on ``reminded_for``, so two workers never remind
    twice for one due time; logging a contact moves the due time and arms the next reminder.
    """
    from trygg.notifications.actions import queue_notice

    now = now or timezone.now()
    due = (
        Case.objects.exclude(status=Status.CLOSED)
        .filter(next_follow_up_at__lte=now, assigned_leader__isnull=False)
        .values_list("pk", "next_follow_up_at", "assigned_leader_id")[:500]
    )
    reminded = 0
    for case_id, due_at, leader_id in due:
        with transaction.atomic():
            won = (
                Case.objects.filter(pk=case_id, next_follow_up_at=due_at)
                .exclude(reminded_for=due_at)
                .update(reminded_for=due_at)
            )
            if not won:
                continue
            queue_notice(leader_id, "case_follow_up", now=now)
            TimelineEvent.objects.create(case_id=case_id, type=TimelineEvent.Type.REMINDER_QUEUED,
                                         data={"due": due_at.isoformat()})
            do_audit(None, "case.reminder_queued", Case(pk=case_id))
        reminded += 1
    return reminded


__all__ = [
    "HANDLING_ROLES", "VIEWING_ROLES", "Upload", "available_categories", "check_add_evidence", "check_confirm",
    "check_decide_family_message", "check_log_contact", "check_propose_family_message", "check_reopen",
    "check_report", "check_set_follow_up", "check_set_step", "check_transition",
    "check_upload", "record_export", "remind_follow_ups", "snapshot_of",
]
