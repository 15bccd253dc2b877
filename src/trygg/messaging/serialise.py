"""How conversations, messages and attachments look to the people who may see them.

Who sees what:

* A conversation and a message are serialised the same for every member, except the people
  hidden from the reader (``directory.queries.hidden_from``: a protected pupil or guardian is
  "a pupil" or "a guardian" to other families, R-LIST-05): callers have already scoped the read
  (``queries``), and a private reply only reaches its two people (``actions.recipients_of``).
  A deleted message has neither text nor attachment.
* An attachment's reference (``attachment_ref``) is what every reader of its message sees: the
  file, never who is in it. ``serialise_attachment`` adds the people in it, for the sender and
  staff in full, and for someone answering for one person only the entries they answer for.
* Nudges carry the rule's localised reason, never the data a rule looked at.
* A sensitive message (issue 17: health, family matters) is serialised without its text for
  everyone, its sender included, because the same frame goes to every member's socket and into
  the log; ``sensitive_text`` is the one place the text leaves, after a step-up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from trygg.directory.models import Person
from trygg.directory.queries import anonymous_word, hidden_from
from trygg.messaging.models import Attachment, AttachmentPermission, Conversation, Message
from trygg.messaging.queries import member_ids
from trygg.policy.engine import Decision
from trygg.policy.queries import obligation_notes
from trygg.safety.alerts import SIGNAL_CATEGORIES
from trygg.safety.texts import age_band, help_lines, help_lines_intro, nudge_message


def person_ref(person: Person | None, hidden: Collection[int] = ()) -> dict[str, Any] | None:
    """Return ``{id, username, name}``; a person in ``hidden`` (``directory.queries.hidden_from``)
    is "a pupil" or "a guardian" with neither id nor username (R-LIST-05)."""
    if person is None:
        return None
    if person.pk in hidden:
        return {"id": None, "username": None, "name": anonymous_word(person.pk)}
    return {"id": person.pk, "username": person.username, "name": person.name}


def name_of(person: Person | None, hidden: Collection[int] = ()) -> str:
    """Return the person's name, or "a pupil"/"a guardian" where they are hidden from the reader."""
    if person is None:
        return ""
    return anonymous_word(person.pk) if person.pk in hidden else person.name


def hidden_in(viewer: Person, conversation: Conversation, people: Iterable[Person | None] = ()) -> set[int]:
    """Return who among the conversation's creator and ``people`` the viewer may not see."""
    ids = {p.pk for p in people if p is not None}
    if conversation.created_by_id:
        ids.add(conversation.created_by_id)
    return hidden_from(viewer, ids)


def ownership_label(conversation: Conversation, hidden: Collection[int] = ()) -> str:
    """R-CHAT-04: who made the conversation and whether the school owns it, in words."""
    creator = name_of(conversation.created_by, hidden) if conversation.created_by else _("the school")
    if conversation.school_owned:
        return _("School conversation, created by %(name)s. The school is responsible for it.") % {"name": creator}
    return _("Social conversation, created by %(name)s. Not the school's responsibility.") % {"name": creator}


def serialise_conversation(conversation: Conversation, hidden: Collection[int] = (), **extra: Any) -> dict[str, Any]:
    """Return a conversation; people in ``hidden`` are shown as "a pupil" or "a guardian"."""
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": conversation.title,
        "created_by": person_ref(conversation.created_by, hidden),
        "school_owned": conversation.school_owned,
        "social": conversation.social,
        "ownership": ownership_label(conversation, hidden),
        "class_id": conversation.school_class_id,
        "created_at": conversation.created_at.isoformat(),
        "last_message_at": conversation.last_message_at.isoformat() if conversation.last_message_at else None,
        **extra,
    }


def serialise_message(message: Message, hidden: Collection[int] = ()) -> dict[str, Any]:
    """Return a message; a sender in ``hidden`` is "a pupil" or "a guardian" (R-LIST-05)."""
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "sender": person_ref(message.sender, hidden),
        "body": "" if deleted or message.sensitive else message.body,
        "sensitive": message.sensitive,
        # The sender's own idempotency key; a hidden sender's could be recognised by others.
        "client_txn_id": "" if message.sender_id in hidden else message.client_txn_id,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "deleted_at": message.deleted_at.isoformat() if deleted else None,
        "reply_to": message.reply_to_id,
        "private_to": message.private_to_id,
        "is_announcement": message.is_announcement,
        "discussion_open": message.discussion_open,
        "show_an_adult": message.show_an_adult and not deleted,
        "event_id": message.event_id,
        "attachment": _attachment_ref(message),
    }


def sensitive_text(message: Message) -> dict[str, Any]:
    """Return the text of a message whose reader has stepped up (the caller checked both)."""
    return {"id": message.pk, "conversation_id": message.conversation_id,
            "body": "" if message.deleted_at is not None else message.body}


def _attachment_ref(message: Message) -> dict[str, Any] | None:
    if not message.attachment_id or message.deleted_at is not None:
        return None
    return attachment_ref(message.attachment)


def nudges_of(decision: Decision, writer: Any = None) -> list[dict[str, Any]]:
    """Return the nudges a person should see before sending: each ``{rule, requirement, category,
    message}`` (plus ``level``, and ``help_lines`` for self-harm), never the data a rule looked at.

    A text signal (issue 14) is worded for the writer's age (``writer``: their ``PersonFacts``);
    each category appears once, the signal's own wording first.
    """
    language = (get_language() or "nb")[:2]
    band = age_band(writer)
    notes: list[dict[str, Any]] = []
    by_category: dict[str, int] = {}
    for note in obligation_notes(decision, "nudge"):
        data = note.pop("data", {}) or {}
        category = data.get("category") or "other"
        entry = {"rule": note["rule"], "requirement": note["requirement"], "category": category,
                 "message": note["message"], "level": note["level"]}
        if data.get("signal"):
            entry["message"] = nudge_message(category, band, language) or entry["message"]
            if category == "selfharm":
                entry["help_lines"] = list(data.get("help_lines") or ()) or help_lines(
                    _country_of(writer), language, band)
                entry["help_intro"] = help_lines_intro(language)
        if category in SIGNAL_CATEGORIES and category in by_category:
            # One entry per category; a signal's age-worded text wins over a general rule's.
            if data.get("signal") and not notes[by_category[category]].get("_signal"):
                notes[by_category[category]] = {**entry, "_signal": True}
            continue
        if category in SIGNAL_CATEGORIES:
            by_category[category] = len(notes)
        notes.append({**entry, "_signal": bool(data.get("signal"))})
    for entry in notes:
        entry.pop("_signal", None)
    return notes


def _country_of(facts: Any) -> str | None:
    municipality_id = getattr(facts, "municipality_id", None)
    if municipality_id is None:
        return None
    from trygg.directory.models import Municipality

    return Municipality.objects.filter(pk=municipality_id).values_list("country", flat=True).first()


def file_url(attachment: Attachment) -> str | None:
    if not attachment.has_file:
        return None
    return reverse("api:attachment_file", kwargs={"attachment_id": attachment.pk})


def attachment_ref(attachment: Attachment) -> dict[str, Any]:
    """Return what every reader of the message sees: the file, not who is in it."""
    return {
        "id": attachment.pk,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": file_url(attachment),
        "deleted": not attachment.has_file,
        "delete_after_use": attachment.pupil_media,
    }


def serialise_attachment(attachment: Attachment, viewer: Person) -> dict[str, Any]:
    """Return an attachment as someone concerned sees it (sender, people in it, teacher).

    The names of the people in it go to the sender and to staff; someone answering for one
    person sees only the entries they answer for (a strictly confidential pupil's name stays hidden).
    """
    permissions = list(attachment.permissions.select_related("person").prefetch_related("deciders"))
    full = viewer.pk == attachment.uploader_id or viewer.facts.is_staff_member
    # A protected person is never named to other families, not even to the sender (R-LIST-05).
    hidden = hidden_from(viewer, [attachment.uploader_id, *(p.person_id for p in permissions)])
    pictured = []
    for permission in permissions:
        decider_ids = {p.pk for p in permission.deciders.all()}
        if not full and viewer.pk not in decider_ids and viewer.pk != permission.person_id:
            continue
        if permission.person_id in hidden and viewer.pk not in decider_ids:
            continue
        pictured.append(
            {
                "id": permission.person_id,
                "username": permission.person.username,
                "name": permission.person.name,
                "status": permission.status,
                "decided_at": permission.decided_at.isoformat() if permission.decided_at else None,
                "can_decide": viewer.pk in decider_ids and permission.status == AttachmentPermission.Status.PENDING
                and attachment.status == Attachment.Status.PENDING,
            }
        )
    waiting_permission = any(p.status == AttachmentPermission.Status.PENDING for p in permissions)
    waiting_teacher = attachment.needs_agreement and attachment.agreed_at is None
    pending = attachment.status == Attachment.Status.PENDING
    can_agree = (
        pending and waiting_teacher and viewer.pk != attachment.uploader_id and viewer.facts.is_staff_member
        and viewer.pk in member_ids(attachment.conversation)
    )
    return {
        **attachment_ref(attachment),
        "conversation_id": attachment.conversation_id,
        "uploader": {"id": None if attachment.uploader_id in hidden else attachment.uploader_id,
                     "name": name_of(attachment.uploader, hidden)},
        "status": attachment.status,
        "caption": attachment.caption,
        "nobody_identifiable": attachment.nobody_identifiable,
        "pictured": pictured,
        "pictured_count": len(permissions),
        "waiting_for_permission": waiting_permission and attachment.status == Attachment.Status.PENDING,
        "waiting_for_teacher": waiting_teacher and attachment.status == Attachment.Status.PENDING,
        "message_id": _message_id(attachment),
        "can_agree": can_agree,
        "can_withdraw": pending and viewer.pk == attachment.uploader_id,
        "rules": list(attachment.rules),
        "created_at": attachment.created_at.isoformat(),
        "released_at": attachment.released_at.isoformat() if attachment.released_at else None,
    }


def _message_id(attachment: Attachment) -> int | None:
    try:
        return attachment.message.pk
    except Message.DoesNotExist:
        return None
