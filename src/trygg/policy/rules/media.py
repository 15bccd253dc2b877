"""Rule logic for photos, video and sound in chat (R-PAR-02, R-STF-02, R-PUP-01).

The guideline (S4): publish no photos or video without permission from everyone in them; staff
share no photos of others without everyone's permission; pupils take photos, video or sound at
school only when the teacher has agreed, and delete them right after use.

Actions and what callers (``trygg.messaging.attachments``) pass:

* ``attachment.upload`` — target: the conversation; context: ``members`` (tuple of
  ``PersonFacts``), ``pictured`` (tuple of ``PersonFacts``, the people in it), ``guardians``
  ({pupil id: frozenset of guardian ids with parental responsibility}), ``nobody_identifiable``,
  ``school_owned``. Rules answer with obligations: ``permission`` (``person_id``, ``deciders``),
  ``teacher_agreement`` (``teacher_ids``), ``delete_after_use`` (``days``).
* ``attachment.grant`` / ``attachment.refuse`` — target: the attachment; context: ``person``
  (``PersonFacts`` of the one pictured), ``guardians`` (their guardian ids).
* ``attachment.agree`` — target: the attachment; context: ``members``, ``uploader``.
* ``attachment.view`` — target: the attachment; context: ``relations`` (frozenset of
  ``uploader``, ``pictured``, ``decider``, ``member``, ``teacher``), ``permissions_outstanding``,
  ``agreement_outstanding``, ``message_visible``, ``uploader_is_staff``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trygg.policy.engine import Effect, Obligation, Request, allow, deny, logic

UPLOAD = "attachment.upload"
DECIDE = ("attachment.grant", "attachment.refuse")
AGREE = "attachment.agree"
VIEW = "attachment.view"
# Who may see a held attachment: whoever sent it, whoever is in it, whoever answers for them.
CONCERNED = frozenset({"uploader", "pictured", "decider"})


def is_child_pupil(facts: Any) -> bool:
    """A pupil who is not also an adult in Trygg (a pupil who is a parent answers for themselves)."""
    return "pupil" in facts.roles and not facts.is_adult


def deciders_for(person: Any, guardian_ids: Iterable[int], consent_grade: int) -> frozenset[int]:
    """Return who answers for ``person``: adults and pupils from ``consent_grade`` themselves;
    younger pupils through their guardians with parental responsibility."""
    if not is_child_pupil(person):
        return frozenset({person.id})
    if person.grade is not None and person.grade >= consent_grade:
        return frozenset({person.id})
    return frozenset(guardian_ids)


def _member_ids(req: Request) -> set[int]:
    return {m.id for m in req.context.get("members") or ()}


def _permission_obligations(
    req: Request, consent_grade: int, only_adults: bool = False
) -> tuple[Obligation, ...] | None:
    """Return a ``permission`` obligation per pictured person the actor cannot answer for;
    None if someone in it has nobody who could give permission."""
    guardians: Mapping[int, Iterable[int]] = req.context.get("guardians") or {}
    obligations = []
    for person in req.context.get("pictured") or ():
        if only_adults and is_child_pupil(person):
            continue
        deciders = deciders_for(person, guardians.get(person.id, ()), consent_grade)
        if not deciders:
            return None
        if req.actor.id in deciders:
            # Sending it is the sender's own permission (for themselves, or as the guardian).
            continue
        obligations.append(Obligation("permission", "", {"person_id": person.id, "deciders": tuple(sorted(deciders))}))
    return tuple(obligations)


@logic("media.photo_permission")
def photo_permission(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-PAR-02: a photo or video is shared only when everyone in it has given permission.

    On upload a member may send; everyone in it the sender cannot answer for must give
    permission first (a pupil below ``pupil_consents_from_grade`` through a guardian with
    parental responsibility). Until then it is hidden from everyone but those concerned.
    """
    consent_grade = int(params.get("pupil_consents_from_grade", 9))
    if req.action == UPLOAD:
        if req.actor.id not in _member_ids(req):
            return deny()
        if req.context.get("nobody_identifiable"):
            return allow()
        obligations = _permission_obligations(req, consent_grade)
        if obligations is None:
            return deny()
        return Effect("allow", obligations)
    if req.action in DECIDE:
        person = req.context.get("person")
        if person is None:
            return deny()
        deciders = deciders_for(person, req.context.get("guardians") or (), consent_grade)
        return allow() if req.actor.id in deciders else deny()
    if req.action == VIEW:
        relations = frozenset(req.context.get("relations") or ())
        if relations & CONCERNED:
            return allow()
        if req.context.get("permissions_outstanding"):
            # A teacher asked to agree (R-PUP-01) may see it; everyone else waits.
            return None if "teacher" in relations and req.context.get("agreement_outstanding") else deny()
        if req.context.get("message_visible"):
            return allow()
        return None
    return None


@logic("media.staff_photo_permission")
def staff_photo_permission(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STF-02: staff share no photos of others (e.g. from a staff party) without their permission.

    The same mechanism as R-PAR-02; this rule fires for staff who send a photo of other adults,
    so the rulebook and the audit name the staff rule too. Pupils in it are R-PAR-02's.
    """
    if req.action == UPLOAD:
        if not req.actor.is_staff_member or req.context.get("nobody_identifiable"):
            return None
        others = [p for p in req.context.get("pictured") or () if p.id != req.actor.id]
        if not others:
            return None
        obligations = _permission_obligations(req, 0, only_adults=True)
        return Effect(None, obligations or ())
    if req.action in DECIDE:
        person = req.context.get("person")
        if person is None or is_child_pupil(person):
            return None
        return allow() if req.actor.id == person.id else deny()
    if req.action == VIEW:
        relations = frozenset(req.context.get("relations") or ())
        if req.context.get("uploader_is_staff") and req.context.get("permissions_outstanding"):
            if not relations & CONCERNED and "teacher" not in relations:
                return deny()
    return None


@logic("media.pupil_media_agreed")
def pupil_media_agreed(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-PUP-01: a pupil's photo, video or sound in a school conversation waits for a teacher of
    that conversation to agree, and every pupil's upload is deleted ``delete_after_days`` after use.
    """
    days = int(params.get("delete_after_days", 1))
    if req.action == UPLOAD:
        if not is_child_pupil(req.actor):
            return None
        obligations = [Obligation("delete_after_use", "", {"days": days})]
        if req.context.get("school_owned"):
            teachers = tuple(
                sorted(m.id for m in req.context.get("members") or () if m.is_staff_member and m.id != req.actor.id)
            )
            if not teachers:
                return deny(delete_after_days=days)
            obligations.append(Obligation("teacher_agreement", "", {"teacher_ids": teachers}))
        return Effect(None, tuple(obligations))
    if req.action == AGREE:
        uploader_id = getattr(req.context.get("uploader"), "id", None)
        if req.actor.is_staff_member and req.actor.id in _member_ids(req) and uploader_id != req.actor.id:
            return allow()
        return deny(delete_after_days=days)
    if req.action == VIEW:
        if not req.context.get("agreement_outstanding"):
            return None
        relations = frozenset(req.context.get("relations") or ())
        if "teacher" in relations:
            return allow()
        if relations & CONCERNED:
            return None
        return deny(delete_after_days=days)
    return None
