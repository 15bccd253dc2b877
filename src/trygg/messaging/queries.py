"""Scoped reads of conversations and messages: a viewer sees only conversations they belong to.

A private reply to an announcement (``Message.private_to``) is visible to its sender and the
person it is addressed to only.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from trygg.database import RowReader
from trygg.directory.facts import facts_for, generation_column
from trygg.directory.models import Person, SchoolClass
from trygg.directory.queries import visible_people
from trygg.errors import NotFoundOrHidden
from trygg.messaging.models import (
    Attachment,
    AttachmentPermission,
    Conversation,
    ConversationKind,
    ConversationShare,
    Membership,
    Message,
)
from trygg.policy.engine import decide, params_for

PAGE_SIZE = 200


def visible_messages(viewer_id: int) -> Q:
    """Return the condition a message must meet for ``viewer_id`` besides membership."""
    return Q(private_to__isnull=True) | Q(sender_id=viewer_id) | Q(private_to_id=viewer_id)


def list_conversations(viewer: Person) -> list[Conversation]:
    """Return the viewer's conversations, newest activity first, each with ``unread``, ``last_read`` and
    ``last_message_id`` (the newest message the viewer may see, for the preview)."""
    mine = Membership.objects.filter(conversation=OuterRef("pk"), person=viewer)
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            id__gt=OuterRef("last_read"),
            deleted_at__isnull=True,
        )
        .exclude(sender=viewer)
        .filter(visible_messages(viewer.pk))
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    newest = Message.objects.filter(conversation=OuterRef("pk")).filter(visible_messages(viewer.pk)).order_by("-id")
    return list(
        Conversation.objects.filter(memberships__person=viewer)
        .select_related("created_by", "school_class")
        .annotate(last_read=Subquery(mine.values("last_read_message_id")[:1]))
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .annotate(last_message_id=Subquery(newest.values("id")[:1]))
        .order_by("-last_message_at", "-id")
    )


def access_conversation(viewer: Person, conversation_id: int) -> Conversation:
    """Return a conversation the viewer is a member of; anything else is 404."""
    # A slice, not first(): one row at most, and ordering it cost a quarter of this hot query.
    found = list(
        Conversation.objects.select_related("created_by", "school_class").filter(
            id=conversation_id, memberships__person=viewer
        )[:1]
    )
    if not found:
        raise NotFoundOrHidden()
    return found[0]


def access_for_sending(
    viewer: Person, conversation_id: int, client_txn_id: str | None = None,
) -> tuple[Conversation, list[int], int | None, int | None]:
    """Return what ``access_conversation`` and ``member_ids`` return, for the send path: the
    conversation (with its creator and class) if the viewer is a member, and its members' ids; the
    facts generation as of this read (``directory.facts.generation_read_with``); and the id of the
    viewer's message sent before with ``client_txn_id``, if any (a repeated send).

    One hand-written statement (``trygg.database.RowReader``) instead of two ORM queries, a read of
    the generation and the repeat check: every message sent makes it, compiling the ORM's SQL cost
    more than running it, and on PostgreSQL each statement is a round trip. The member ids come as
    one text column (``string_agg`` or ``group_concat``), not a row each.
    """
    memberships = connection.ops.quote_name(Membership._meta.db_table)
    messages = connection.ops.quote_name(Message._meta.db_table)
    joined = "string_agg(m.person_id::text, ',')" if connection.vendor == "postgresql" else "group_concat(m.person_id)"
    conversations, people, classes = _CONVERSATIONS, _PEOPLE, _CLASSES
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {conversations.columns('c')}, {people.columns('p')}, {classes.columns('k')}, "  # noqa: S608
            f"(SELECT {joined} FROM {memberships} m WHERE m.conversation_id = c.id), {generation_column()}, "
            f"(SELECT r.id FROM {messages} r WHERE r.sender_id = %s AND r.client_txn_id = %s) "
            f"FROM {connection.ops.quote_name(Conversation._meta.db_table)} c "
            f"LEFT JOIN {connection.ops.quote_name(Person._meta.db_table)} p ON p.id = c.created_by_id "
            f"LEFT JOIN {connection.ops.quote_name(SchoolClass._meta.db_table)} k ON k.id = c.school_class_id "
            "WHERE c.id = %s",
            [viewer.pk, client_txn_id, conversation_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFoundOrHidden()
    conversation, at = conversations.read(row)
    conversation.created_by, at = people.read(row, at)
    conversation.school_class, at = classes.read(row, at)
    members, generation, repeat = row[at], row[at + 1], row[at + 2]
    ids = [int(pid) for pid in members.split(",")] if members else []
    if viewer.pk not in ids:
        raise NotFoundOrHidden()
    return conversation, ids, (int(generation) if generation is not None else None), repeat


_CONVERSATIONS, _PEOPLE, _CLASSES = RowReader(Conversation), RowReader(Person), RowReader(SchoolClass)


def access_frozen_group_as_leader(viewer: Person, conversation_id: int) -> Conversation:
    """Return a frozen group of a school the viewer leads, for adding an adult to it (R-STAFF-07).

    When every adult of a group with pupils is gone, nobody left in it may add one; the school's
    leader, who is not a member, can. Anything else is 404, as for ``access_conversation``.
    """
    led = viewer.facts.led_school_ids
    found = list(Conversation.objects.select_related("created_by", "school_class").filter(
        id=conversation_id, kind=ConversationKind.GROUP, school_id__in=led)[:1]) if led else []
    if not found or not is_frozen(found[0]):
        raise NotFoundOrHidden()
    return found[0]


def is_member(viewer: Person, conversation_id: int) -> bool:
    """Return whether the viewer is a member of the conversation."""
    return Membership.objects.filter(conversation_id=conversation_id, person=viewer).exists()


def member_ids(conversation: Conversation) -> list[int]:
    return list(Membership.objects.filter(conversation=conversation).values_list("person_id", flat=True))


FROZEN_RULE = "kolding.second-adult"


def is_frozen(conversation: Conversation, known_members: list[int] | None = None) -> bool:
    """Return whether a staff-run group with pupils has lost the adults R-STAFF-07 asks for.

    Leaving and removing cannot do that (the policy refuses); deactivation and the end of an
    employment can, and then the group is read-only until an adult from the school is added. A
    social group a pupil or guardian made is theirs: R-CHAT-02 governs it, not this.

    ``known_members`` (the members' ids, when the caller has them) answers a group without
    children from the cached facts alone.
    """
    if conversation.kind != ConversationKind.GROUP:
        return False
    if known_members is not None and not any(
        "pupil" in f.roles and not f.is_adult for f in facts_for(known_members).values()
    ):
        # No child in it, active or not (the facts are cached): nothing to freeze, and no query.
        return False
    rows = list(Membership.objects.filter(conversation=conversation).values_list("person_id", "person__is_active"))
    facts = facts_for([pid for pid, _active in rows] + ([conversation.created_by_id] if conversation.created_by_id
                                                         else []))
    present = [facts[pid] for pid, is_active in rows if is_active and pid in facts]
    if not any("pupil" in f.roles and not f.is_adult for f in present):
        return False
    creator = facts.get(conversation.created_by_id) if conversation.created_by_id else None
    if not conversation.school_owned and not (creator is not None and creator.is_staff_member):
        return False
    municipality_id = next((f.municipality_id for f in present if f.municipality_id), None)
    params = params_for(FROZEN_RULE, municipality_id)
    if not params:
        return False
    return sum(1 for f in present if f.is_staff_member) < int(params.get("min_adults", 2))


def list_members(conversation: Conversation, viewer: Person | None = None) -> list[Person]:
    """Return the members (callers have already checked that the viewer may see the conversation).

    With a ``viewer``, only the members they may see: a protected pupil or guardian is absent for
    other families, with no placeholder (R-LIST-05). Without one, everyone (for staff tools).
    """
    members = list(Person.objects.filter(memberships__conversation=conversation).order_by("name"))
    return members if viewer is None else visible_people(viewer, members)


def membership_of(viewer: Person, conversation: Conversation) -> Membership:
    found = Membership.objects.filter(conversation=conversation, person=viewer).first()
    if found is None:
        raise NotFoundOrHidden()
    return found


def list_messages(
    viewer: Person, conversation: Conversation, after: int | None = None, limit: int = PAGE_SIZE
) -> list[Message]:
    """Return the messages the viewer sees, oldest first; ``after`` pages forward from a message id.

    Without ``after`` the newest ``limit`` messages are returned.
    """
    qs: QuerySet[Message] = (
        Message.objects.filter(conversation=conversation)
        .filter(visible_messages(viewer.pk))
        .select_related("sender", "attachment")
    )
    if after is not None:
        return list(qs.filter(id__gt=after).order_by("id")[:limit])
    return list(reversed(qs.order_by("-id")[:limit]))


def access_message(viewer: Person, message_id: int) -> Message:
    """Return a message the viewer can see (member of its conversation, not someone else's private
    reply); anything else is 404. The cases app uses this to check what a reporter may report."""
    message = (
        Message.objects.select_related("conversation", "sender")
        .filter(id=message_id, conversation__memberships__person=viewer)
        .filter(visible_messages(viewer.pk))
        .first()
    )
    if message is None:
        raise NotFoundOrHidden()
    return message


def neighbours(message: Message, before: int = 5, after: int = 5) -> list[Message]:
    """Return the messages around ``message`` in its conversation (for a report's snapshot).

    Private replies are left out: they were never visible to the conversation.
    """
    base = Message.objects.filter(conversation_id=message.conversation_id, private_to__isnull=True).select_related(
        "sender"
    )
    earlier = list(base.filter(id__lt=message.id).order_by("-id")[:before])
    later = list(base.filter(id__gt=message.id).order_by("id")[:after])
    return [*reversed(earlier), message, *later]


def child_view_allowed(viewer: Person, child: Person) -> bool:
    """R-CHAT-03: may ``viewer`` see whom ``child`` chats with?"""
    facts = facts_for([child.pk])[child.pk]
    return decide("conversation.view_child", viewer, facts, {"child_grade": facts.grade}).allowed


def list_child_conversations(viewer: Person, child_id: int) -> list[dict[str, Any]]:
    """Return whom a child chats with (R-CHAT-03): conversations and members, never the text.

    The policy decides (``conversation.view_child``); a guardian it does not allow sees a 404.
    """
    child = Person.objects.filter(id=child_id).first()
    if child is None or not child_view_allowed(viewer, child):
        raise NotFoundOrHidden()
    from trygg.audit.actions import do_audit

    # R-PRIV-02: a view of a child's conversations is confidential and is logged.
    do_audit(viewer, "conversation.child_list_viewed", child)
    conversations = Conversation.objects.filter(memberships__person=child).select_related("created_by")
    result = []
    for conv in conversations.order_by("-last_message_at", "-id"):
        result.append(
            {
                "id": conv.pk,
                "kind": conv.kind,
                "title": conv.title,
                "school_owned": conv.school_owned,
                "members": [p.name for p in list_members(conv, viewer)],
                "shared": ConversationShare.objects.filter(conversation=conv, guardian=viewer, pupil=child).exists(),
            }
        )
    return result


def access_shared_conversation(viewer: Person, conversation_id: int) -> tuple[Conversation, Person]:
    """Return a conversation a child shared with the viewer (a guardian), with the child; else 404."""
    share = (
        ConversationShare.objects.select_related("conversation", "pupil")
        .filter(conversation_id=conversation_id, guardian=viewer)
        .first()
    )
    if share is None or share.pupil_id not in viewer.facts.child_ids:
        raise NotFoundOrHidden()
    from trygg.audit.actions import do_audit

    do_audit(viewer, "conversation.shared_viewed", share.conversation, pupil_id=share.pupil_id)
    return share.conversation, share.pupil


def list_contacts(viewer: Person) -> list[Person]:
    """Return the people the viewer can pick when starting a conversation: their classes' teachers
    and pupils, the guardians of pupils they teach, their children, and other guardians of their
    children's classes. Whether a chat is allowed is the policy's question, asked on create.

    Protected pupils and guardians are listed for staff and their own family only (R-LIST-05).
    """
    from trygg.directory.models import Enrollment, Guardianship, TeachingAssignment

    facts = viewer.facts
    class_ids = facts.pupil_class_ids | facts.child_class_ids | facts.taught_class_ids
    ids: set[int] = set(
        TeachingAssignment.objects.filter(school_class_id__in=class_ids).values_list("teacher_id", flat=True)
    )
    pupil_classes = facts.pupil_class_ids | facts.taught_class_ids
    pupils = set(Enrollment.objects.filter(school_class_id__in=pupil_classes).values_list("pupil_id", flat=True))
    ids |= pupils
    guardian_classes = facts.taught_class_ids | facts.child_class_ids
    class_pupils = Enrollment.objects.filter(school_class_id__in=guardian_classes).values_list("pupil_id", flat=True)
    ids |= set(
        Guardianship.objects.filter(pupil_id__in=class_pupils, parental_responsibility=True).values_list(
            "guardian_id", flat=True
        )
    )
    ids |= set(facts.child_ids)
    if facts.led_school_ids:
        ids |= set(
            TeachingAssignment.objects.filter(school_class__school_id__in=facts.led_school_ids).values_list(
                "teacher_id", flat=True
            )
        )
    ids.discard(viewer.pk)
    return visible_people(viewer, Person.objects.filter(id__in=ids, is_active=True).order_by("name"))


# ---------------------------------------------------------------------------------- attachments


def _related_to_attachment(viewer: Person) -> Q:
    """Who can be concerned with an attachment at all; the policy then says what they may see."""
    return (
        Q(uploader=viewer)
        | Q(permissions__person=viewer)
        | Q(permissions__deciders=viewer)
        | Q(conversation__memberships__person=viewer)
    )


def attachment_view_context(viewer: Person, attachment: Attachment) -> dict[str, Any]:
    """Return what the ``attachment.view`` rules need about the viewer and the attachment."""
    relations: set[str] = set()
    if attachment.uploader_id == viewer.pk:
        relations.add("uploader")
    permissions = AttachmentPermission.objects.filter(attachment=attachment)
    if permissions.filter(person=viewer).exists():
        relations.add("pictured")
    if permissions.filter(deciders=viewer).exists():
        relations.add("decider")
    member = Membership.objects.filter(conversation_id=attachment.conversation_id, person=viewer).exists()
    if member:
        relations.add("member")
        if attachment.needs_agreement and viewer.facts.is_staff_member and attachment.uploader_id != viewer.pk:
            relations.add("teacher")
    message_visible = member and (
        Message.objects.filter(attachment=attachment, deleted_at__isnull=True)
        .filter(visible_messages(viewer.pk))
        .exists()
    )
    pending = attachment.status == Attachment.Status.PENDING
    return {
        "relations": frozenset(relations),
        "permissions_outstanding": pending and permissions.filter(status=AttachmentPermission.Status.PENDING).exists(),
        "agreement_outstanding": pending and attachment.needs_agreement and attachment.agreed_at is None,
        "message_visible": message_visible,
        "uploader_is_staff": attachment.uploader.facts.is_staff_member,
        "school_id": attachment.conversation.school_id,
    }


def access_attachment(viewer: Person, attachment_id: int) -> Attachment:
    """Return an attachment the viewer may see; anything else is 404 (R-PAR-02, R-PUP-01).

    A held attachment is seen by its sender, the people in it, whoever answers for them, and
    (for a pupil's upload to a school conversation) the teachers asked to agree. Once shared, it
    is seen by whoever sees its message. The policy (``attachment.view``) decides; a denial is 404,
    so a held attachment does not even exist for the other members.
    """
    attachment = (
        Attachment.objects.select_related("conversation", "uploader")
        .filter(id=attachment_id)
        .filter(_related_to_attachment(viewer))
        .first()
    )
    if attachment is None:
        raise NotFoundOrHidden()
    decision = decide("attachment.view", viewer, attachment, attachment_view_context(viewer, attachment))
    if not decision.allowed:
        raise NotFoundOrHidden()
    return attachment


def list_attachment_requests(viewer: Person) -> list[Attachment]:
    """Return held attachments the viewer is asked about: permission for someone in it they answer
    for, or (as a teacher of the conversation) agreement to a pupil's upload. Newest first."""
    asked = Q(
        permissions__deciders=viewer,
        permissions__status=AttachmentPermission.Status.PENDING,
    )
    if viewer.facts.is_staff_member:
        asked |= Q(needs_agreement=True, agreed_at__isnull=True, conversation__memberships__person=viewer) & ~Q(
            uploader=viewer
        )
    candidates = (
        Attachment.objects.filter(status=Attachment.Status.PENDING)
        .filter(asked)
        .select_related("conversation", "uploader")
        .distinct()
        .order_by("-id")[:100]
    )
    return [a for a in candidates if _may_view(viewer, a)]


def list_pending_uploads(viewer: Person, conversation: Conversation | None = None) -> list[Attachment]:
    """Return the viewer's own attachments that are still waiting, newest first."""
    qs = Attachment.objects.filter(uploader=viewer, status=Attachment.Status.PENDING).select_related(
        "conversation", "uploader"
    )
    if conversation is not None:
        qs = qs.filter(conversation=conversation)
    return list(qs.order_by("-id")[:100])


def _may_view(viewer: Person, attachment: Attachment) -> bool:
    try:
        access_attachment(viewer, attachment.pk)
    except NotFoundOrHidden:
        return False
    return True


def list_pictured_choices(viewer: Person, conversation: Conversation) -> list[Person]:
    """Return whom the viewer can name as being in a photo: the conversation's members and the
    people the viewer can find in the directory (themselves included)."""
    ids = set(member_ids(conversation)) | {p.pk for p in list_contacts(viewer)}
    return visible_people(viewer, Person.objects.filter(id__in=ids, is_active=True).order_by("name"))
