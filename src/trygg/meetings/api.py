"""JSON API of the meetings app (design.md, "Meetings"); handlers stay thin: access, check, serialise.

``router`` is mounted at ``/api/v1/meetings``; ``calendar_router`` at ``/api/v1/`` for
``GET /api/v1/calendar.ics`` and the secret feed, which calendar apps fetch without signing in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from trygg.errors import NotFoundOrHidden
from trygg.links import public_url
from trygg.meetings import actions, queries, requests
from trygg.meetings.ics import render_calendar

router = Router(tags=["meetings"])
calendar_router = Router(tags=["meetings"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class MeetingIn(In):
    kind: str = Field(max_length=20)
    student_username: str | None = Field(default=None, max_length=150)
    class_id: int | None = None
    subject_teacher_username: str | None = Field(default=None, max_length=150)
    starts_at: datetime
    duration_minutes: int = Field(default=30, ge=5, le=480)
    # No max_length on the texts: too long answers 413, which the action raises.
    title: str
    invitation_text: str = ""


class CheckIn(In):
    kind: str = Field(max_length=20)
    student_username: str | None = Field(default=None, max_length=150)
    class_id: int | None = None
    title: str = Field(default="", max_length=2000)
    invitation_text: str = Field(default="", max_length=10000)


class JoinIn(In):
    key: str | None = Field(default=None, max_length=60)


class PersonIn(In):
    username: str = Field(max_length=150)


class ModerateIn(In):
    username: str = Field(max_length=150)
    audio: bool | None = None
    video: bool | None = None


class TextIn(In):
    text: str = Field(max_length=20000)


class ChatIn(In):
    body: str = Field(max_length=20000)


class MeetingRequestIn(In):
    student_username: str = Field(max_length=150)
    to: str = Field(max_length=20)
    topic: str
    preferred_times: str = ""


class AnswerIn(In):
    answer: str
    meeting_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


@router.get("/requests", summary="Meeting requests I made or that were sent to me (R-PAR-01)")
def list_meeting_requests(request: HttpRequest) -> list[dict[str, Any]]:
    return [requests.serialise_request(r) for r in queries.list_meeting_requests(request.auth)]


@router.post("/requests", response={201: dict}, summary="Ask the school for a meeting about my child (R-PAR-01)")
def ask_for_meeting(request: HttpRequest, payload: MeetingRequestIn) -> Status:
    made, decision = requests.check_ask_for_meeting(
        request.auth, payload.student_username, payload.to, payload.topic, payload.preferred_times
    )
    return Status(201, {**requests.serialise_request(made), "notes": requests.notes_of(decision)})


@router.post("/requests/{request_id}/answer", summary="Answer a meeting request sent to me")
def answer_meeting_request(request: HttpRequest, request_id: int, payload: AnswerIn) -> dict[str, Any]:
    answered = requests.check_answer_meeting_request(request.auth, request_id, payload.answer, payload.meeting_id)
    return requests.serialise_request(answered)


@router.get("")
def list_meetings(request: HttpRequest) -> list[dict[str, Any]]:
    return [actions.serialise_meeting(m, request.auth) for m in queries.list_meetings(request.auth)]


@router.post("", response={201: dict})
def create_meeting(request: HttpRequest, payload: MeetingIn) -> Status:
    meeting = actions.check_create_meeting(
        request.auth, payload.kind, payload.starts_at, payload.title, payload.invitation_text,
        student_username=payload.student_username, class_id=payload.class_id,
        subject_teacher_username=payload.subject_teacher_username, duration_minutes=payload.duration_minutes,
    )
    return Status(201, actions.serialise_meeting(meeting, request.auth))


@router.post("/check-invitation")
def check_invitation(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    """The invitation check of R-MEET-12 without sending anything: each finding with its type and span."""
    return actions.check_invitation_text(request.auth, payload.kind, payload.title, payload.invitation_text,
                                         payload.student_username, payload.class_id)


@router.get("/{int:meeting_id}")
def get_meeting(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = queries.access_meeting(request.auth, meeting_id)
    body = actions.serialise_meeting(meeting, request.auth)
    reflection = actions.read_reflection(request.auth, meeting)
    body["reflection"] = reflection.text if reflection else None
    return body


@router.post("/{int:meeting_id}/join")
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


@router.post("/{int:meeting_id}/guidelines-read")
def guidelines_read(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = actions.check_confirm_guidelines(request.auth, meeting_id)
    return actions.serialise_meeting(meeting, request.auth)


@router.post("/{int:meeting_id}/admit")
def admit(request: HttpRequest, meeting_id: int, payload: PersonIn) -> dict[str, Any]:
    actions.check_admit(request.auth, meeting_id, payload.username)
    return actions.serialise_meeting(queries.access_meeting(request.auth, meeting_id), request.auth)


@router.post("/{int:meeting_id}/remove")
def remove(request: HttpRequest, meeting_id: int, payload: PersonIn) -> dict[str, Any]:
    actions.check_remove(request.auth, meeting_id, payload.username)
    return actions.serialise_meeting(queries.access_meeting(request.auth, meeting_id), request.auth)


@router.post("/{int:meeting_id}/moderate")
def moderate(request: HttpRequest, meeting_id: int, payload: ModerateIn) -> dict[str, Any]:
    """The organiser turns a participant's microphone or camera off or on again (SFU meetings)."""
    invitation = actions.check_moderate(request.auth, meeting_id, payload.username, payload.audio, payload.video)
    return {"username": invitation.person.username, "audio": payload.audio, "video": payload.video}


@router.post("/{int:meeting_id}/halt")
def halt(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = actions.check_halt(request.auth, meeting_id)
    return actions.serialise_meeting(meeting, request.auth)


@router.post("/{int:meeting_id}/end")
def end(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    meeting = actions.check_end(request.auth, meeting_id)
    return actions.serialise_meeting(meeting, request.auth)


@router.put("/{int:meeting_id}/agenda")
def set_agenda(request: HttpRequest, meeting_id: int, payload: TextIn) -> dict[str, Any]:
    meeting, nudges = actions.check_set_agenda(request.auth, meeting_id, payload.text)
    return {"agenda": meeting.agenda, "nudges": nudges}


@router.post("/{int:meeting_id}/agenda/preview")
def preview_agenda(request: HttpRequest, meeting_id: int, payload: TextIn) -> dict[str, Any]:
    return {"nudges": actions.preview_agenda(request.auth, meeting_id, payload.text)}


@router.put("/{int:meeting_id}/reflection")
def set_reflection(request: HttpRequest, meeting_id: int, payload: TextIn) -> dict[str, Any]:
    reflection = actions.check_reflect(request.auth, meeting_id, payload.text)
    return {"text": reflection.text, "updated_at": reflection.updated_at.isoformat()}


@router.post("/{int:meeting_id}/chat", response={201: dict})
def chat(request: HttpRequest, meeting_id: int, payload: ChatIn) -> Status:
    message = actions.check_meeting_chat(request.auth, meeting_id, payload.body)
    return Status(201, actions.serialise_chat(message))


@router.post("/{int:meeting_id}/recording")
def recording(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    """Always refused: Trygg has no recording (R-MEET-02, R-MEET-16)."""
    actions.check_record(request.auth, meeting_id)
    return {}  # not reached


def _ics(request: HttpRequest, entries: list[Any], viewer: Any) -> HttpResponse:
    response = HttpResponse(render_calendar(entries, base=public_url(request), viewer=viewer),
                            content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@calendar_router.get("/calendar.ics")
def calendar_ics(request: HttpRequest) -> HttpResponse:
    actions.check_open_calendar(request.auth)
    return _ics(request, queries.list_calendar(request.auth), request.auth)


@calendar_router.get("/calendar/feed")
def calendar_feed(request: HttpRequest) -> dict[str, Any]:
    """Return the person's secret feed address, for calendar apps that subscribe without signing in."""
    feed = actions.check_open_calendar(request.auth)
    return {"url": f"{public_url(request)}/api/v1/calendar/feed/{feed.key}.ics"}


@calendar_router.post("/calendar/feed/reset")
def reset_calendar_feed(request: HttpRequest) -> dict[str, Any]:
    feed = actions.check_reset_feed(request.auth)
    return {"url": f"{public_url(request)}/api/v1/calendar/feed/{feed.key}.ics"}


@calendar_router.get("/calendar/feed/{key}.ics", auth=None)
def calendar_feed_ics(request: HttpRequest, key: str) -> HttpResponse:
    feed = queries.feed_by_key(key)
    if feed is None:
        raise NotFoundOrHidden()
    actions.check_open_calendar(feed.person)
    return _ics(request, queries.list_calendar(feed.person), feed.person)
