"""Typed schemas of the events the policy app emits (``extra="forbid"``)."""

from __future__ import annotations

from trygg.events.payloads import EventPayload, register_event_type


class AcknowledgedPayload(EventPayload):
    """R-ACK-01: the person's other open pages can drop the reminder. Sent to that person only."""

    version: str
    child_id: int | None
    acknowledged_at: str


GUIDELINES_ACKNOWLEDGED = "guidelines.acknowledged"
register_event_type(GUIDELINES_ACKNOWLEDGED, AcknowledgedPayload)
