"""Writes to meetings. Each asks the policy, writes in one transaction, appends its events and the
audit row, and tells the meeting's sockets after commit (``rooms.after_commit``).

Audit records hold ids and rule ids only: never invitation text, agenda, reflections, chat or tokens.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.directory.facts import facts_for
from trygg.directory.models import Enrollment, Guardianship, Person, SchoolClass, TeachingAssignment
from trygg.directory.queries import anonymous_word, audiences, display_name
from trygg.directory.queries import person_ref as visible_ref
from trygg.errors import BadInput, NotFoundOrHidden, PolicyDenied, TooLarge, WrongState
from trygg.events.log import emit_event
from trygg.meetings import events as ev
from trygg.meetings import queries, sfu
from trygg.meetings.ice import ice_servers
from trygg.meetings.models import (
    CalendarEntry,
    CalendarFeed,
    Invitation,
    InviteRole,
    JoinAttempt,
    JoinToken,
    Meeting,
    MeetingKind,
    MeetingMessage,
    MeetingStatus,
    Reflection,
    digest_of,
    new_key,
)
from trygg.meetings.rooms import after_commit, person_room_group, room_group
from trygg.policy.engine import Decision, check, decide, registry
from trygg.policy.limits import check_limit
from trygg.policy.queries import obligation_notes

MAX_TITLE = 200
MAX_TEXT = 2000
MAX_AGENDA = 4000
MAX_REFLECTION = 4000
MAX_CHAT = 1000
JOIN_TOKEN_LIFETIME = timedelta(hours=12)
ENDED_RULE = "amot.ending-meeting-ends-for-all"
STALE_LINK_RULE = "bergen.intruder-stops-talk"
INVITATION_RULE = "bergen.generic-invitation"
SCHOOL_KINDS = (MeetingKind.DEVELOPMENT_TALK, MeetingKind.LESSON, MeetingKind.PARENT_MEETING)

log = logging.getLogger(__name__)


def _on_sfu(what: Callable[..., Any], *args: Any) -> Any:
    """Tell the SFU what Trygg decided, after the decision has committed. A Janus that does not
    answer never undoes or blocks the decision: the organiser's socket re-checks the room every
    few seconds (``sfu.reconcile``) and the room falls back or ends with a message."""
    try:
        return what(*args)
    except (sfu.JanusUnavailable, sfu.JanusRefused):
        log.warning("telling the meeting's Janus server about a decision failed; the re-check follows up")
        return None


def _lang() -> str:
    return (get_language() or "nb")[:2]


def person_ref(person: Person | None, viewer: Person | None = None) -> dict[str, Any] | None:
    """Return ``{id, username, name}``; with a ``viewer``, as they may see the person (R-LIST-05)."""
    if person is None:
        return None
    if viewer is not None:
        return visible_ref(viewer, person)
    return {"id": person.pk, "username": person.username, "name": person.name}


def serialise_meeting(meeting: Meeting, viewer: Person) -> dict[str, Any]:
    """Return the contract's ``{id, kind, status, link, starts_at, participants}`` and more.

    The link is shown while the meeting can still be joined, and not to a removed person.
    """
    invitation = queries.invitation_of(meeting, viewer)
    removed = invitation is not None and invitation.removed_at is not None
    is_organiser = meeting.organiser_id == viewer.pk
    body: dict[str, Any] = {
        "id": meeting.pk,
        "kind": meeting.kind,
        "status": meeting.status,
        "link": None if meeting.ended or removed else meeting.link,
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": (meeting.starts_at + timedelta(minutes=meeting.duration_minutes)).isoformat(),
        "participants": queries.list_participants(meeting, viewer),
        "title": meeting.title,
        "invitation_text": meeting.invitation_text,
        "school_owned": meeting.school_owned,
        "owner": _("The school") if meeting.school_owned else _("Arranged by %(name)s") % {
            "name": display_name(viewer, meeting.organiser)},
        "organiser": person_ref(meeting.organiser, viewer),
        "class_id": meeting.school_class_id,
        "pupil": person_ref(meeting.pupil, viewer),
        "generation": meeting.generation,
        "guidelines_read": meeting.guidelines_read_at is not None,
        "my_role": invitation.role if invitation else None,
        "chat": meeting.kind != MeetingKind.DEVELOPMENT_TALK,
    }
    if is_organiser:
        body["agenda"] = meeting.agenda
        body["refused_attempts"] = [
            {"person": person_ref(a.person, viewer), "at": a.at.isoformat(), "rule": a.rule or None}
            for a in queries.list_refused_attempts(meeting)
        ]
    return body


def findings_of(decision: Decision) -> list[dict[str, Any]]:
    """Return the invitation check's findings (R-MEET-12) from a decision, if it refused on them."""
    for fired in decision.fired:
        if fired.rule.id == INVITATION_RULE and fired.verdict == "deny":
            return [dict(f) for f in fired.reason_params.get("findings", ())]
    return []


def nudges_of(decision: Decision) -> list[dict[str, Any]]:
    """Return the nudges to show (R-MEET-19), each with its rule, requirement and localised text."""
    return [
        {"rule": n["rule"], "requirement": n["requirement"], "message": n["message"],
         "words": list(n["data"].get("words", ())), "findings": [dict(f) for f in n["data"].get("findings", ())]}
        for n in obligation_notes(decision, "nudge")
    ]


def _rule_text(rule_id: str) -> str:
    spec = registry().rules.get(rule_id)
    if spec is None:
        return ""
    return spec.reason.get(_lang()) or spec.reason.get("en", "")


def _refuse(decision: Decision, actor: Person, status: int = 403) -> PolicyDenied:
    exc = PolicyDenied(decision, language=_lang(), status=status)
    findings = findings_of(decision)
    if findings:
        exc.extra = {"findings": findings}
    return exc


# ------------------------------------------------------------------------------ creating


@dataclass
class Plan:
    """Who a new meeting invites, and what the policy needs to know about it."""

    school_class: SchoolClass
    pupil: Person | None
    people: dict[int, tuple[Person, str]] = field(default_factory=dict)
    class_pupil_ids: frozenset[int] = frozenset()
    class_guardian_ids: frozenset[int] = frozenset()


def _class_people(school_class: SchoolClass) -> tuple[list[int], list[int], list[int]]:
    """Return the class's active pupils, their active guardians and its active teachers.

    A deactivated account cannot be invited, so it is not part of the class a gathering is
    compared with (R-SOC-01): one deactivated guardian must not make every gathering impossible.
    """
    pupils = list(Enrollment.objects.filter(school_class=school_class, pupil__is_active=True)
                  .values_list("pupil_id", flat=True))
    guardians = list(
        Guardianship.objects.filter(pupil_id__in=pupils, parental_responsibility=True, guardian__is_active=True)
        .values_list("guardian_id", flat=True)
    )
    teachers = list(TeachingAssignment.objects.filter(school_class=school_class, teacher__is_active=True)
                    .values_list("teacher_id", flat=True))
    return pupils, guardians, teachers


def _visible_class(actor: Person, class_id: int | None) -> SchoolClass:
    facts = actor.facts
    if class_id is None:
        raise BadInput(_("Choose a class."), code="class_required")
    school_class = SchoolClass.objects.select_related("school").filter(pk=class_id).first()
    related = facts.taught_class_ids | facts.child_class_ids | facts.pupil_class_ids
    if school_class is None or (class_id not in related and school_class.school_id not in facts.led_school_ids):
        raise NotFoundOrHidden()
    return school_class


def _plan(actor: Person, kind: str, student_username: str | None, class_id: int | None,
          subject_teacher_username: str | None) -> Plan:
    facts = actor.facts
    if kind == MeetingKind.DEVELOPMENT_TALK:
        if not student_username:
            raise BadInput(_("Choose the pupil the talk is about."), code="student_required")
        pupil = Person.objects.filter(username=student_username, is_active=True).first()
        # A pupil outside the actor's classes does not exist for them (R-PRIV-01).
        if pupil is None or not (pupil.facts.pupil_class_ids & (facts.taught_class_ids | facts.child_class_ids)) \
                and not (pupil.facts.school_ids & facts.led_school_ids):
            raise NotFoundOrHidden()
        pupil_classes = sorted(pupil.facts.pupil_class_ids)
        chosen = next((c for c in pupil_classes if c in facts.contact_class_ids), None)
        chosen = chosen or next((c for c in pupil_classes if c in facts.taught_class_ids), pupil_classes[0])
        school_class = SchoolClass.objects.select_related("school").get(pk=chosen)
        plan = Plan(school_class, pupil)
        plan.people[pupil.pk] = (pupil, InviteRole.PUPIL)
        for g in Guardianship.objects.filter(pupil=pupil, parental_responsibility=True).select_related("guardian"):
            plan.people[g.guardian_id] = (g.guardian, InviteRole.GUARDIAN)
        if subject_teacher_username:
            teacher = Person.objects.filter(username=subject_teacher_username, is_active=True).first()
            if teacher is None:
                raise BadInput(_("Some of the people could not be found."), code="unknown_member")
            plan.people[teacher.pk] = (teacher, InviteRole.SUBJECT_TEACHER)
        return plan
    if student_username or subject_teacher_username:
        raise BadInput(_("Only a development talk is about one pupil."), code="bad_input")
    school_class = _visible_class(actor, class_id)
    pupils, guardians, teachers = _class_people(school_class)
    plan = Plan(school_class, None, class_pupil_ids=frozenset(pupils), class_guardian_ids=frozenset(guardians))
    wanted: list[tuple[int, str]] = []
    if kind == MeetingKind.LESSON:
        wanted = [(p, InviteRole.PUPIL) for p in pupils] + [(t, InviteRole.TEACHER) for t in teachers]
    elif kind == MeetingKind.PARENT_MEETING:
        wanted = [(g, InviteRole.GUARDIAN) for g in guardians] + [(t, InviteRole.TEACHER) for t in teachers]
    elif kind == MeetingKind.CLASS_GATHERING:
        # R-SOC-01: the whole class, built here so nobody can be left out; the rule checks it too.
        wanted = [(p, InviteRole.PUPIL) for p in pupils] + [(g, InviteRole.GUARDIAN) for g in guardians]
    people = {p.pk: p for p in Person.objects.filter(id__in=[pid for pid, _r in wanted], is_active=True)}
    for pid, role in wanted:
        if pid in people and pid not in plan.people:
            plan.people[pid] = (people[pid], role)
    return plan


def _parse_when(starts_at: datetime | str) -> datetime:
    if isinstance(starts_at, str):
        try:
            starts_at = datetime.fromisoformat(starts_at)
        except ValueError:
            raise BadInput(_("The start time is not a valid date and time."), code="bad_starts_at")
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    return starts_at


def _text(value: str | None, limit: int, message: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise TooLarge(message)
    return value


def create_context(actor: Person, kind: str, plan: Plan, title: str, text: str) -> dict[str, Any]:
    """Return what the meeting rules need to decide on creating (and inviting to) this meeting."""
    ids = [actor.pk, *plan.people]
    facts = facts_for(ids)
    return {
        "kind": kind,
        "class_id": plan.school_class.pk,
        "school_id": plan.school_class.school_id,
        "school_owned": kind in SCHOOL_KINDS or actor.facts.is_staff_member,
        "pupil": facts.get(plan.pupil.pk) if plan.pupil else None,
        "invited": tuple(facts[i] for i in dict.fromkeys(ids) if i in facts),
        "class_pupil_ids": plan.class_pupil_ids,
        "class_guardian_ids": plan.class_guardian_ids,
        "fields": {"title": title, "invitation_text": text},
        "directory_names": tuple(queries.directory_names(plan.school_class.school_id)),
    }


def check_invitation_text(actor: Person, kind: str, title: str, text: str, student_username: str | None = None,
                          class_id: int | None = None) -> dict[str, Any]:
    """Return the invitation check (R-MEET-12) without creating anything: for the page's inline hints."""
    plan = _plan(actor, kind, student_username, class_id, None) if kind in MeetingKind.values else None
    if plan is None:
        raise BadInput(_("Unknown meeting kind."), code="bad_kind")
    context = create_context(actor, kind, plan, title or "", text or "")
    decision = decide("meeting.invite", actor, None, {**context, "kind": kind})
    findings = findings_of(decision)
    return {"ok": not findings, "findings": findings,
            "message": _rule_text(INVITATION_RULE) if findings else ""}


def check_create_meeting(
    actor: Person,
    kind: str,
    starts_at: datetime | str,
    title: str,
    invitation_text: str,
    student_username: str | None = None,
    class_id: int | None = None,
    subject_teacher_username: str | None = None,
    duration_minutes: int = 30,
) -> Meeting:
    """Create a meeting and send its invitation (R-MEET-03, R-MEET-10..12, R-MEET-14, R-SOC-01)."""
    if kind not in MeetingKind.values:
        raise BadInput(_("Unknown meeting kind."), code="bad_kind")
    title = _text(title, MAX_TITLE, _("The title is too long."))
    text = _text(invitation_text, MAX_TEXT, _("The invitation text is too long."))
    if not title:
        raise BadInput(_("Write a title."), code="title_required")
    if not 5 <= int(duration_minutes) <= 480:
        raise BadInput(_("A meeting lasts between 5 minutes and 8 hours."), code="bad_duration")
    when = _parse_when(starts_at)
    check_limit(actor, "meeting")
    plan = _plan(actor, kind, student_username, class_id, subject_teacher_username)
    context = create_context(actor, kind, plan, title, text)
    decision = decide("meeting.create", actor, None, context)
    if not decision.allowed:
        raise _refuse(decision, actor)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            kind=kind,
            school=plan.school_class.school,
            school_class=plan.school_class,
            pupil=plan.pupil,
            organiser=actor,
            school_owned=context["school_owned"],
            title=title,
            invitation_text=text,
            starts_at=when,
            duration_minutes=int(duration_minutes),
        )
        rows = [Invitation(meeting=meeting, person=actor, role=InviteRole.ORGANISER)]
        rows += [
            Invitation(meeting=meeting, person=p, role=r) for pid, (p, r) in plan.people.items() if pid != actor.pk
        ]
        Invitation.objects.bulk_create(rows)
        do_audit(actor, "meeting.created", meeting, kind=kind, invited=[r.person_id for r in rows],
                 rules=decision.rule_ids)
        _do_send_invitation(actor, meeting, context)
    return meeting


def _pupil_calendar_opened(meeting: Meeting) -> bool:
    if meeting.pupil_id is None:
        return True
    return CalendarFeed.objects.filter(person_id=meeting.pupil_id, opened_at__isnull=False).exists()


def _do_send_invitation(actor: Person, meeting: Meeting, context: dict[str, Any]) -> list[int]:
    """Put the invitation in the calendars (R-MEET-11) and tell the recipients; return who got it.

    Called at creation and after a halt, so the new link goes out through the same route.
    """
    context = {**context, "pupil_calendar_opened": _pupil_calendar_opened(meeting)}
    decision = decide("meeting.invite", actor, meeting, context)
    if not decision.allowed:
        raise _refuse(decision, actor)
    invitations = list(meeting.invitations.filter(removed_at__isnull=True))
    route = next((o.data.get("to") for o in decision.obligations_of("calendar")), None)
    recipients: dict[int, str] = {}
    for invitation in invitations:
        if route is None:
            recipients[invitation.person_id] = CalendarEntry.Via.OWN
        elif invitation.role == InviteRole.PUPIL:
            recipients[invitation.person_id] = CalendarEntry.Via.PUPIL
        elif invitation.role == InviteRole.GUARDIAN:
            if route == "pupil_and_guardians":
                recipients[invitation.person_id] = CalendarEntry.Via.GUARDIAN
        else:
            recipients[invitation.person_id] = CalendarEntry.Via.OWN
    for person_id, via in recipients.items():
        CalendarEntry.objects.update_or_create(
            meeting=meeting, person_id=person_id, defaults={"via": via, "generation": meeting.generation}
        )
    do_audit(actor, "meeting.invitation_sent", meeting, generation=meeting.generation,
             recipients=sorted(recipients), route=route or "own")
    everyone = sorted(set(recipients) | {i.person_id for i in invitations})
    emit_event(ev.MEETING_INVITED, everyone, {"meeting_id": meeting.pk, "meeting": _event_view(meeting)})
    return sorted(recipients)


def _event_view(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.pk,
        "kind": meeting.kind,
        "status": meeting.status,
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "link": None if meeting.ended else meeting.link,
        "generation": meeting.generation,
    }


# ------------------------------------------------------------------------------ joining


@dataclass
class JoinResult:
    join_token: str
    room: str
    ice_servers: list[dict[str, Any]]
    state: str
    rules: list[str]
    watermark: str | None
    read_guidelines: bool
    media: dict[str, Any] = field(default_factory=lambda: {"kind": "mesh"})


def _meeting_for_update(meeting_id: int) -> Meeting:
    meeting = Meeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFoundOrHidden()
    return meeting


def join_context(meeting: Meeting, invitation: Invitation | None, key: str | None) -> dict[str, Any]:
    invited_ids = frozenset(meeting.invitations.filter(removed_at__isnull=True).values_list("person_id", flat=True))
    pupil_facts = facts_for([meeting.pupil_id]).get(meeting.pupil_id) if meeting.pupil_id else None
    return {
        "kind": meeting.kind,
        "class_id": meeting.school_class_id,
        "school_id": meeting.school_id,
        "invited_ids": invited_ids,
        "removed": invitation is not None and invitation.removed_at is not None,
        "pupil": pupil_facts,
        "stale_link": key is not None and not secrets.compare_digest(str(key), meeting.link_key),
    }


def _log_refused_join(actor: Person, meeting: Meeting, decision: Decision) -> None:
    """R-MEET-10: write down a refused join and show it to the organiser. Its own transaction, so
    the refusal that follows does not roll it back."""
    denied = decision.denied_by
    rule = denied.rule.id if denied else ""
    with transaction.atomic():
        JoinAttempt.objects.create(meeting=meeting, person=actor, rule=rule)
        do_audit(actor, "meeting.join_refused", meeting, rule=rule)
        emit_event(ev.MEETING_JOIN_REFUSED, [meeting.organiser_id],
                   {"meeting_id": meeting.pk, "person": person_ref(actor, meeting.organiser), "rule": rule or None})
    after_commit(person_room_group(meeting.pk, meeting.organiser_id), {"type": "meeting.roster"})


def check_may_join(actor: Person, meeting_id: int, key: str | None = None) -> tuple[Meeting, Decision]:
    """Return the meeting and the decision to let ``actor`` join; raise the refusal otherwise.

    A person who was never invited cannot see the meeting: 404, as for an id that does not exist,
    so ids reveal neither which meetings exist nor which are development talks (R-PRIV-01); the
    organiser still sees the attempt (R-MEET-10). An invited person who may not join (removed) gets
    403; once the meeting has ended every join is 409 (R-MEET-01); a link voided by a halt is 409
    (R-MEET-18).
    """
    meeting = Meeting.objects.select_related("organiser").filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFoundOrHidden()
    invitation = queries.invitation_of(meeting, actor)
    decision = decide("meeting.join", actor, meeting, join_context(meeting, invitation, key))
    if not decision.allowed:
        denied_ids = {f.rule.id for f in decision.fired if f.verdict == "deny"}
        if invitation is not None and ENDED_RULE in denied_ids:
            raise _refuse(decision, actor, status=409)
        if invitation is not None and invitation.removed_at is None and denied_ids <= {STALE_LINK_RULE}:
            # An invited person with an old link is not an intruder: no alarm, just the new link.
            raise _refuse(decision, actor, status=409)
        _log_refused_join(actor, meeting, decision)
        if invitation is None:
            raise NotFoundOrHidden()
        raise _refuse(decision, actor)
    return meeting, decision


def check_join(actor: Person, meeting_id: int, key: str | None = None) -> JoinResult:
    """Give an invited person their own join token to the meeting's room (R-MEET-10, R-MEET-14);
    they wait in the lobby until the organiser admits them."""
    meeting, decision = check_may_join(actor, meeting_id, key)
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        meeting = _meeting_for_update(meeting_id)
        if meeting.ended:
            raise WrongState(_rule_text(ENDED_RULE), rule=ENDED_RULE, requirement="R-MEET-01")
        JoinToken.objects.filter(meeting=meeting, person=actor, voided_at__isnull=True).update(voided_at=now)
        JoinToken.objects.create(meeting=meeting, person=actor, digest=digest_of(raw), generation=meeting.generation,
                                 expires_at=now + JOIN_TOKEN_LIFETIME)
        invitation = Invitation.objects.select_for_update().get(meeting=meeting, person=actor)
        state = invitation.state(meeting.generation)
        if state == "invited":
            invitation.waiting_since = now
            invitation.waiting_generation = meeting.generation
            invitation.save(update_fields=["waiting_since", "waiting_generation"])
            state = "waiting"
        do_audit(actor, "meeting.join", meeting, generation=meeting.generation, state=state)
    media = _media_for(meeting, decision, actor, raw, admitted=state == "admitted")
    after_commit(person_room_group(meeting.pk, meeting.organiser_id), {"type": "meeting.roster"})
    notices = decision.obligations_of("show_rules")
    rules = [_rule_text(o.rule_id) for o in notices]
    if not notices:
        # Without the Åmot pack the room still says it: there is no recording (R-MEET-16).
        rules.append(_("Recording and screenshots are not allowed."))
    if meeting.kind == MeetingKind.DEVELOPMENT_TALK:
        rules += [_rule_text("bergen.no-recording"), _rule_text("bergen.no-chat-in-talk")]
    # The watermark is on unless a municipality turned it off (R-MEET-02's parameter).
    watermark = not notices or any(o.data.get("watermark") for o in notices)
    return JoinResult(
        join_token=raw,
        room=f"/ws/meetings/{meeting.pk}",
        ice_servers=ice_servers(),
        state=state,
        rules=[r for r in dict.fromkeys(rules) if r],
        watermark=actor.name if watermark else None,
        read_guidelines=bool(decision.obligations_of("read_guidelines")),
        media=media,
    )


def _media_for(meeting: Meeting, decision: Decision, actor: Person, raw: str, admitted: bool) -> dict[str, Any]:
    """Return the join answer's ``media`` (design.md): the mesh, or the SFU room with this join's
    one-time credential. The first join of a meeting above the pack's size creates the Janus room;
    when no Janus answers, the meeting uses the mesh and the organiser is told why."""
    if not decision.obligations_of("media"):
        return {"kind": "mesh"}
    try:
        room = sfu.ensure_room(meeting)
        if admitted:
            sfu.grant(meeting, actor.pk)
    except (sfu.JanusUnavailable, sfu.JanusRefused):
        log.warning("no Janus server for a meeting above the talk size; using the mesh")
        media: dict[str, Any] = {"kind": "mesh"}
        if meeting.organiser_id == actor.pk:
            media["warning"] = _(
                "The video server is not available, so this meeting runs directly between the participants. "
                "With many participants, video may be slow or stop; consider fewer cameras on."
            )
        return media
    _participant, credential = sfu.credential_for(digest_of(raw))
    return {"kind": "sfu", "url": room.public_url, "room": room.janus_room, "credential": credential}


# ------------------------------------------------------------------------------ the organiser's controls


def _organised(actor: Person, meeting_id: int, action: str, context: dict[str, Any] | None = None,
               status: int = 403) -> tuple[Meeting, Decision]:
    meeting = queries.access_meeting(actor, meeting_id)
    base = {"kind": meeting.kind, "class_id": meeting.school_class_id, "school_id": meeting.school_id}
    decision = decide(action, actor, meeting, {**base, **(context or {})})
    if not decision.allowed:
        ended = any(f.rule.id == ENDED_RULE and f.verdict == "deny" for f in decision.fired)
        raise _refuse(decision, actor, status=409 if ended else status)
    return meeting, decision


def _invited(meeting: Meeting, username: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("person").filter(meeting=meeting, person__username=username).first()
    )
    if invitation is None:
        raise NotFoundOrHidden()
    return invitation


def check_confirm_guidelines(actor: Person, meeting_id: int) -> Meeting:
    """R-MEET-13: record that the organiser has read the guidelines out; admitting is possible after."""
    meeting, _decision = _organised(actor, meeting_id, "meeting.guidelines_read")
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        if meeting.ended:
            raise WrongState(_rule_text(ENDED_RULE), rule=ENDED_RULE, requirement="R-MEET-01")
        meeting.guidelines_read_at = timezone.now()
        meeting.save(update_fields=["guidelines_read_at"])
        do_audit(actor, "meeting.guidelines_read", meeting, generation=meeting.generation)
    return meeting


def check_admit(actor: Person, meeting_id: int, username: str) -> Invitation:
    """Let a waiting person in from the lobby (R-MEET-10; R-MEET-13 first in a development talk)."""
    meeting = queries.access_meeting(actor, meeting_id)
    invitation = _invited(meeting, username)
    pupil = facts_for([meeting.pupil_id]).get(meeting.pupil_id) if meeting.pupil_id else None
    _organised(actor, meeting_id, "meeting.admit",
               {"person": facts_for([invitation.person_id])[invitation.person_id], "pupil": pupil})
    if invitation.removed_at is not None:
        raise WrongState(_("This person has been removed from the meeting."), code="removed")
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation.admitted_generation = meeting.generation
        invitation.save(update_fields=["admitted_generation"])
        do_audit(actor, "meeting.admitted", meeting, person=invitation.person_id, generation=meeting.generation)
    _on_sfu(sfu.grant, meeting, invitation.person_id)
    after_commit(person_room_group(meeting.pk, invitation.person_id), {"type": "meeting.admitted"})
    after_commit(person_room_group(meeting.pk, meeting.organiser_id), {"type": "meeting.roster"})
    return invitation


def check_remove(actor: Person, meeting_id: int, username: str) -> Invitation:
    """Take a person out of the meeting: their sockets close and they cannot join again."""
    meeting, _decision = _organised(actor, meeting_id, "meeting.remove")
    invitation = _invited(meeting, username)
    if invitation.person_id == actor.pk:
        raise BadInput(_("You cannot remove yourself; end the meeting instead."), code="self")
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation.removed_at = now
        invitation.save(update_fields=["removed_at"])
        JoinToken.objects.filter(meeting=meeting, person_id=invitation.person_id, voided_at__isnull=True).update(
            voided_at=now
        )
        # The link leaves their calendar and feed too: a removed person keeps no way back in.
        CalendarEntry.objects.filter(meeting=meeting, person_id=invitation.person_id).delete()
        do_audit(actor, "meeting.removed", meeting, person=invitation.person_id)
        emit_event(ev.MEETING_REMOVED, [meeting.organiser_id, invitation.person_id],
                   {"meeting_id": meeting.pk, "person_id": invitation.person_id})
    # Their streams stop at once: Janus forgets the credential and kicks the publisher.
    _on_sfu(sfu.revoke_person, meeting, invitation.person_id)
    after_commit(person_room_group(meeting.pk, invitation.person_id), {"type": "meeting.closed", "reason": "removed"})
    after_commit(room_group(meeting.pk), {"type": "meeting.peer_left", "person_id": invitation.person_id})
    after_commit(person_room_group(meeting.pk, meeting.organiser_id), {"type": "meeting.roster"})
    return invitation


def check_halt(actor: Person, meeting_id: int) -> Meeting:
    """R-MEET-18: stop the talk, disconnect everyone, void the link and every join, and send a new
    invitation with a new link through the same route as the first."""
    meeting, _decision = _organised(actor, meeting_id, "meeting.halt")
    now = timezone.now()
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        old_generation = meeting.generation
        meeting.generation += 1
        meeting.link_key = new_key()
        meeting.guidelines_read_at = None
        meeting.halted_at = now
        meeting.save(update_fields=["generation", "link_key", "guidelines_read_at", "halted_at"])
        JoinToken.objects.filter(meeting=meeting, voided_at__isnull=True).update(voided_at=now)
        do_audit(actor, "meeting.halted", meeting, old_generation=old_generation, generation=meeting.generation)
        plan_context = _resend_context(actor, meeting)
        _do_send_invitation(actor, meeting, plan_context)
        invited = list(meeting.invitations.values_list("person_id", flat=True))
        emit_event(ev.MEETING_HALTED, invited, {"meeting_id": meeting.pk, "meeting": _event_view(meeting)})
    _on_sfu(sfu.destroy_rooms, meeting, "halted")
    after_commit(room_group(meeting.pk), {"type": "meeting.closed", "reason": "halted"})
    return meeting


def _resend_context(actor: Person, meeting: Meeting) -> dict[str, Any]:
    return {
        "kind": meeting.kind,
        "class_id": meeting.school_class_id,
        "school_id": meeting.school_id,
        "fields": {"title": meeting.title, "invitation_text": meeting.invitation_text},
        "directory_names": tuple(queries.directory_names(meeting.school_id)),
    }


def check_end(actor: Person, meeting_id: int) -> Meeting:
    """R-MEET-01: end the meeting for everyone at once, server-side; nobody can join it again."""
    meeting, _decision = _organised(actor, meeting_id, "meeting.end")
    now = timezone.now()
    with transaction.atomic():
        meeting = _meeting_for_update(meeting.pk)
        if meeting.ended:
            raise WrongState(_rule_text(ENDED_RULE), rule=ENDED_RULE, requirement="R-MEET-01")
        meeting.status = MeetingStatus.ENDED
        meeting.ended_at = now
        meeting.save(update_fields=["status", "ended_at"])
        JoinToken.objects.filter(meeting=meeting, voided_at__isnull=True).update(voided_at=now)
        do_audit(actor, "meeting.ended", meeting)
        invited = list(meeting.invitations.values_list("person_id", flat=True))
        emit_event(ev.MEETING_ENDED, invited, {"meeting_id": meeting.pk})
    # R-MEET-01 on the SFU path: destroying the room disconnects everyone from Janus itself.
    _on_sfu(sfu.destroy_rooms, meeting, "ended")
    after_commit(room_group(meeting.pk), {"type": "meeting.closed", "reason": "ended"})
    return meeting


def check_moderate(actor: Person, meeting_id: int, username: str, audio: bool | None,
                   video: bool | None) -> Invitation:
    """The teacher turns a participant's microphone or camera off (or lets it on again) in the SFU.

    Only the organiser may (``meeting.moderate``); Janus enforces it with the room secret, which
    no participant has, so pupils cannot do it to each other.
    """
    meeting, _decision = _organised(actor, meeting_id, "meeting.moderate")
    invitation = _invited(meeting, username)
    if invitation.person_id == actor.pk:
        raise BadInput(_("Use your own microphone and camera buttons."), code="self")
    if invitation.removed_at is not None or invitation.state(meeting.generation) != "admitted":
        raise WrongState(_("This person is not in the meeting."), code="not_in_meeting")
    if audio is None and video is None:
        raise BadInput(_("Say what to turn off or on."), code="bad_input")
    try:
        done = sfu.moderate(meeting, invitation.person_id, audio, video)
    except (sfu.JanusUnavailable, sfu.JanusRefused):
        raise WrongState(_("The video server did not answer. Try again."), code="sfu_unavailable")
    if not done:
        raise WrongState(_("This person is not connected to the video server."), code="not_in_meeting")
    with transaction.atomic():
        do_audit(actor, "meeting.moderated", meeting, person=invitation.person_id, audio=audio, video=video)
    after_commit(person_room_group(meeting.pk, invitation.person_id),
                 {"type": "meeting.moderated", "audio": audio, "video": video})
    return invitation


def check_set_agenda(actor: Person, meeting_id: int, agenda: str) -> tuple[Meeting, list[dict[str, Any]]]:
    """Save the organiser's agenda; return the health-topic nudges (R-MEET-19), which do not block."""
    agenda = _text(agenda, MAX_AGENDA, _("The agenda is too long."))
    meeting, decision = _organised(actor, meeting_id, "meeting.agenda", {"agenda": agenda})
    with transaction.atomic():
        Meeting.objects.filter(pk=meeting.pk).update(agenda=agenda)
        meeting.agenda = agenda
        do_audit(actor, "meeting.agenda_saved", meeting, nudged=bool(decision.obligations_of("nudge")))
    return meeting, nudges_of(decision)


def preview_agenda(actor: Person, meeting_id: int, agenda: str) -> list[dict[str, Any]]:
    """Return the nudges an agenda would get, without saving it (for the warning while typing)."""
    _meeting, decision = _organised(actor, meeting_id, "meeting.agenda", {"agenda": agenda[:MAX_AGENDA]})
    return nudges_of(decision)


def check_reflect(actor: Person, meeting_id: int, text: str) -> Reflection:
    """R-MEET-15: the pupil writes their own reflections before the talk; the organiser reads them."""
    text = _text(text, MAX_REFLECTION, _("The text is too long."))
    meeting = queries.access_meeting(actor, meeting_id)
    check("meeting.reflect", actor, meeting, {"kind": meeting.kind, "school_id": meeting.school_id})
    with transaction.atomic():
        reflection, _created = Reflection.objects.update_or_create(
            meeting=meeting, defaults={"pupil": actor, "text": text, "updated_at": timezone.now()}
        )
        do_audit(actor, "meeting.reflection_saved", meeting)
    return reflection


def read_reflection(actor: Person, meeting: Meeting) -> Reflection | None:
    """Return the pupil's reflection to the pupil and the organiser (R-MEET-15); ``None`` to others."""
    decision = decide("meeting.view_reflection", actor, meeting, {"kind": meeting.kind})
    if not decision.allowed:
        return None
    return queries.reflection_of(meeting)


def check_meeting_chat(actor: Person, meeting_id: int, body: str) -> MeetingMessage:
    """Write in a meeting's chat. Refused by the server in a development talk (R-MEET-17)."""
    meeting = queries.access_meeting(actor, meeting_id)
    body = (body or "").strip()
    if not body:
        raise BadInput(_("Write something first."), code="empty")
    if len(body) > MAX_CHAT:
        raise TooLarge(_("The message is too long."))
    invitation = queries.invitation_of(meeting, actor)
    context = join_context(meeting, invitation, None)
    decision = decide("meeting.chat", actor, meeting, context)
    if not decision.allowed:
        ended = any(f.rule.id == ENDED_RULE and f.verdict == "deny" for f in decision.fired)
        raise _refuse(decision, actor, status=409 if ended else 403)
    with transaction.atomic():
        message = MeetingMessage.objects.create(meeting=meeting, sender=actor, body=body)
        do_audit(actor, "meeting.chat", meeting, message=message.pk)
        # One payload per audience: other families see a protected sender as "a pupil" (R-LIST-05).
        for audience in audiences(sorted(context["invited_ids"]), [actor.pk]):
            with translation.override(audience.language) if audience.language else nullcontext():
                payload = {"meeting_id": meeting.pk, "message": serialise_chat(message, audience.hidden)}
            emit_event(ev.MEETING_CHAT, audience.ids, payload)
    # The room's sockets show the sender as each may see them (``consumers.MeetingConsumer``).
    after_commit(room_group(meeting.pk), {"type": "meeting.chat", "message": serialise_chat(message)})
    return message


def serialise_chat(message: MeetingMessage, hidden: Collection[int] = ()) -> dict[str, Any]:
    """Return a meeting chat message; a sender in ``hidden`` is "a pupil" or "a guardian"."""
    sender = (
        {"id": None, "username": None, "name": anonymous_word(message.sender_id)}
        if message.sender_id in hidden else person_ref(message.sender)
    )
    return {"id": message.pk, "sender": sender, "body": message.body,
            "created_at": message.created_at.isoformat()}


def check_record(actor: Person, meeting_id: int) -> None:
    """There is no recording in Trygg (R-MEET-02, R-MEET-16): asking for one is refused with the rule."""
    meeting = queries.access_meeting(actor, meeting_id)
    decision = decide("meeting.record", actor, meeting, {"kind": meeting.kind})
    do_audit(actor, "meeting.record_refused", meeting)
    raise _refuse(decision, actor)


# ------------------------------------------------------------------------------ calendar


def check_open_calendar(actor: Person) -> CalendarFeed:
    """Note that the person has opened their calendar (R-MEET-11: invitations then go to the pupil
    alone) and return their calendar, with the key of its secret feed."""
    check("calendar.open", actor, None, {"owner_id": actor.pk})
    feed, _created = CalendarFeed.objects.get_or_create(person=actor)
    if feed.opened_at is None:
        with transaction.atomic():
            CalendarFeed.objects.filter(pk=feed.pk, opened_at__isnull=True).update(opened_at=timezone.now())
            do_audit(actor, "calendar.opened", feed)
        feed.refresh_from_db()
    return feed


def check_reset_feed(actor: Person) -> CalendarFeed:
    """Give the person a new secret feed address; the old one stops working."""
    feed = check_open_calendar(actor)
    check("calendar.reset_feed", actor, None, {"owner_id": actor.pk})
    with transaction.atomic():
        feed.key = new_key()
        feed.save(update_fields=["key"])
        do_audit(actor, "calendar.feed_reset", feed)
    return feed
