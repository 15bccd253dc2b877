"""The registry of event payloads: each app declares its own in its ``events.py``.

Every registered type is a pydantic model with ``extra="forbid"``, and ``emit_event`` validates a
payload against it before it enters the log, so a client never receives a field nobody designed.
Payloads carry ids and what the recipients may see; never anything about people outside them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_SCHEMAS: dict[str, type[BaseModel]] = {}


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def register_event_type(name: str, schema: type[BaseModel]) -> str:
    """Register ``schema`` as the payload of events of type ``name``; return the name."""
    _SCHEMAS[name] = schema
    return name


def validate_payload(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Return the payload as its schema dumps it; unregistered types pass through unchanged."""
    schema = _SCHEMAS.get(event_type)
    if schema is None:
        return payload
    return schema.model_validate(payload).model_dump(mode="json")


def registered_types() -> dict[str, type[BaseModel]]:
    """Return every registered event type with its schema."""
    return dict(_SCHEMAS)
