"""Rule logic for video meetings (R-MEET-01..03, R-MEET-10..19, R-SOC-01).

Target: a ``Meeting`` (or anything with ``kind``, ``status``, ``organiser_id``, ``pupil_id``,
``guidelines_read_at``), or ``None`` when creating. Context keys the meetings actions pass:

* ``kind``: the meeting kind; ``class_id``, ``school_id``; ``school_owned`` (create).
* ``pupil``: ``PersonFacts`` of the pupil a development talk is about (or ``None``).
* ``invited``: tuple of ``PersonFacts`` of everyone invited, the organiser included (create).
* ``invited_ids``: frozenset of invited person ids (join, chat); ``removed``: the actor was removed.
* ``class_pupil_ids`` / ``class_guardian_ids``: the whole class, for class gatherings (R-SOC-01).
* ``fields``: {field name: text} of the invitation; ``directory_names``: names of the people in
  the school's directory (R-MEET-12). ``agenda``: the organiser's agenda text (R-MEET-19).
* ``person``: ``PersonFacts`` of the person being admitted (admit).
* ``stale_link``: the join came through a link a halt has voided (R-MEET-18).
* ``pupil_calendar_opened``: whether the pupil has ever opened their calendar (R-MEET-11).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic, oblige
from trygg.policy.invitation_check import find_health_words, find_personal_data

KINDS = ("development_talk", "lesson", "parent_meeting", "class_gathering")
TALK = "development_talk"
GATHERING = "class_gathering"


def _kind(req: Request) -> str:
    kind = req.context.get("kind")
    if kind is None and req.target is not None:
        kind = getattr(req.target, "kind", None)
    return kind or ""


def _is_organiser(req: Request) -> bool:
    return req.target is not None and getattr(req.target, "organiser_id", None) == req.actor.id


def _ended(req: Request) -> bool:
    return req.target is not None and getattr(req.target, "status", "") == "ended"


def talk_roles(person: Any, pupil: Any) -> set[str]:
    """Return how ``person`` relates to ``pupil`` in a development talk (R-MEET-14's categories)."""
    roles: set[str] = set()
    if pupil is None or person is None:
        return roles
    classes = pupil.pupil_class_ids
    if person.id == pupil.id:
        roles.add("pupil")
    if pupil.id in person.child_ids:
        roles.add("guardian")
    if classes & person.contact_class_ids:
        roles.add("contact_teacher")
    if classes & person.subject_class_ids:
        roles.add("subject_teacher")
    if pupil.school_ids & person.led_school_ids:
        roles.add("leader")
    return roles


# ---------------------------------------------------------------- baseline (core_meetings)


@logic("meetings.organiser_may_create")
def organiser_may_create(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Staff who teach the class (or lead its school) organise its meetings; a class gathering may
    also be arranged by a guardian of a pupil in the class."""
    kind = _kind(req)
    class_id = req.context.get("class_id")
    school_id = req.context.get("school_id")
    if kind not in KINDS or class_id is None:
        return deny()
    actor = req.actor
    if class_id in actor.taught_class_ids or school_id in actor.led_school_ids:
        return allow()
    if kind == GATHERING and class_id in actor.child_class_ids:
        return allow()
    return deny()


@logic("meetings.invited_may_join")
def invited_may_join(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Only the invited join, each with their own join; a removed person stays out."""
    if req.actor.id not in (req.context.get("invited_ids") or ()) or req.context.get("removed"):
        return deny()
    return allow()


@logic("meetings.organiser_manages")
def organiser_manages(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The organiser admits, removes, halts, ends, keeps the agenda and sends the invitation."""
    return allow() if _is_organiser(req) else deny()


@logic("meetings.media_by_size")
def media_by_size(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Issue 16: a meeting larger than a talk sends its media through the SFU (Janus); a development
    talk always stays on the peer-to-peer mesh, so fewer servers touch its media."""
    if _kind(req) == "development_talk":
        return None
    if len(req.context.get("invited_ids") or ()) > int(params.get("sfu_above", 5)):
        return oblige("media", transport="sfu")
    return None


@logic("meetings.participants_chat")
def participants_chat(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Participants of a meeting may write in its chat (where its kind has one)."""
    if req.actor.id not in (req.context.get("invited_ids") or ()) or req.context.get("removed"):
        return deny()
    return allow()


@logic("meetings.own_calendar")
def own_calendar(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """A person opens, subscribes to and resets their own calendar only (target: the owner's id)."""
    return allow() if req.context.get("owner_id") == req.actor.id else deny()


# ---------------------------------------------------------------- Åmot (S0)


@logic("meetings.ended_is_final")
def ended_is_final(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-01: once ended, nobody joins, writes, is admitted, or restarts it."""
    return deny() if _ended(req) else None


@logic("meetings.no_recording")
def no_recording(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-02, R-MEET-16: there is no recording; asking for one is refused, whoever asks."""
    return deny()


@logic("meetings.recording_notice")
def recording_notice(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-02: everyone who joins is told that recording and screenshots are not allowed."""
    return oblige("show_rules", watermark=bool(params.get("watermark", True)))


@logic("meetings.class_gathering_includes_all")
def class_gathering_includes_all(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SOC-01: a class gathering invites every pupil and guardian of the class; nobody is left out."""
    if _kind(req) != GATHERING:
        return None
    actor_roles = set(req.actor.roles)
    if not actor_roles & set(params.get("organiser_roles") or ()):
        return deny()
    invited = {p.id for p in req.context.get("invited") or ()}
    everyone = set(req.context.get("class_pupil_ids") or ()) | set(req.context.get("class_guardian_ids") or ())
    missing = everyone - invited
    if missing:
        return deny(missing=len(missing))
    return None


@logic("meetings.school_meetings_marked")
def school_meetings_marked(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-03: the school's kinds of meeting are created by staff and marked as the school's."""
    kind = _kind(req)
    if kind not in (params.get("school_meeting_kinds") or ()):
        if req.context.get("school_owned") and not req.actor.is_staff_member:
            return deny()
        return None
    if not req.actor.is_staff_member or not req.context.get("school_owned"):
        return deny()
    return None


# ---------------------------------------------------------------- Bergen (S2)


@logic("meetings.contact_teacher_organises")
def contact_teacher_organises(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-10: the pupil's contact teacher organises a development talk and keeps it closed."""
    if _kind(req) not in (params.get("kinds") or ()):
        return None
    if req.action == "meeting.create":
        pupil = req.context.get("pupil")
        if pupil is None or not (pupil.pupil_class_ids & req.actor.contact_class_ids):
            return deny()
        return allow()
    return allow() if _is_organiser(req) else deny()


@logic("meetings.invite_via_pupil_calendar")
def invite_via_pupil_calendar(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-11: the invitation goes to the pupil's calendar; if they have never opened it, to the
    guardians as well."""
    if _kind(req) != TALK:
        return None
    if req.context.get("pupil_calendar_opened"):
        return oblige("calendar", to="pupil")
    return oblige("calendar", to="pupil_and_guardians")


@logic("meetings.generic_invitation")
def generic_invitation(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-12: the invitation holds no names, identity numbers, phone numbers, e-mail addresses or
    health words; every finding is returned so the page can point at it."""
    if _kind(req) not in (params.get("kinds") or KINDS):
        return None
    fields = req.context.get("fields") or {}
    findings = find_personal_data(
        fields, req.context.get("directory_names") or (), params.get("blocked_words") or ()
    )
    if findings:
        return deny(findings=tuple(f.as_dict() for f in findings), count=len(findings))
    return None


@logic("meetings.read_guidelines_first")
def read_guidelines_first(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-13: before anyone is let in to a development talk, the organiser reads the guidelines
    out and confirms it."""
    if _kind(req) != TALK:
        return None
    read = getattr(req.target, "guidelines_read_at", None) is not None
    if req.action == "meeting.admit" and not read:
        return oblige("read_guidelines", verdict="deny")
    if req.action == "meeting.join" and _is_organiser(req) and not read:
        return oblige("read_guidelines")
    return None


@logic("meetings.talk_participants")
def talk_participants(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-14: only the pupil, the guardians, the contact teacher and possibly a subject teacher."""
    if _kind(req) not in (params.get("kinds") or ()):
        return None
    allowed = set(params.get("participants") or ())
    pupil = req.context.get("pupil")
    if pupil is None:
        return deny()
    if req.action == "meeting.create":
        people = tuple(req.context.get("invited") or ())
    elif req.action == "meeting.admit":
        people = (req.context.get("person"),)
    else:
        people = (req.actor,)
    for person in people:
        if not talk_roles(person, pupil) & allowed:
            return deny()
    return None


@logic("meetings.pupil_reflection")
def pupil_reflection(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-15: the pupil writes their own reflections before the talk; the organiser reads them."""
    target = req.target
    if _kind(req) != TALK or target is None:
        return deny()
    if req.action == "meeting.reflect":
        return allow() if getattr(target, "pupil_id", None) == req.actor.id and not _ended(req) else deny()
    if req.actor.id in (getattr(target, "pupil_id", None), getattr(target, "organiser_id", None)):
        return allow()
    return deny()


@logic("meetings.no_chat_in_talk")
def no_chat_in_talk(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-17: nothing is written in the chat of a development talk; the server refuses it."""
    return deny() if _kind(req) == TALK else None


@logic("meetings.intruder_stops_talk")
def intruder_stops_talk(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-18: a link voided by a halt lets nobody in; the new invitation does."""
    if req.action == "meeting.join" and req.context.get("stale_link"):
        return deny()
    return None


@logic("meetings.avoid_health_topics")
def avoid_health_topics(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-MEET-19: an agenda that touches health gets a reminder; the organiser decides."""
    if _kind(req) != TALK:
        return None
    words = params.get("health_words") or ()
    found = find_health_words(req.context.get("agenda") or "", "agenda", words)
    if not found:
        return None
    return oblige("nudge", words=tuple(dict.fromkeys(f.text.lower() for f in found)),
                  findings=tuple(f.as_dict() for f in found))


# --------------------------------------------------------------------- meeting requests (R-PAR-01)
# Context of ``meeting_request.create``: ``pupil`` (PersonFacts of the child), ``addressee``.
# Target of ``meeting_request.answer``: the request (``addressee``, ``school_id``, ``school_class_id``).


@logic("meetings.guardian_may_ask_for_meeting")
def guardian_may_ask_for_meeting(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """A guardian with parental responsibility may ask for a meeting about that child, nobody else."""
    pupil = req.context.get("pupil")
    if pupil is None or pupil.id not in req.actor.child_ids:
        return deny()
    return allow()


@logic("meetings.addressee_may_answer")
def addressee_may_answer(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The contact teachers of the child's class, or the school's leaders, answer what was sent to them."""
    target = req.target
    if target is None:
        return deny()
    if target.addressee == "contact_teacher" and target.school_class_id in req.actor.contact_class_ids:
        return allow()
    if target.addressee == "leadership" and target.school_id in req.actor.led_school_ids:
        return allow()
    return deny()


@logic("meetings.talk_not_social_media")
def talk_not_social_media(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """S4's point to show where a guardian asks: take it to the school, not to social media."""
    return oblige("inform", None, show=True)
