"""Typed payloads of the events the messaging app emits (registered with ``trygg.events.payloads``).

Payloads carry ids and, for members only, message text; never anything for people outside the
recipients.
"""

from __future__ import annotations

from typing import Any

from trygg.events.payloads import EventPayload, register_event_type


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


MESSAGE_NEW = register_event_type("message.new", MessagePayload)
MESSAGE_EDITED = register_event_type("message.edited", MessagePayload)
MESSAGE_DELETED = register_event_type("message.deleted", MessageRemovedPayload)
CONVERSATION_CREATED = register_event_type("conversation.created", ConversationPayload)
MEMBER_ADDED = register_event_type("conversation.member_added", MemberPayload)
MEMBER_REMOVED = register_event_type("conversation.member_removed", MemberPayload)
CONVERSATION_READ = register_event_type("conversation.read", ReadPayload)
ATTACHMENT_UPDATED = register_event_type("attachment.updated", AttachmentPayload)
ATTACHMENT_PERMISSION_REQUESTED = register_event_type("attachment.permission_requested", PermissionRequestPayload)
