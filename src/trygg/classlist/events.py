"""Typed events of the class list (pydantic, ``extra="forbid"``).

A consent change goes to the guardian who made it only, so their other open pages follow; nobody
else is told who shares what (R-LIST-02). The payload holds the guardian's own choices and ids.
"""

from __future__ import annotations

from trygg.events.payloads import EventPayload, register_event_type

CONSENT_CHANGED = "classlist.consent_changed"


class ConsentChangedPayload(EventPayload):
    class_id: int
    student_username: str
    fields: dict[str, bool]


register_event_type(CONSENT_CHANGED, ConsentChangedPayload)
