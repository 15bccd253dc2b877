"""Typed schemas of the events the messaging app emits (pydantic, ``extra="forbid"``).

Other apps may register their own with ``register_event_type``. A payload of a registered type is
validated before it enters the log, so a client never receives a field nobody designed. Payloads
carry ids and, for members only, message text; never anything for people outside the recipients.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_SCHEMAS: dict[str, type[BaseModel]] = {}


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def register_event_type(name: str, schema: type[BaseModel]) -> type[BaseModel]:
    _SCHEMAS[name] = schema
    return schema


def validate_payload(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Return the payload as its schema dumps it; unregistered types pass through unchanged."""
    schema = _SCHEMAS.get(event_type)
    if schema is None:
        return payload
    return schema.model_validate(payload).model_dump(mode="json")


class MessagePayload(EventPayload):
    conversation_id: int
    message: dict[str, Any]


class MessageRemovedPayload(EventPayload):
    conversation_id: int
    message_id: int
    deleted_at: str


class ConversationPayload(EventPayload):
    conversation_id: int
    conversation: dict[str, Any]


class MemberPayload(EventPayload):
    conversation_id: int
    person_id: int
    username: str
    by: int | None


class AttachmentPayload(EventPayload):
    conversation_id: int
    attachment: dict[str, Any]


class PermissionRequestPayload(EventPayload):
    """To whoever answers for someone in an attachment: ids only, the page fetches the rest."""

    attachment_id: int
    conversation_id: int
    person_id: int


class ReadPayload(EventPayload):
    conversation_id: int
    person_id: int
    last_read_message_id: int


MESSAGE_NEW = register_event_type("message.new", MessagePayload) and "message.new"
MESSAGE_EDITED = register_event_type("message.edited", MessagePayload) and "message.edited"
MESSAGE_DELETED = register_event_type("message.deleted", MessageRemovedPayload) and "message.deleted"
CONVERSATION_CREATED = register_event_type("conversation.created", ConversationPayload) and "conversation.created"
MEMBER_ADDED = register_event_type("conversation.member_added", MemberPayload) and "conversation.member_added"
MEMBER_REMOVED = register_event_type("conversation.member_removed", MemberPayload) and "conversation.member_removed"
CONVERSATION_READ = register_event_type("conversation.read", ReadPayload) and "conversation.read"
ATTACHMENT_UPDATED = register_event_type("attachment.updated", AttachmentPayload) and "attachment.updated"
ATTACHMENT_PERMISSION_REQUESTED = (
    register_event_type("attachment.permission_requested", PermissionRequestPayload)
    and "attachment.permission_requested"
)
