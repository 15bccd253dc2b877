"""What the notifications app needs to know about conversations, told from here.

Notifications sits below messaging (messaging queues its notices), so it cannot ask for a
conversation itself; ``apps.MessagingConfig.ready`` registers these two readers with it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Max

from trygg.messaging.models import Conversation, Membership, Message


def load_conversations(ids: set[int]) -> Mapping[int, Conversation]:
    """Return the conversations with these ids."""
    return {c.pk: c for c in Conversation.objects.filter(id__in=ids)}


def has_read(person_id: int, conversation_id: int) -> bool:
    """Return whether the person has read every message others sent there (or is no longer in it)."""
    membership = Membership.objects.filter(conversation_id=conversation_id, person_id=person_id).first()
    if membership is None:
        return True
    newest = (
        Message.objects.filter(conversation_id=conversation_id, deleted_at__isnull=True)
        .exclude(sender_id=person_id)
        .aggregate(m=Max("id"))["m"]
    )
    return newest is None or membership.last_read_message_id >= newest
