"""Typed events of the cases app. Payloads carry ids and states only: no names, no text."""

from __future__ import annotations

from trygg.events.payloads import EventPayload, register_event_type


class CasePayload(EventPayload):
    case_id: int
    status: str
    # What happened: one of the timeline types (reported, status_changed, confirmed, ...).
    change: str


CASE_UPDATED = register_event_type("case.updated", CasePayload)
