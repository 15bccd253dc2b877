"""JSON API of the meetings app (design.md, "Meetings"); handlers stay thin: access, check, serialise.

``router`` is mounted at ``/api/v1/meetings``; ``calendar_router`` at ``/api/v1/`` for
``GET /api/v1/calendar.ics`` and the secret feed, which calendar apps fetch without signing in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool

from trygg.api_schemas import NOT_BLANK, USERNAME, ApiError, Out, PersonRef
from trygg.errors import NotFoundOrHidden
from trygg.links import public_url
from trygg.meetings import actions, queries, requests
from trygg.meetings.ics import render_calendar
from trygg.meetings.models import MeetingKind, RequestAddressee

router = Router(tags=["meetings"])
calendar_router = Router(tags=["meetings"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


Kind = Literal[tuple(MeetingKind.values)]  # type: ignore[valid-type]
Username = Annotated[str, Field(**USERNAME)]


class MeetingIn(In):
    kind: Kind
    student_username: Username | None = None
    class_id: int | None = None
    subject_teacher_username: Username | None = None
    starts_at: datetime
    duration_minutes: int = Field(default=30, ge=5, le=480)
    # No max_length on the texts: too long answers 413, which the action raises.
    title: str = Field(pattern=NOT_BLANK)
    invitation_text: str = ""


class CheckIn(In):
    kind: Kind
    student_username: Username | None = None
    class_id: int | None = None
    title: str = Field(default="", max_length=2000)
    invitation_text: str = Field(default="", max_length=10000)


class JoinIn(In):
    key: str | None = Field(default=None, max_length=60)


class PersonIn(In):
    username: Username


class ModerateIn(In):
    username: Username
    audio: StrictBool | None = None
    video: StrictBool | None = None


class TextIn(In):
    text: str = Field(max_length=actions.MAX_AGENDA)


class ChatIn(In):
    body: str = Field(max_length=actions.MAX_CHAT, pattern=NOT_BLANK)


class MeetingRequestIn(In):
    student_username: Username
    to: Literal[tuple(RequestAddressee.values)]  # type: ignore[valid-type]
    topic: str = Field(pattern=NOT_BLANK)
    preferred_times: str = ""


class AnswerIn(In):
    answer: str
    meeting_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


# ------------------------------------------------------------------------------------- answers


class NameRef(Out):
    username: str
    name: str


class MeetingRequestOut(Out):
    id: int
    status: str
    addressee: str
    pupil: NameRef
    class_name: str = Field(alias="class")
    requester: NameRef
    topic: str
    preferred_times: str
    created_at: str
    answer: str | None
    answered_by: str | None
    answered_at: str | None
    meeting_id: int | None


class GuidelineNote(Out):
    rule: str
    requirement: str | None
    message: str


class MeetingRequestMadeOut(MeetingRequestOut):
    notes: list[GuidelineNote]


class ParticipantOut(Out):
    id: int
    username: str
    name: str
    role: str
    role_label: str
    state: str


class RefusedAttemptOut(Out):
    person: PersonRef | None
    at: str
    rule: str | None


class MeetingOut(Out):
    """design.md's ``{id, kind, status, link, starts_at, participants}`` and more; the organiser
    also gets ``agenda`` and ``refused_attempts``, a single read ``reflection``."""

    id: int
    kind: str
    status: str
    link: str | None
    starts_at: str
    ends_at: str
    participants: list[ParticipantOut]
    title: str
    invitation_text: str
    school_owned: bool
    owner: str
    organiser: PersonRef | None
    class_id: int | None
    pupil: PersonRef | None
    generation: int
    guidelines_read: bool
    my_role: str | None
    chat: bool
    agenda: str | None = None
    refused_attempts: list[RefusedAttemptOut] | None = None
    reflection: str | None = None


class InvitationCheckOut(Out):
    ok: bool
    findings: list[dict[str, Any]]
    message: str


class JoinOut(Out):
    """design.md's ``{join_token, room, ice_servers}``, the media (``{"kind": "mesh"}`` or the SFU's)."""

    join_token: str
    room: str
    ice_servers: list[dict[str, Any]]
    state: str
    rules: list[str]
    watermark: str | None
    read_guidelines: bool
    media: dict[str, Any]


class ModeratedOut(Out):
    username: str
    audio: bool | None
    video: bool | None


class MeetingNudge(Out):
    rule: str
    requirement: str | None
    message: str
    words: list[str]
    findings: list[dict[str, Any]]


class AgendaOut(Out):
    agenda: str
    nudges: list[MeetingNudge]


class AgendaPreviewOut(Out):
    nudges: list[MeetingNudge]


class ReflectionOut(Out):
    text: str
    updated_at: str


class MeetingChatOut(Out):
    id: int
    sender: PersonRef | None
    body: str
    created_at: str


class FeedOut(Out):
    url: str


ICS = {"responses": {200: {"description": "An iCalendar file",
                           "content": {"text/calendar": {"schema": {"type": "string"}}}}}}


@router.get("/requests", response=list[MeetingRequestOut],
            summary="Meeting requests I made or that were sent to me (R-PAR-01)")
def list_meeting_requests(request: HttpRequest) -> list[dict[str, Any]]:
    return [requests.serialise_request(r) for r in queries.list_meeting_requests(request.auth)]


@router.post("/requests", response={201: MeetingRequestMadeOut},
             summary="Ask the school for a meeting about my child (R-PAR-01)")
def ask_for_meeting(request: HttpRequest, payload: MeetingRequestIn) -> Status:
    made, decision = requests.check_ask_for_meeting(
        request.auth, payload.student_username, payload.to, payload.topic, payload.preferred_times
    )
    return Status(201, {**requests.serialise_request(made), "notes": requests.notes_of(decision)})


@router.post("/requests/{request_id}/answer", response=MeetingRequestOut,
             summary="Answer a meeting request sent to me")
def answer_meeting_request(request: HttpRequest, request_id: int, payload: AnswerIn) -> dict[str, Any]:
    answered = requests.check_answer_meeting_request(request.auth, request_id, payload.answer, payload.meeting_id)
    return requests.serialise_request(answered)


@router.get("", response=list[MeetingOut])
def list_meetings(request: HttpRequest) -> list[dict[str, Any]]:
    return [actions.serialise_meeting(m, request.auth) for m in queries.list_meetings(request.auth)]


@router.post("", response={201: MeetingOut})
def create_meeting(request: HttpRequest, payload: MeetingIn) -> Status:
    meeting = actions.check_create_meeting(
        request.auth, payload.kind, payload.starts_at, payload.title, payload.invitation_text,
        student_username=payload.student_username, class_id=payload.class_id,
        subject_teacher_username=payload.subject_teacher_username, duration_minutes=payload.duration_minutes,
    )
    return Status(201, actions.serialise_meeting(meeting, request.auth))


@router.post("/check-invitation", response=InvitationCheckOut)
def check_invitation(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    """The invitation check of R-MEET-12 without sending anything: each finding with its type and span."""
    return actions.check_invitation_text(request.auth, payload.kind, payload.title, payload.invitation_text,
                                         payload.student_username, payload.class_id)


@router.get("/{int:meeting_id}", response=MeetingOut)
def get_meeting(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = queries.access_meeting(request.auth, meeting_id)
    body = actions.serialise_meeting(meeting, request.auth)
    reflection = actions.read_reflection(request.auth, meeting)
    body["reflection"] = reflection.text if reflection else None
    return body


@router.post("/{int:meeting_id}/join", response=JoinOut)
def join_meeting(request: HttpRequest, meeting_id: int, payload: JoinIn | None = None) -> dict[str, Any]:
    result = actions.check_join(request.auth, meeting_id, payload.key if payload else None)
    return {
        "join_token": result.join_token,
        "room": result.room,
        "ice_servers": result.ice_servers,
        "state": result.state,
        "rules": result.rules,
        "watermark": result.watermark,
        "read_guidelines": result.read_guidelines,
        "media": result.media,
    }


@router.post("/{int:meeting_id}/guidelines-read", response=MeetingOut)
def guidelines_read(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = actions.check_confirm_guidelines(request.auth, meeting_id)
    return actions.serialise_meeting(meeting, request.auth)


@router.post("/{int:meeting_id}/admit", response=MeetingOut)
def admit(request: HttpRequest, meeting_id: int, payload: PersonIn) -> dict[str, Any]:
    actions.check_admit(request.auth, meeting_id, payload.username)
    return actions.serialise_meeting(queries.access_meeting(request.auth, meeting_id), request.auth)


@router.post("/{int:meeting_id}/remove", response=MeetingOut)
def remove(request: HttpRequest, meeting_id: int, payload: PersonIn) -> dict[str, Any]:
    actions.check_remove(request.auth, meeting_id, payload.username)
    return actions.serialise_meeting(queries.access_meeting(request.auth, meeting_id), request.auth)


@router.post("/{int:meeting_id}/moderate", response=ModeratedOut)
def moderate(request: HttpRequest, meeting_id: int, payload: ModerateIn) -> dict[str, Any]:
    """The organiser turns a participant's microphone or camera off or on again (SFU meetings)."""
    invitation = actions.check_moderate(request.auth, meeting_id, payload.username, payload.audio, payload.video)
    return {"username": invitation.person.username, "audio": payload.audio, "video": payload.video}


@router.post("/{int:meeting_id}/halt", response=MeetingOut)
def halt(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = actions.check_halt(request.auth, meeting_id)
    return actions.serialise_meeting(meeting, request.auth)


@router.post("/{int:meeting_id}/end", response=MeetingOut)
def end(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = actions.check_end(request.auth, meeting_id)
    return actions.serialise_meeting(meeting, request.auth)


@router.put("/{int:meeting_id}/agenda", response=AgendaOut)
def set_agenda(request: HttpRequest, meeting_id: int, payload: TextIn) -> dict[str, Any]:
    meeting, nudges = actions.check_set_agenda(request.auth, meeting_id, payload.text)
    return {"agenda": meeting.agenda, "nudges": nudges}


@router.post("/{int:meeting_id}/agenda/preview", response=AgendaPreviewOut)
def preview_agenda(request: HttpRequest, meeting_id: int, payload: TextIn) -> dict[str, Any]:
    return {"nudges": actions.preview_agenda(request.auth, meeting_id, payload.text)}


@router.put("/{int:meeting_id}/reflection", response=ReflectionOut)
def set_reflection(request: HttpRequest, meeting_id: int, payload: TextIn) -> dict[str, Any]:
    reflection = actions.check_reflect(request.auth, meeting_id, payload.text)
    return {"text": reflection.text, "updated_at": reflection.updated_at.isoformat()}


@router.post("/{int:meeting_id}/chat", response={201: MeetingChatOut})
def chat(request: HttpRequest, meeting_id: int, payload: ChatIn) -> Status:
    message = actions.check_meeting_chat(request.auth, meeting_id, payload.body)
    return Status(201, actions.serialise_chat(message))


@router.post("/{int:meeting_id}/recording", response={403: ApiError})
def recording(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    """Always refused: Trygg has no recording (R-MEET-02, R-MEET-16); it has no success answer."""
    actions.check_record(request.auth, meeting_id)
    raise AssertionError("check_record always refuses")  # not reached


def _ics(request: HttpRequest, entries: list[Any], viewer: Any) -> HttpResponse:
    response = HttpResponse(render_calendar(entries, base=public_url(request), viewer=viewer),
                            content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@calendar_router.get("/calendar.ics", openapi_extra=ICS)
def calendar_ics(request: HttpRequest) -> HttpResponse:
    actions.check_open_calendar(request.auth)
    return _ics(request, queries.list_calendar(request.auth), request.auth)


@calendar_router.get("/calendar/feed", response=FeedOut)
def calendar_feed(request: HttpRequest) -> dict[str, Any]:
    """Return the person's secret feed address, for calendar apps that subscribe without signing in."""
    feed = actions.check_open_calendar(request.auth)
    return {"url": f"{public_url(request)}/api/v1/calendar/feed/{feed.key}.ics"}


@calendar_router.post("/calendar/feed/reset", response=FeedOut)
def reset_calendar_feed(request: HttpRequest) -> dict[str, Any]:
    feed = actions.check_reset_feed(request.auth)
    return {"url": f"{public_url(request)}/api/v1/calendar/feed/{feed.key}.ics"}


@calendar_router.get("/calendar/feed/{key}.ics", auth=None, openapi_extra=ICS)
def calendar_feed_ics(request: HttpRequest, key: str) -> HttpResponse:
    feed = queries.feed_by_key(key)
    if feed is None:
        raise NotFoundOrHidden()
    actions.check_open_calendar(feed.person)
    return _ics(request, queries.list_calendar(feed.person), feed.person)
