"""Meeting pages: my meetings and calendar, calling a meeting (with the invitation check), one
meeting (reflections, agenda), and the room (lobby, video, organiser controls).

Forms work without script; ``meetings/new.js`` checks the invitation while typing and
``meetings/room.js`` runs the lobby and the WebRTC mesh.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trygg.directory.models import Person
from trygg.directory.queries import display_name, list_children
from trygg.errors import TryggError
from trygg.links import public_url
from trygg.meetings import actions, queries, requests, sfu
from trygg.meetings.models import MeetingKind, RequestAddressee
from trygg.policy.engine import registry

# The guidelines the contact teacher reads out before admitting anyone (R-MEET-13).
GUIDELINE_RULES = (
    "bergen.talk-participants",
    "bergen.pupil-reflection",
    "bergen.no-recording",
    "bergen.no-chat-in-talk",
    "bergen.intruder-stops-talk",
    "bergen.avoid-health-topics",
)


def _lang() -> str:
    from django.utils.translation import get_language

    return (get_language() or "nb")[:2]


def guidelines() -> list[dict[str, str]]:
    """Return the development-talk guidelines: the source quote and the localised title of each rule."""
    rules = registry().rules
    result = []
    for rule_id in GUIDELINE_RULES:
        spec = rules.get(rule_id)
        if spec is not None:
            result.append({"id": spec.id, "quote": spec.quote,
                           "title": spec.title.get(_lang()) or spec.title.get("en", ""),
                           "requirement": spec.requirements[0] if spec.requirements else ""})
    return result


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    person = request.user
    # Opening the calendar is what R-MEET-11 asks about: from now on invitations reach the pupil.
    feed = actions.check_open_calendar(person)
    meetings = queries.list_meetings(person)
    entries = queries.list_calendar(person)
    facts = person.facts
    return render(request, "meetings/list.html", {
        "meetings": meetings,
        "entries": entries,
        "feed_url": f"{public_url(request)}/api/v1/calendar/feed/{feed.key}.ics",
        "can_create": bool(facts.taught_class_ids or facts.child_class_ids or facts.led_school_ids),
        "can_ask": bool(facts.child_ids),
        # Staff plan meetings; families first look for theirs, so their page leads with the lists.
        "lead_with_actions": facts.is_staff_member,
        "meeting_requests": queries.list_meeting_requests(person),
        "now": timezone.now(),
    })


@login_required
@require_POST
def reset_feed(request: HttpRequest) -> HttpResponse:
    actions.check_reset_feed(request.user)
    messages.info(request, _("Your calendar has a new secret address. The old one no longer works."))
    return redirect(reverse("meetings:list"))


def _form_context(person: Person, **extra: Any) -> dict[str, Any]:
    choices = queries.list_meeting_choices(person)
    kinds = [(k, label) for k, label in MeetingKind.choices
             if k == MeetingKind.CLASS_GATHERING or person.facts.is_staff_member]
    default_start = next_school_slot(timezone.localtime())
    return {**choices, "kinds": kinds,
            "default_start": default_start.strftime("%Y-%m-%dT%H:%M"), "values": {}, **extra}


SCHOOL_DAY = (8, 15)  # the hours a meeting is usually planned between (start of the first, end of the last)


def next_school_slot(now: datetime) -> datetime:
    """Return the next whole hour at least an hour ahead that falls on a school day (Monday to
    Friday, 08:00-15:00), so a meeting planned at night does not default to 04:00."""
    slot = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if now.minute or now.second or now.microsecond:
        slot += timedelta(hours=1)
    first, last = SCHOOL_DAY
    for _day in range(8):
        if slot.weekday() < 5 and first <= slot.hour < last:
            return slot
        if slot.weekday() < 5 and slot.hour < first:
            return slot.replace(hour=first)
        slot = (slot + timedelta(days=1)).replace(hour=first)
    return slot


@login_required
@require_http_methods(["GET", "POST"])
def new_meeting(request: HttpRequest) -> HttpResponse:
    person = request.user
    if request.method == "GET":
        return render(request, "meetings/new.html", _form_context(person))
    data = request.POST
    class_id = data.get("class_id") or None
    try:
        meeting = actions.check_create_meeting(
            person,
            data.get("kind", ""),
            data.get("starts_at", ""),
            data.get("title", ""),
            data.get("invitation_text", ""),
            student_username=data.get("student_username") or None if data.get("kind") == "development_talk" else None,
            class_id=int(class_id) if class_id and class_id.isdigit() and data.get("kind") != "development_talk"
            else None,
            subject_teacher_username=(data.get("subject_teacher_username") or None)
            if data.get("kind") == "development_talk" else None,
        )
    except TryggError as exc:
        context = _form_context(person, refusal=exc.as_dict(), values=data,
                                marked=_marked(data, exc.as_dict().get("findings") or []))
        return render(request, "meetings/new.html", context, status=exc.status)
    messages.info(request, _("The invitation has been sent."))
    return redirect(reverse("meetings:detail", args=[meeting.pk]))


def _marked(data: Any, findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Split each field's text into plain and marked pieces, so the page can point at each finding."""
    result: dict[str, list[dict[str, Any]]] = {}
    for field in ("title", "invitation_text"):
        text = data.get(field, "")
        spans = sorted((f for f in findings if f.get("field") == field), key=lambda f: f["start"])
        pieces: list[dict[str, Any]] = []
        pos = 0
        for f in spans:
            if f["start"] > pos:
                pieces.append({"text": text[pos:f["start"]]})
            pieces.append({"text": text[f["start"]:f["end"]], "type": f["type"]})
            pos = f["end"]
        if pos < len(text):
            pieces.append({"text": text[pos:]})
        if spans:
            result[field] = pieces
    return result


@login_required
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    person = request.user
    meeting = queries.access_meeting(person, meeting_id)
    body = actions.serialise_meeting(meeting, person)
    reflection = actions.read_reflection(person, meeting)
    return render(request, "meetings/detail.html", {
        "meeting": meeting,
        "m": body,
        "is_organiser": meeting.organiser_id == person.pk,
        "is_pupil": meeting.pupil_id == person.pk,
        "reflection": reflection,
        "is_talk": meeting.kind == MeetingKind.DEVELOPMENT_TALK,
        "organiser_name": display_name(person, meeting.organiser),
    })


@login_required
@require_POST
def save_reflection(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        actions.check_reflect(request.user, meeting_id, request.POST.get("text", ""))
        messages.info(request, _("Your reflections are saved. Your contact teacher will read them before the talk."))
    except TryggError as exc:
        messages.error(request, exc.as_dict()["message"])
    return redirect(reverse("meetings:detail", args=[meeting_id]))


@login_required
@require_POST
def save_agenda(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        _meeting, nudges = actions.check_set_agenda(request.user, meeting_id, request.POST.get("agenda", ""))
        messages.info(request, _("The agenda is saved."))
        for nudge in nudges:
            messages.warning(request, nudge["message"])
    except TryggError as exc:
        messages.error(request, exc.as_dict()["message"])
    return redirect(reverse("meetings:detail", args=[meeting_id]))


@login_required
@require_GET
def room(request: HttpRequest, meeting_id: int, key: str) -> HttpResponse:
    """The meeting room. A person who is not invited is refused here, and the organiser is told."""
    person = request.user
    try:
        # The page is a door too: the same decision as the join, and the same log (R-MEET-10, R-MEET-18).
        actions.check_may_join(person, meeting_id, key)
    except TryggError as exc:
        return render(request, "meetings/refused.html", {"refusal": exc.as_dict(), "meeting_id": meeting_id},
                      status=exc.status)
    meeting = queries.access_meeting(person, meeting_id)
    reflection = actions.read_reflection(person, meeting)
    is_organiser = meeting.organiser_id == person.pk
    response = render(request, "meetings/room.html", {
        "meeting": meeting,
        "key": key,
        "is_organiser": is_organiser,
        "is_talk": meeting.kind == MeetingKind.DEVELOPMENT_TALK,
        "guidelines": guidelines() if is_organiser else [],
        "reflection": reflection if is_organiser else None,
    })
    if meeting.kind != MeetingKind.DEVELOPMENT_TALK:
        # The room talks to the configured Janus servers (issue 16), and to nothing else.
        origins = sorted({_origin(s.public_url) for s in sfu.configured_servers()} - {""})
        if origins:
            response._csp_update = {"connect-src": origins}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# ------------------------------------------------------------------ meeting requests (R-PAR-01)


def _ask_context(person: Person, **extra: Any) -> dict[str, Any]:
    spec = registry().rules.get("dk_policy.talk-not-social-media")
    children = list_children(person)
    return {
        "children": children,
        "addressees": RequestAddressee.choices,
        "guideline": None if spec is None else {
            "text": spec.reason.get(_lang()) or spec.reason.get("en", ""), "quote": spec.quote},
        "values": {},
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def ask_for_meeting(request: HttpRequest) -> HttpResponse:
    """A guardian asks the contact teacher or the leadership for a meeting about their child."""
    person = request.user
    if request.method == "GET":
        return render(request, "meetings/ask.html", _ask_context(person))
    data = request.POST
    try:
        requests.check_ask_for_meeting(person, data.get("student_username", ""), data.get("to", ""),
                                       data.get("topic", ""), data.get("preferred_times", ""))
    except TryggError as exc:
        return render(request, "meetings/ask.html", _ask_context(person, refusal=exc.as_dict(), values=data),
                      status=exc.status)
    messages.info(request, _("Your request has been sent. You will get the answer here in Trygg."))
    return redirect(reverse("meetings:list"))


@login_required
@require_POST
def answer_request(request: HttpRequest, request_id: int) -> HttpResponse:
    try:
        requests.check_answer_meeting_request(request.user, request_id, request.POST.get("answer", ""))
        messages.info(request, _("Your answer has been sent."))
    except TryggError as exc:
        messages.error(request, exc.as_dict()["message"])
    return redirect(reverse("meetings:list"))
