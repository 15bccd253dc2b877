"""Writes for meeting requests (R-PAR-01): a guardian asks, the contact teacher or leadership answers.

S4 says challenges in a child's schooling belong in a conversation with the school, not on social
media, and that a meeting with staff or leadership is always possible. The request is the start of
that: it reaches everyone in the addressed role, and the answer reaches the guardian.

The topic stays inside Trygg: events carry it to people who see it on the page anyway, and the
out-of-app notice says only that something is waiting (R-STAFF-06). Audit rows hold ids only.

An action module under its own name, beside ``actions.py`` (meetings themselves): each ``check_``
here asks the policy, writes in one transaction, appends its events and audits, as actions do.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.directory.facts import facts_for
from trygg.directory.models import Enrollment, Person
from trygg.errors import BadInput, TooManyRequests, WrongState
from trygg.events.log import emit_event
from trygg.meetings import events as ev
from trygg.meetings import queries
from trygg.meetings.models import MeetingRequest, RequestAddressee, RequestStatus
from trygg.notifications.actions import queue_notice
from trygg.policy.engine import Decision, check
from trygg.policy.queries import obligation_notes

MAX_TOPIC = 2000
MAX_TIMES = 300
MAX_ANSWER = 2000
# A few waiting requests per child are plenty; more would only bury the school's answer.
MAX_OPEN_PER_CHILD = 3


def serialise_request(request: MeetingRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "status": request.status,
        "addressee": request.addressee,
        "pupil": {"username": request.pupil.username, "name": request.pupil.name},
        "class": request.school_class.name,
        "requester": {"username": request.requester.username, "name": request.requester.name},
        "topic": request.topic,
        "preferred_times": request.preferred_times,
        "created_at": request.created_at.isoformat(),
        "answer": request.answer or None,
        "answered_by": request.answered_by.name if request.answered_by else None,
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        "meeting_id": request.meeting_id,
    }


def notes_of(decision: Decision) -> list[dict[str, Any]]:
    """Return the guideline texts the decision asks to show the guardian (S4's "not on social media")."""
    return [{"rule": n["rule"], "requirement": n["requirement"], "message": n["message"]}
            for n in obligation_notes(decision, "inform")]


def _text(value: Any, limit: int, *, required: bool, what: str) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(_("%(what)s must be text.") % {"what": what}, code="bad_text")
    text = value.strip()
    if required and not text:
        raise BadInput(_("Say briefly what you would like to talk about."), code="empty_topic")
    if len(text) > limit or "\x00" in text:
        raise BadInput(_("%(what)s is too long: at most %(n)d characters.") % {"what": what, "n": limit},
                       code="too_long")
    return text


def check_ask_for_meeting(
    actor: Person, student_username: str, addressee: str, topic: Any, preferred_times: Any = ""
) -> tuple[MeetingRequest, Decision]:
    """Ask the child's contact teacher or the school's leadership for a meeting about the child."""
    if addressee not in RequestAddressee.values:
        raise BadInput(_("Choose the contact teacher or the school's leadership."), code="bad_addressee")
    pupil = queries.access_own_child(actor, student_username)
    topic_text = _text(topic, MAX_TOPIC, required=True, what=_("The topic"))
    times = _text(preferred_times, MAX_TIMES, required=False, what=_("The preferred times"))
    enrollment = Enrollment.objects.select_related("school_class").filter(pupil=pupil).first()
    if enrollment is None:
        raise WrongState(_("Your child is not in a class in Trygg, so there is nobody to ask yet."),
                         code="no_class")
    waiting = MeetingRequest.objects.filter(requester=actor, pupil=pupil, status=RequestStatus.OPEN).count()
    if waiting >= MAX_OPEN_PER_CHILD:
        raise TooManyRequests(
            _("You have %(n)d requests about this child waiting for an answer. Wait for the school's answer.")
            % {"n": waiting},
            code="too_many_open_requests",
        )
    facts = facts_for([actor.pk, pupil.pk])
    decision = check("meeting_request.create", facts[actor.pk], None,
                     {"pupil": facts[pupil.pk], "addressee": addressee})
    school_class = enrollment.school_class
    request = MeetingRequest(
        requester=actor, pupil=pupil, school_id=school_class.school_id, school_class=school_class,
        addressee=addressee, topic=topic_text, preferred_times=times,
    )
    recipients = queries.request_addressee_ids(request)
    if not recipients:
        # Nobody holds the role, so the request would wait for no one: say so instead.
        raise WrongState(_("Nobody holds that role for your child's class yet. Ask the school's leadership."),
                         code="no_addressee")
    with transaction.atomic():
        request.save()
        do_audit(actor, "meeting_request.created", request, pupil_id=pupil.pk, addressee=addressee)
        emit_event(ev.MEETING_REQUEST_NEW, recipients,
                   {"request_id": request.pk, "request": serialise_request(request)})
        for person_id in recipients:
            queue_notice(person_id, "meeting_request")
    return request, decision


def check_answer_meeting_request(
    actor: Person, request_id: int, answer: Any, meeting_id: int | None = None
) -> MeetingRequest:
    """Answer a request sent to the actor's role, optionally pointing at the meeting now called."""
    request = queries.access_meeting_request(actor, request_id)
    text = _text(answer, MAX_ANSWER, required=True, what=_("The answer"))
    check("meeting_request.answer", facts_for([actor.pk])[actor.pk], request)
    meeting = queries.access_meeting(actor, meeting_id) if meeting_id is not None else None
    with transaction.atomic():
        locked = MeetingRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.OPEN:
            raise WrongState(_("This request has already been answered."), code="already_answered")
        locked.status = RequestStatus.ANSWERED
        locked.answer = text
        locked.answered_by = actor
        locked.answered_at = timezone.now()
        locked.meeting = meeting
        locked.save(update_fields=["status", "answer", "answered_by", "answered_at", "meeting"])
        request = queries.access_meeting_request(actor, request_id)
        do_audit(actor, "meeting_request.answered", request, meeting_id=meeting_id)
        recipients = sorted({request.requester_id, *queries.request_addressee_ids(request)})
        emit_event(ev.MEETING_REQUEST_ANSWERED, recipients,
                   {"request_id": request.pk, "request": serialise_request(request)})
        queue_notice(request.requester_id, "meeting_request_answered")
    return request
