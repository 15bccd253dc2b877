"""Typed schemas of the events the meetings app appends to the event log (``extra="forbid"``).

Recipients: ``meeting.invited``, ``meeting.halted`` and ``meeting.ended`` go to the people with the
meeting in their calendar and the invited; ``meeting.join_refused`` to the organiser only;
``meeting.removed`` to the organiser and the removed person; ``meeting.chat`` to the invited.
Payloads hold ids, titles and names the recipients already see on the meeting's page.
"""

from __future__ import annotations

from typing import Any

from trygg.events.payloads import EventPayload, register_event_type


class MeetingPayload(EventPayload):
    meeting_id: int
    meeting: dict[str, Any]


class MeetingIdPayload(EventPayload):
    meeting_id: int


class JoinRefusedPayload(EventPayload):
    meeting_id: int
    person: dict[str, Any]
    rule: str | None


class RemovedPayload(EventPayload):
    meeting_id: int
    person_id: int


class ChatPayload(EventPayload):
    meeting_id: int
    message: dict[str, Any]


class MeetingRequestPayload(EventPayload):
    request_id: int
    request: dict[str, Any]


MEETING_INVITED = "meeting.invited"
MEETING_HALTED = "meeting.halted"
MEETING_ENDED = "meeting.ended"
MEETING_JOIN_REFUSED = "meeting.join_refused"
MEETING_REMOVED = "meeting.removed"
MEETING_CHAT = "meeting.chat"
# R-PAR-01: ``new`` to the addressees, ``answered`` to the guardian who asked and the addressees.
MEETING_REQUEST_NEW = "meeting_request.new"
MEETING_REQUEST_ANSWERED = "meeting_request.answered"

register_event_type(MEETING_INVITED, MeetingPayload)
register_event_type(MEETING_HALTED, MeetingPayload)
register_event_type(MEETING_ENDED, MeetingIdPayload)
register_event_type(MEETING_JOIN_REFUSED, JoinRefusedPayload)
register_event_type(MEETING_REMOVED, RemovedPayload)
register_event_type(MEETING_CHAT, ChatPayload)
register_event_type(MEETING_REQUEST_NEW, MeetingRequestPayload)
register_event_type(MEETING_REQUEST_ANSWERED, MeetingRequestPayload)
