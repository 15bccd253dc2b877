"""Scoped reads of meetings: a viewer sees the meetings they are invited to, nothing else (404).

The one exception is joining (``actions.check_join``): the contract answers 403 to a person who is
not invited, and logs it for the organiser (R-MEET-10), so that path reads the meeting itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Person,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
    TeachingKind,
)
from trygg.directory.queries import hidden_from, visible_people
from trygg.errors import NotFoundOrHidden
from trygg.meetings.models import (
    CalendarEntry,
    CalendarFeed,
    Invitation,
    InviteRole,
    JoinAttempt,
    JoinToken,
    Meeting,
    MeetingMessage,
    MeetingRequest,
    Reflection,
    digest_of,
)


def _mine(viewer: Person) -> QuerySet[Meeting]:
    return Meeting.objects.filter(invitations__person=viewer)


def list_meeting_choices(viewer: Person) -> dict[str, list[Any]]:
    """Return what the viewer may pick on the new-meeting form: the classes they teach or have a
    child in, the pupils of the classes they are contact teacher of, and those classes' subject
    teachers."""
    facts = viewer.facts
    class_ids = facts.taught_class_ids | facts.child_class_ids
    return {
        "classes": list(SchoolClass.objects.filter(id__in=class_ids).order_by("grade", "name")),
        "pupils": visible_people(viewer,
            Person.objects.filter(enrollments__school_class_id__in=facts.contact_class_ids).order_by("name").distinct()
        ),
        "subject_teachers": list(
            Person.objects.filter(teaching__school_class_id__in=facts.contact_class_ids, teaching__kind="subject")
            .exclude(pk=viewer.pk).order_by("name").distinct()
        ),
    }


def list_meetings(viewer: Person) -> list[Meeting]:
    """Return the meetings the viewer is invited to (or organises), soonest first."""
    return list(_mine(viewer).select_related("organiser", "school_class", "pupil").order_by("starts_at", "id"))


def access_meeting(viewer: Person, meeting_id: int) -> Meeting:
    """Return a meeting the viewer is invited to; any other id is 404."""
    meeting = _mine(viewer).select_related("organiser", "school_class", "pupil").filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFoundOrHidden()
    return meeting


def invitation_of(meeting: Meeting, person: Person) -> Invitation | None:
    return Invitation.objects.filter(meeting=meeting, person=person).first()


def list_participants(meeting: Meeting, viewer: Person) -> list[dict[str, Any]]:
    """Return who is invited and where they are (invited, waiting, admitted, removed).

    A protected pupil or guardian (R-LIST-05) is absent for other families, with no placeholder
    row: ``directory.queries.hidden_from`` decides, as for every list of people.
    """
    invitations = list(meeting.invitations.select_related("person").order_by("id"))
    hidden = hidden_from(viewer, [i.person_id for i in invitations])
    return [
        {
            "id": invitation.person.pk,
            "username": invitation.person.username,
            "name": invitation.person.name,
            "role": invitation.role,
            "role_label": str(InviteRole(invitation.role).label),
            "state": invitation.state(meeting.generation),
        }
        for invitation in invitations
        if invitation.person_id not in hidden
    ]


def list_refused_attempts(meeting: Meeting, limit: int = 50) -> list[JoinAttempt]:
    """Return refused joins, newest first: for the organiser only (callers check)."""
    return list(meeting.join_attempts.select_related("person")[:limit])


def reflection_of(meeting: Meeting) -> Reflection | None:
    return Reflection.objects.filter(meeting=meeting).first()


def access_join_token(raw: str, meeting_id: int) -> tuple[JoinToken, Meeting, Invitation] | None:
    """Return the live join token ``raw`` of meeting ``meeting_id`` with its meeting and invitation,
    or ``None`` if it is unknown, voided, expired, of an older generation, ended or removed."""
    if not isinstance(raw, str) or not raw or len(raw) > 200:
        return None
    token = (
        JoinToken.objects.select_related("meeting", "person")
        .filter(digest=digest_of(raw), meeting_id=meeting_id, voided_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None:
        return None
    meeting = token.meeting
    if meeting.ended or token.generation != meeting.generation:
        return None
    invitation = invitation_of(meeting, token.person)
    if invitation is None or invitation.removed_at is not None:
        return None
    return token, meeting, invitation


def join_void_reason(raw: str, meeting_id: int) -> str:
    """Return why a join token of meeting ``meeting_id`` no longer admits: "ended", "halted",
    "removed" or "invalid".

    A socket that finds its join void on its own re-check must tell the person the same as the
    push would have: the re-check can run between the halt's commit and the push reaching it.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 200:
        return "invalid"
    token = JoinToken.objects.select_related("meeting", "person").filter(
        digest=digest_of(raw), meeting_id=meeting_id
    ).first()
    if token is None:
        return "invalid"
    meeting = token.meeting
    if meeting.ended:
        return "ended"
    invitation = invitation_of(meeting, token.person)
    if invitation is not None and invitation.removed_at is not None:
        return "removed"
    if token.generation != meeting.generation:
        return "halted"
    return "invalid"


def list_calendar(viewer: Person) -> list[CalendarEntry]:
    """Return the viewer's calendar entries with their meetings, soonest first."""
    return list(
        CalendarEntry.objects.filter(person=viewer)
        .select_related("meeting", "meeting__organiser")
        .order_by("meeting__starts_at", "meeting_id")
    )


def feed_by_key(key: str) -> CalendarFeed | None:
    if not isinstance(key, str) or not key or len(key) > 60:
        return None
    return CalendarFeed.objects.select_related("person").filter(key=key, person__is_active=True).first()


def directory_names(school_id: int) -> list[str]:
    """Return the names of the people of a school: its pupils, their guardians and its staff (R-MEET-12)."""
    pupils = Enrollment.objects.filter(school_class__school_id=school_id).values_list("pupil_id", flat=True)
    guardians = Guardianship.objects.filter(pupil_id__in=pupils).values_list("guardian_id", flat=True)
    teachers = TeachingAssignment.objects.filter(school_class__school_id=school_id).values_list(
        "teacher_id", flat=True
    )
    ids = set(pupils) | set(guardians) | set(teachers)
    from trygg.directory.models import StaffRole

    ids |= set(StaffRole.objects.filter(school_id=school_id).values_list("person_id", flat=True))
    return sorted(set(Person.objects.filter(id__in=ids).values_list("name", flat=True)))


# ------------------------------------------------------------------ meeting requests (R-PAR-01)


def _requests_q(viewer: Person) -> Q:
    facts = viewer.facts
    return (
        Q(requester=viewer)
        | Q(addressee="contact_teacher", school_class_id__in=facts.contact_class_ids)
        | Q(addressee="leadership", school_id__in=facts.led_school_ids)
    )


def list_meeting_requests(viewer: Person) -> list[MeetingRequest]:
    """Return the requests the viewer made and those sent to them (as contact teacher or leader)."""
    return list(
        MeetingRequest.objects.filter(_requests_q(viewer))
        .select_related("requester", "pupil", "school_class", "answered_by", "meeting")
    )


def access_meeting_request(viewer: Person, request_id: int) -> MeetingRequest:
    """Return a request the viewer made or was sent; any other id is 404."""
    found = (
        MeetingRequest.objects.filter(_requests_q(viewer), pk=request_id)
        .select_related("requester", "pupil", "school_class", "answered_by", "meeting")
        .first()
    )
    if found is None:
        raise NotFoundOrHidden()
    return found


def access_own_child(viewer: Person, username: str) -> Person:
    """Return a child the viewer has parental responsibility for; anyone else is 404."""
    link = (
        Guardianship.objects.filter(guardian=viewer, parental_responsibility=True, pupil__username=username)
        .select_related("pupil")
        .first()
    )
    if link is None:
        raise NotFoundOrHidden()
    return link.pupil


def request_addressee_ids(request: MeetingRequest) -> list[int]:
    """Return who a request was sent to: the class's contact teachers, or the school's leaders."""
    if request.addressee == "contact_teacher":
        return list(
            TeachingAssignment.objects.filter(school_class_id=request.school_class_id, kind=TeachingKind.CONTACT)
            .values_list("teacher_id", flat=True)
        )
    return list(
        StaffRole.objects.filter(kind=StaffRole.Kind.LEADER, school_id=request.school_id)
        .values_list("person_id", flat=True)
    )


def export_own(viewer: Person) -> dict[str, Any]:
    """Return the viewer's invitations, reflections, meeting chat and requests (R-PRIV-04)."""
    return {
        "invitations": [
            {"meeting": i.meeting.title, "kind": i.meeting.kind, "starts_at": i.meeting.starts_at.isoformat(),
             "role": i.role, "removed": i.removed_at is not None}
            for i in Invitation.objects.filter(person=viewer).select_related("meeting").order_by("id")
        ],
        "reflections": [
            {"meeting": r.meeting.title, "text": r.text, "updated_at": r.updated_at.isoformat()}
            for r in Reflection.objects.filter(pupil=viewer).select_related("meeting").order_by("id")
        ],
        "meeting_chat": [
            {"meeting_id": m.meeting_id, "body": m.body, "sent": m.created_at.isoformat()}
            for m in MeetingMessage.objects.filter(sender=viewer).order_by("id")
        ],
        "meeting_requests": [
            {"about": r.pupil.name, "to": r.addressee, "topic": r.topic, "status": r.status,
             "asked": r.created_at.isoformat(), "answer": r.answer or None}
            for r in MeetingRequest.objects.filter(requester=viewer).select_related("pupil").order_by("id")
        ],
    }
