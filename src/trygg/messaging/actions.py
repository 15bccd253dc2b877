"""Writes to conversations and messages. Each asks the policy, writes in one transaction, appends
its events to the log (last, see ``trygg.events.log``) and writes the audit record.

Audit records hold ids only, never message text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trygg.audit.actions import audit_statement, do_audit
from trygg.database import insert_row
from trygg.directory.facts import facts_for, generation_read_with
from trygg.directory.models import Enrollment, Person, SchoolClass, TeachingAssignment
from trygg.directory.queries import Audience, audiences, hidden_from
from trygg.errors import BadInput, NotFoundOrHidden, PolicyDenied, TooLarge, WrongState
from trygg.events.log import Then, emit_event, forget_pushes
from trygg.events.models import Event
from trygg.messaging import events as et
from trygg.messaging import media
from trygg.messaging.context import create_context, member_change_context, send_context
from trygg.messaging.models import (
    Attachment,
    Conversation,
    ConversationKind,
    ConversationShare,
    Membership,
    Message,
)
from trygg.messaging.queries import (
    access_conversation,
    access_for_sending,
    access_frozen_group_as_leader,
    access_message,
    is_frozen,
    member_ids,
)
from trygg.messaging.serialise import nudges_of, serialise_conversation, serialise_message
from trygg.policy.engine import Decision, check, decide
from trygg.policy.limits import check_limit
from trygg.policy.rules.chat import is_work_chat
from trygg.safety.alerts import offers_show_an_adult, record_signals

MAX_TXN_CHARS = 64
MAX_GROUP_MEMBERS = 200


def max_body_chars() -> int:
    """Return the longest message text accepted (``TRYGG_MESSAGE_MAX_CHARS``)."""
    return int(settings.TRYGG_MESSAGE_MAX_CHARS)


# ---------------------------------------------------------------------------------- events


def emit_about(
    event_type: str,
    recipient_ids: Iterable[int],
    subject_ids: Iterable[int],
    build: Callable[[frozenset[int]], dict[str, Any]],
    owner_id: int | None = None,
    groups: list[Audience] | None = None,
    then: Then | None = None,
) -> Event | None:
    """Emit an event whose payload names ``subject_ids``, once per audience (R-LIST-05).

    Those who may see every subject get one payload; other families get one where a protected
    person is "a pupil" or "a guardian" in their language (``directory.queries.audiences``).
    ``build(hidden)`` makes the payload. Returns the event of ``owner_id``'s audience (the sender
    keeps it for repeated sends), else the first. ``groups`` are the audiences if already known.
    ``then``: the writes to make after the last event, given the id of the one returned
    (``emit_event`` runs them with its stream's rows).
    """
    found: Event | None = None
    every = list(groups if groups is not None else audiences(recipient_ids, subject_ids))
    for number, audience in enumerate(every, 1):
        with translation.override(audience.language) if audience.language else nullcontext():
            payload = build(audience.hidden)
        mine = found is None or owner_id in audience.ids
        last_then = None
        if then is not None and number == len(every):
            # Given this event's id; the owner's event may be an earlier audience's.
            last_then = then if mine or found is None else (lambda _, owner=found.pk: then(owner))
        event = emit_event(event_type, audience.ids, payload, then=last_then)
        if mine:
            found = event
    return found


def emit_only_to_seers(event_type: str, recipient_ids: Iterable[int], person: Person, payload: dict[str, Any]) -> None:
    """Emit an event about ``person`` to the recipients who may see them; others hear nothing (R-LIST-05)."""
    seers = [rid for audience in audiences(recipient_ids, [person.pk]) if person.pk not in audience.hidden
             for rid in audience.ids]
    if seers:
        emit_event(event_type, seers, payload)


# ---------------------------------------------------------------------------------- conversations


@dataclass
class CreateResult:
    conversation: Conversation
    created: bool
    decision: Decision | None = None
    nudges: list[dict[str, Any]] = field(default_factory=list)


def _resolve_members(actor: Person, usernames: Sequence[str]) -> list[Person]:
    if not isinstance(usernames, list | tuple) or len(usernames) > MAX_GROUP_MEMBERS:
        raise BadInput(_("Choose between one and %(n)d members.") % {"n": MAX_GROUP_MEMBERS})
    wanted = {str(u).strip() for u in usernames if str(u).strip()} - {actor.username}
    people = list(Person.objects.filter(username__in=wanted, is_active=True))
    # A protected pupil or guardian does not exist for other families, not even by a typed username
    # (R-LIST-05): they answer as unknown and inactive accounts do, so the directory does not leak.
    hidden = hidden_from(actor, [p.pk for p in people])
    if len(people) != len(wanted) or hidden:
        raise NotFoundOrHidden(_("Some of the people could not be found."), code="unknown_member")
    return people


def preview_conversation(
    actor: Person, kind: str, member_usernames: Sequence[str], school_owned: bool = False
) -> Decision:
    """Return the decision on creating a conversation, without creating it (for the page's hints)."""
    people = _resolve_members(actor, member_usernames)
    facts = facts_for([actor.pk, *(p.pk for p in people)])
    members = [facts[actor.pk], *(facts[p.pk] for p in people)]
    school_owned = bool(school_owned) or is_work_chat(kind, members)
    return decide("conversation.create", actor, None, create_context(kind, members, school_owned))


def check_create_conversation(
    actor: Person, kind: str, title: str, member_usernames: Sequence[str], school_owned: bool = False
) -> CreateResult:
    """Start a direct chat or a closed group (R-STAFF-04); the policy decides who with (R-CHAT-02, R-STAFF-07)."""
    if kind not in (ConversationKind.DIRECT, ConversationKind.GROUP):
        raise BadInput(_("A conversation is either direct or a group."), code="bad_kind")
    title = (title or "").strip()
    if len(title) > 200:
        raise BadInput(_("The title is too long."))
    people = _resolve_members(actor, member_usernames)
    if not people:
        raise BadInput(_("Choose at least one person to talk with."), code="no_members")
    if kind == ConversationKind.DIRECT and len(people) != 1:
        raise BadInput(_("A direct conversation has exactly one other person."), code="bad_members")
    facts = facts_for([actor.pk, *(p.pk for p in people)])
    members = [facts[actor.pk], *(facts[p.pk] for p in people)]
    # R-CHAT-04: a staff member's direct chat with a pupil or guardian of their school is work,
    # whoever starts it and whatever box is ticked; a pupil's or guardian's group stays social.
    work = is_work_chat(kind, members)
    school_owned = bool(school_owned) or work
    decision = check("conversation.create", actor, None, create_context(kind, members, school_owned))
    if kind == ConversationKind.DIRECT:
        key = ":".join(str(i) for i in sorted((actor.pk, people[0].pk)))
        existing = Conversation.objects.filter(direct_key=key).first()
        if existing is not None:
            if work and not existing.school_owned:
                # Made social before work chats were the school's: the school takes it over.
                do_take_over(actor, existing)
            return CreateResult(existing, False, decision, nudges_of(decision))
    else:
        key = None
    conversation = do_create_conversation(
        actor, kind, title, people, school_owned=school_owned, direct_key=key
    )
    return CreateResult(conversation, True, decision, nudges_of(decision))


def do_create_conversation(
    actor: Person | None,
    kind: str,
    title: str,
    people: Sequence[Person],
    *,
    school_owned: bool = False,
    direct_key: str | None = None,
    school_class: SchoolClass | None = None,
) -> Conversation:
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=kind,
            title=title,
            created_by=actor,
            school_owned=school_owned,
            school=school_class.school if school_class else None,
            school_class=school_class,
            direct_key=direct_key,
        )
        if conversation.school_id is None and actor is not None:
            school_ids = sorted(actor.facts.school_ids)
            if school_ids:
                conversation.school_id = school_ids[0]
                conversation.save(update_fields=["school"])
        everyone = ([actor] if actor is not None else []) + [p for p in people if actor is None or p.pk != actor.pk]
        Membership.objects.bulk_create(
            [
                Membership(
                    conversation=conversation,
                    person=p,
                    role=Membership.Role.OWNER if actor is not None and p.pk == actor.pk else Membership.Role.MEMBER,
                )
                for p in everyone
            ]
        )
        do_audit(actor, "conversation.created", conversation, kind=kind, member_ids=[p.pk for p in everyone])
        emit_about(
            et.CONVERSATION_CREATED,
            [p.pk for p in everyone],
            [actor.pk] if actor is not None else [],
            lambda hidden: {"conversation_id": conversation.pk,
                            "conversation": serialise_conversation(conversation, hidden)},
        )
    return conversation


def do_take_over(actor: Person, conversation: Conversation) -> Conversation:
    """Mark a direct chat between staff and a family as the school's (R-CHAT-04); its page shows it."""
    with transaction.atomic():
        conversation.school_owned = True
        conversation.save(update_fields=["school_owned"])
        do_audit(actor, "conversation.school_owned", conversation)
    return conversation


def ensure_class_channels(school_class: SchoolClass) -> tuple[Conversation, Conversation]:
    """Create or bring up to date a class's two channels, owned by the school.

    The class channel holds the pupils and the class's teachers; the guardians' channel the
    guardians with parental responsibility and the teachers. Membership follows the roster.
    """
    teachers = set(TeachingAssignment.objects.filter(school_class=school_class).values_list("teacher_id", flat=True))
    pupils = set(Enrollment.objects.filter(school_class=school_class).values_list("pupil_id", flat=True))
    from trygg.directory.models import Guardianship

    guardians = set(
        Guardianship.objects.filter(pupil_id__in=pupils, parental_responsibility=True).values_list(
            "guardian_id", flat=True
        )
    )
    channels = []
    for kind, wanted, title in (
        (ConversationKind.CLASS, teachers | pupils, _("Class %(name)s") % {"name": school_class.name}),
        (ConversationKind.GUARDIANS, teachers | guardians, _("Guardians %(name)s") % {"name": school_class.name}),
    ):
        with transaction.atomic():
            conversation = Conversation.objects.filter(school_class=school_class, kind=kind).first()
            if conversation is None:
                conversation = do_create_conversation(
                    None, kind, title, list(Person.objects.filter(id__in=wanted)), school_owned=True,
                    school_class=school_class,
                )
            else:
                _sync_members(conversation, wanted)
        channels.append(conversation)
    return channels[0], channels[1]


def _sync_members(conversation: Conversation, wanted: set[int]) -> None:
    current = set(member_ids(conversation))
    for pid in sorted(wanted - current):
        person = Person.objects.get(pk=pid)
        do_add_member(None, conversation, person)
    for pid in sorted(current - wanted):
        person = Person.objects.get(pk=pid)
        do_remove_member(None, conversation, person)


def sync_existing_class_channels(class_ids: Iterable[int]) -> None:
    """Bring the channels of these classes in line with the roster, where they exist already.

    Called for every change to an enrollment, a teaching assignment or a guardianship, inside the
    transaction that makes it (``messaging.signals``): a guardian who loses parental
    responsibility leaves the guardians' channel with that change, not when a job next runs.
    """
    for school_class in SchoolClass.objects.filter(pk__in=set(class_ids)).select_related("school"):
        if Conversation.objects.filter(school_class=school_class).exists():
            ensure_class_channels(school_class)


def sync_all_class_channels() -> int:
    count = 0
    for school_class in SchoolClass.objects.select_related("school"):
        ensure_class_channels(school_class)
        count += 1
    return count


def check_add_member(actor: Person, conversation_id: int, username: str) -> Membership:
    try:
        conversation = access_conversation(actor, conversation_id)
    except NotFoundOrHidden:
        # R-STAFF-07: a group whose adults are all gone has nobody left inside to add one.
        conversation = access_frozen_group_as_leader(actor, conversation_id)
    person = Person.objects.filter(username=str(username).strip(), is_active=True).first()
    if person is None or hidden_from(actor, [person.pk]):
        raise NotFoundOrHidden(_("Some of the people could not be found."), code="unknown_member")
    current = member_ids(conversation)
    if person.pk in current:
        raise WrongState(_("That person is already a member."), code="already_member")
    context = member_change_context(conversation, [*current, person.pk], person)
    # In a group that lost its adults, any staff member in it may add one (R-STAFF-07).
    context["frozen"] = is_frozen(conversation)
    check("conversation.add_member", actor, conversation, context)
    return do_add_member(actor, conversation, person)


def do_add_member(actor: Person | None, conversation: Conversation, person: Person) -> Membership:
    with transaction.atomic():
        membership, _created = Membership.objects.get_or_create(conversation=conversation, person=person)
        do_audit(actor, "conversation.member_added", conversation, person_id=person.pk)
        recipients = member_ids(conversation)
        emit_only_to_seers(
            et.MEMBER_ADDED,
            recipients,
            person,
            {"conversation_id": conversation.pk, "person_id": person.pk, "username": person.username,
             "by": actor.pk if actor else None},
        )
    return membership


def check_remove_member(actor: Person, conversation_id: int, username: str) -> None:
    """Remove a member (the creator of a group), or leave a group yourself."""
    conversation = access_conversation(actor, conversation_id)
    person = Person.objects.filter(username=str(username).strip()).first()
    current = member_ids(conversation)
    if person is None or person.pk not in current:
        raise NotFoundOrHidden()
    after = [pid for pid in current if pid != person.pk]
    if person.pk == actor.pk and conversation.kind == ConversationKind.GROUP:
        # Leaving asks the policy too: an adult may not leave pupils without the adults R-STAFF-07
        # asks for; the refusal says to add a colleague first.
        check("conversation.leave", actor, conversation, member_change_context(conversation, after, person))
        do_remove_member(actor, conversation, person)
        return
    check("conversation.remove_member", actor, conversation, member_change_context(conversation, after, person))
    do_remove_member(actor, conversation, person)


def do_remove_member(actor: Person | None, conversation: Conversation, person: Person) -> None:
    with transaction.atomic():
        recipients = member_ids(conversation)
        Membership.objects.filter(conversation=conversation, person=person).delete()
        do_audit(actor, "conversation.member_removed", conversation, person_id=person.pk)
        emit_only_to_seers(
            et.MEMBER_REMOVED,
            recipients,
            person,
            {"conversation_id": conversation.pk, "person_id": person.pk, "username": person.username,
             "by": actor.pk if actor else None},
        )


# ---------------------------------------------------------------------------------- messages


@dataclass
class SendResult:
    message: Message
    created: bool
    nudges: list[dict[str, Any]] = field(default_factory=list)


def _validate_body(body: Any) -> str:
    if not isinstance(body, str):
        raise BadInput(_("The message must be text."), code="bad_body")
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise BadInput(_("Write something before sending."), code="empty_body")
    limit = max_body_chars()
    if len(text) > limit:
        raise TooLarge(
            _("The message is too long: at most %(n)d characters.") % {"n": limit}, code="too_large"
        )
    if "\x00" in text:
        raise BadInput(_("The message contains characters that cannot be stored."), code="bad_body")
    return text


def _validate_txn(client_txn_id: Any) -> str:
    if not isinstance(client_txn_id, str) or not client_txn_id.strip() or len(client_txn_id) > MAX_TXN_CHARS:
        raise BadInput(_("A message needs a client_txn_id of 1 to 64 characters."), code="bad_client_txn_id")
    return client_txn_id.strip()


def _reply_target(conversation: Conversation, actor: Person, reply_to_id: int | None) -> Message | None:
    if reply_to_id is None:
        return None
    try:
        target = access_message(actor, int(reply_to_id))
    except (TypeError, ValueError):
        raise BadInput(_("reply_to must be a message id."), code="bad_reply_to") from None
    if target.conversation_id != conversation.pk or target.deleted_at is not None:
        raise NotFoundOrHidden()
    return target


def preview_send(actor: Person, conversation_id: int, body: str, reply_to_id: int | None = None) -> Decision:
    """Return the decision on sending ``body`` (allowed? nudges?) without sending it."""
    conversation = access_conversation(actor, conversation_id)
    check_limit(actor, "preview")
    text = _validate_body(body)
    reply_to = _reply_target(conversation, actor, reply_to_id)
    ids = member_ids(conversation)
    facts = facts_for(ids)
    writer = facts.get(actor.pk) or actor.facts
    context = send_context(conversation, [facts[i] for i in ids if i in facts], text, reply_to is not None, writer)
    if conversation.kind == ConversationKind.GROUP:
        context["frozen"] = is_frozen(conversation)
    # Nothing is written here: a nudged draft that is never sent leaves no trace (issue 14).
    return decide("message.send", writer, conversation, context)


def check_send(
    actor: Person, conversation_id: int, body: Any, client_txn_id: Any, reply_to_id: int | None = None,
    *, sensitive: bool = False,
) -> SendResult:
    """Send a message; a repeated ``client_txn_id`` from the same sender returns the first message.

    ``sensitive`` marks health or family matters: readers then need a step-up to see the text.
    """
    txn = _validate_txn(client_txn_id)
    try:
        conversation, ids, generation, repeat = access_for_sending(actor, conversation_id, txn)
    except NotFoundOrHidden:
        # A repeat is answered before access: the first answer stands for a sender who has left
        # the conversation since, and a txn id used elsewhere is named as such.
        answer = _repeat(actor, txn, conversation_id)
        if answer is None:
            raise
        return answer
    if repeat is not None:
        answer = _repeat(actor, txn, conversation_id, repeat)
        if answer is not None:
            return answer
    text = _validate_body(body)
    # Everything up to the transaction only reads: the generation read with the conversation holds.
    with generation_read_with(generation):
        reply_to = _reply_target(conversation, actor, reply_to_id)
        facts = facts_for(ids)
        # The cached facts, not ``actor.facts``: that would read six tables on every send.
        writer = facts.get(actor.pk) or actor.facts
        members = [facts[i] for i in ids if i in facts]
        context = send_context(conversation, members, text, reply_to is not None, writer)
        if conversation.kind == ConversationKind.GROUP:
            # R-STAFF-07: a staff-run group that lost its adults is read-only until one is added.
            context["frozen"] = is_frozen(conversation, ids)
        decision = check("message.send", writer, conversation, context)
        # Counted once the send is allowed: a repeat of a txn id, a hidden conversation or a refused
        # send uses up none of the allowance.
        check_limit(actor, "message", facts.get(actor.pk))
        # Who may see the sender, read (and cached) from committed rows before the transaction.
        groups = send_audiences(actor, conversation, ids, reply_to)
    try:
        with transaction.atomic():
            message = do_send(actor, conversation, text, txn, ids, reply_to, sensitive=bool(sensitive),
                              show_an_adult=offers_show_an_adult(decision), groups=groups)
            # Issue 14: the signals and the alerts they raise, in the send's transaction; no text.
            record_signals(actor, writer, conversation, message.pk, members, decision)
    except IntegrityError:
        # Two requests with one txn id raced; the loser answers with the winner's message.
        existing = _sent_before(actor, txn)
        if existing is None:
            raise
        return SendResult(existing, False)
    return SendResult(message, True, nudges_of(decision, writer))


def _repeat(actor: Person, txn: str, conversation_id: int, message_id: int | None = None) -> SendResult | None:
    """The answer to a repeated send: the message first sent with ``txn`` (by its id when
    ``access_for_sending`` found it); None if there is none; WrongState if it went elsewhere."""
    existing = _sent_before(actor, txn, message_id)
    if existing is None:
        return None
    if existing.conversation_id != conversation_id:
        raise WrongState(_("This client_txn_id was already used for another conversation."), code="txn_reused")
    return SendResult(existing, False)


def _sent_before(actor: Person, txn: str, message_id: int | None = None) -> Message | None:
    if message_id is None:
        # Asked only when the conversation is hidden or two sends with one id raced: a send
        # learns it from ``access_for_sending``'s statement. The bare id from the unique index, in
        # plain SQL (building the ORM's query cost ten times running it).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {_table(Message)} "  # noqa: S608 - a name
                "WHERE sender_id = %s AND client_txn_id = %s",
                [actor.pk, txn],
            )
            found = cursor.fetchone()
        if found is None:
            return None
        message_id = found[0]
    return Message.objects.select_related("sender").filter(pk=message_id).first()


def _addressed(
    actor: Person, conversation: Conversation, member_id_list: Sequence[int], reply_to: Message | None,
) -> tuple[list[int], Person | None, bool]:
    """Return who a message reaches, whom it is private to (if anyone), and whether it is an
    announcement (a top-level post in a class or guardians' channel)."""
    private_to = None
    is_announcement = False
    if conversation.kind in (ConversationKind.CLASS, ConversationKind.GUARDIANS):
        if reply_to is None:
            is_announcement = True
        elif reply_to.private_to_id is not None:
            # A reply in a private thread stays between its two people.
            private_to = reply_to.sender if reply_to.sender_id != actor.pk else reply_to.private_to
        elif reply_to.is_announcement and not reply_to.discussion_open and reply_to.sender_id != actor.pk:
            # Replies to an announcement go to its author only, unless the author opened it.
            private_to = reply_to.sender
    recipients = list(member_id_list) if private_to is None else sorted({actor.pk, private_to.pk})
    return recipients, private_to, is_announcement


def send_audiences(
    actor: Person, conversation: Conversation, member_id_list: Sequence[int], reply_to: Message | None = None,
) -> list[Audience]:
    """Return who of a message's recipients may see its sender (``audiences``), for ``do_send``.
    Read from committed rows: call it before the send's transaction."""
    recipients, _private_to, _announcement = _addressed(actor, conversation, member_id_list, reply_to)
    return audiences(recipients, [actor.pk])


def do_send(
    actor: Person,
    conversation: Conversation,
    text: str,
    txn: str,
    member_id_list: Sequence[int],
    reply_to: Message | None = None,
    *,
    attachment: Attachment | None = None,
    sensitive: bool = False,
    show_an_adult: bool = False,
    groups: list[Audience] | None = None,
) -> Message:
    """Write a message the rules allowed, with its event. ``groups``: ``send_audiences`` read before
    the transaction, or None to read it here."""
    recipients, private_to, is_announcement = _addressed(actor, conversation, member_id_list, reply_to)
    if groups is None:
        groups = audiences(recipients, [actor.pk])
    now = timezone.now()
    # No savepoint: a failure fails the whole send, whose caller's transaction rolls back whole.
    with transaction.atomic(savepoint=False):
        message = Message(
            conversation=conversation,
            sender=actor,
            body=text,
            client_txn_id=txn,
            created_at=now,
            reply_to=reply_to,
            private_to=private_to,
            is_announcement=is_announcement,
            attachment=attachment,
            sensitive=sensitive,
            show_an_adult=show_an_adult,
        )
        # The statements every message makes, written by hand (trygg.database says why).
        insert_row(message)
        stamp = connection.ops.adapt_datetimefield_value(now)
        # The sender's read marker and the audit record go with the event's stream rows: one
        # statement on PostgreSQL instead of two more round trips (``emit_event``'s ``then``).
        read_up_to = (
            f"UPDATE {_table(Membership)} SET last_read_message_id = %s, last_read_at = %s "  # noqa: S608
            "WHERE conversation_id = %s AND person_id = %s",
            [message.pk, stamp, conversation.pk, actor.pk],
        )
        audited = audit_statement(actor, "message.sent", message, conversation_id=conversation.pk)
        from trygg.notifications.actions import queue_message_notices

        queue_message_notices(conversation, [pid for pid in recipients if pid != actor.pk])
        # The frame's own id is the event id; the message keeps it for repeated sends. The
        # conversation's last_message_at comes last, after the event: on PostgreSQL that update
        # locks the conversation's row until the commit, so every other send into the conversation
        # waits from here on. Made first, it held them through the whole send: five senders in one
        # group queued on it for half their time (py-spy, bench/bench_phases.py a1). The event
        # log's lock (trygg.events.log) already orders this last stretch, where PostgreSQL makes
        # both updates in the stream's own statement.
        event = emit_about(
            et.MESSAGE_NEW, recipients, [actor.pk],
            lambda hidden: {"conversation_id": conversation.pk, "message": serialise_message(message, hidden)},
            owner_id=actor.pk, groups=groups,
            then=lambda event_id: [
                read_up_to, audited,
                (f"UPDATE {_table(Message)} SET event_id = %s WHERE id = %s", [event_id, message.pk]),  # noqa: S608
                (f"UPDATE {_table(Conversation)} SET last_message_at = %s WHERE id = %s",  # noqa: S608 - names
                 [stamp, conversation.pk]),
            ],
        )
        message.event_id = event.pk
    return message


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def emit_message_edited(message: Message) -> None:
    """Tell every reader of the message it changed, the sender named as each may see them."""
    emit_about(
        et.MESSAGE_EDITED, recipients_of(message), [message.sender_id],
        lambda hidden: {"conversation_id": message.conversation_id, "message": serialise_message(message, hidden)},
    )


def recipients_of(message: Message) -> list[int]:
    if message.private_to_id is not None:
        return sorted({message.sender_id, message.private_to_id})
    return member_ids(message.conversation)


@dataclass
class EditResult:
    message: Message
    nudges: list[dict[str, Any]] = field(default_factory=list)


def edit_decision(actor: Person, message: Message, text: str) -> tuple[Decision, Any, list[Any]]:
    """Return the send rules' answer on an edit's new text: edits get the nudges and signals a
    send gets (R-STF-01, R-STAFF-05, issue 14). Only its obligations count; whether the sender may
    edit at all is ``message.edit``'s to say."""
    conversation = message.conversation
    ids = member_ids(conversation)
    facts = facts_for(ids)
    writer = facts.get(actor.pk) or actor.facts
    members = [facts[i] for i in ids if i in facts]
    context = send_context(conversation, members, text, message.reply_to_id is not None, writer)
    if conversation.kind == ConversationKind.GROUP:
        context["frozen"] = is_frozen(conversation)
    return decide("message.send", writer, conversation, context), writer, members


def preview_edit(actor: Person, message_id: int, body: Any) -> Decision:
    """Return the nudges on an edit's new text without saving it (nothing is written)."""
    message = access_message(actor, message_id)
    check("message.edit", actor, message)
    decision, _writer, _members = edit_decision(actor, message, _validate_body(body))
    return decision


def check_edit(actor: Person, message_id: int, body: Any) -> EditResult:
    """Edit your own message. The new text passes the same guards and nudges as a send
    (``message.send``): an edit is no side entrance for what a send would refuse or warn about, and
    it is read for signals as a send is (issue 14)."""
    message = access_message(actor, message_id)
    check("message.edit", actor, message)
    if message.deleted_at is not None:
        raise WrongState(_("A deleted message cannot be edited."), code="deleted")
    text = _validate_body(body)
    decision, writer, members = edit_decision(actor, message, text)
    if not decision.allowed:
        raise PolicyDenied(decision)
    with transaction.atomic():
        if offers_show_an_adult(decision) and not message.show_an_adult:
            message.show_an_adult = True
            message.save(update_fields=["show_an_adult"])
        edited = do_edit(actor, message, text)
        record_signals(actor, writer, message.conversation, message.pk, members, decision, edited=True)
    return EditResult(edited, nudges_of(decision, writer))


def do_edit(actor: Person, message: Message, text: str) -> Message:
    with transaction.atomic():
        message.body = text
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "edited_at"])
        do_audit(actor, "message.edited", message)
        emit_message_edited(message)
    return message


def check_delete(actor: Person, message_id: int) -> Message:
    message = access_message(actor, message_id)
    check("message.delete", actor, message)
    if message.deleted_at is not None:
        return message
    return do_delete(actor, message)


def do_delete(actor: Person | None, message: Message) -> Message:
    """Soft-delete; the text is erased unless a case holds it as evidence (see models.py)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        message.deleted_at = timezone.now()
        fields = ["deleted_at"]
        if not message.legal_hold:
            message.body = ""
            fields.append("body")
        message.save(update_fields=fields)
        scrub_message_events([message.pk])
        if message.attachment_id:
            delete_with_message(message)
        do_audit(actor, "message.deleted", message, kept_as_evidence=message.legal_hold)
        emit_event(
            et.MESSAGE_DELETED,
            recipients_of(message),
            {"conversation_id": message.conversation_id, "message_id": message.pk,
             "deleted_at": message.deleted_at.isoformat()},
        )
    return message


def delete_attachment_file(
    attachment: Attachment, status: str, actor: Person | None, audit_action: str, **detail: Any
) -> None:
    """Delete an attachment's file and mark it ``status``; the file goes once the transaction commits."""
    stored = attachment.stored_name
    attachment.status = status
    attachment.stored_name = ""
    attachment.deleted_at = timezone.now()
    attachment.save(update_fields=["status", "stored_name", "deleted_at"])
    do_audit(actor, audit_action, attachment, conversation_id=attachment.conversation_id, **detail)
    # After the commit: a rollback must not leave a row pointing at a file that is gone.
    transaction.on_commit(lambda: media.remove(stored))


def delete_with_message(message: Message) -> None:
    """A deleted message takes its file with it, unless a case holds it as evidence.

    Runs inside ``do_delete``'s transaction.
    """
    if not message.attachment_id or message.legal_hold:
        return
    attachment = Attachment.objects.select_for_update().filter(pk=message.attachment_id).first()
    if attachment is None or not attachment.has_file:
        return
    delete_attachment_file(attachment, Attachment.Status.DELETED, None, "attachment.deleted_with_message",
                           message_id=message.pk)


def scrub_message_events(message_ids: Sequence[int]) -> int:
    """Erase the text of deleted messages from the event log too, so no resume replays it."""
    events = Event.objects.filter(
        type__in=[et.MESSAGE_NEW, et.MESSAGE_EDITED], payload__message__id__in=list(message_ids)
    )
    scrubbed = []
    for event in events:
        event.payload["message"]["body"] = ""
        event.payload["message"]["deleted"] = True
        if event.payload["message"].get("attachment"):
            event.payload["message"]["attachment"] = None
        event.save(update_fields=["payload"])
        scrubbed.append(event.pk)
    # Every process kept these events' frames, text and all, for the long polls.
    forget_pushes(scrubbed)
    return len(scrubbed)


def purge_expired_messages(now: Any = None) -> int:
    """R-PRIV-03: erase messages older than the municipality's retention period, except evidence.

    The row stays (deleted, without text) so replies and case references keep their ids; the text
    is gone from the message and from the event log.
    """
    from datetime import timedelta

    from trygg.directory.models import Municipality
    from trygg.policy.engine import params_for

    now = now or timezone.now()
    purged = 0
    for municipality_id in [None, *Municipality.objects.values_list("id", flat=True)]:
        days = int(params_for("core_platform.retention", municipality_id).get("message_retention_days") or 0)
        if days <= 0:
            continue
        scope = Message.objects.filter(created_at__lt=now - timedelta(days=days), legal_hold=False)
        scope = scope.exclude(body="", deleted_at__isnull=False)
        if municipality_id is None:
            scope = scope.filter(conversation__school__isnull=True)
        else:
            scope = scope.filter(conversation__school__municipality_id=municipality_id)
        ids = list(scope.values_list("id", flat=True)[:5000])
        if not ids:
            continue
        with transaction.atomic():
            Message.objects.filter(id__in=ids).update(body="", deleted_at=now)
            scrub_message_events(ids)
            for held in Message.objects.filter(id__in=ids, attachment__isnull=False):
                delete_with_message(held)
            do_audit(None, "message.retention_purged", None, count=len(ids), municipality_id=municipality_id)
        purged += len(ids)
    return purged


def do_set_legal_hold(message_ids: Iterable[int], hold: bool = True) -> int:
    """Keep (or release) messages as evidence; for the cases app, inside its report action."""
    return Message.objects.filter(id__in=list(message_ids)).update(legal_hold=hold)


def check_set_discussion(actor: Person, message_id: int, open_: bool) -> Message:
    """The author of an announcement opens it for replies to everyone (or closes it again)."""
    message = access_message(actor, message_id)
    check("message.set_discussion", actor, message)
    if not message.is_announcement:
        raise WrongState(_("Only announcements in a class channel can be opened for discussion."),
                         code="not_announcement")
    with transaction.atomic():
        message.discussion_open = bool(open_)
        message.save(update_fields=["discussion_open"])
        do_audit(actor, "message.discussion_changed", message, open=bool(open_))
        emit_message_edited(message)
    return message


def check_mark_read(actor: Person, conversation_id: int, message_id: int | None = None) -> Membership:
    """Mark the conversation read up to ``message_id`` (default: its newest message)."""
    conversation = access_conversation(actor, conversation_id)
    if message_id is None:
        newest = Message.objects.filter(conversation=conversation).order_by("-id").values_list("id", flat=True).first()
        message_id = newest or 0
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        raise BadInput(_("message_id must be a number."), code="bad_message_id") from None
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(conversation=conversation, person=actor)
        if message_id <= membership.last_read_message_id:
            return membership
        membership.last_read_message_id = message_id
        membership.last_read_at = timezone.now()
        membership.save(update_fields=["last_read_message_id", "last_read_at"])
        # Read state goes to the reader's own devices only: others' reading habits are private.
        emit_event(
            et.CONVERSATION_READ,
            [actor.pk],
            {"conversation_id": conversation.pk, "person_id": actor.pk, "last_read_message_id": message_id},
        )
    return membership


def check_share_with_guardian(actor: Person, conversation_id: int, guardian_username: str) -> ConversationShare:
    """A pupil shows one conversation to a guardian with parental responsibility (audited)."""
    conversation = access_conversation(actor, conversation_id)
    guardian = Person.objects.filter(username=str(guardian_username).strip(), is_active=True).first()
    if guardian is None:
        raise NotFoundOrHidden(_("Some of the people could not be found."), code="unknown_member")
    ids = member_ids(conversation)
    facts = facts_for([*ids, guardian.pk])
    check(
        "conversation.share_with_guardian",
        actor,
        conversation,
        {"members": tuple(facts[i] for i in ids), "guardian": facts[guardian.pk],
         "child_grade": actor.facts.grade},
    )
    with transaction.atomic():
        share, _created = ConversationShare.objects.get_or_create(
            conversation=conversation, pupil=actor, guardian=guardian
        )
        do_audit(actor, "conversation.shared_with_guardian", conversation, guardian_id=guardian.pk)
    return share


__all__ = [
    "max_body_chars",
    "PolicyDenied",
    "check_add_member",
    "check_create_conversation",
    "check_delete",
    "check_edit",
    "check_mark_read",
    "check_remove_member",
    "check_send",
    "check_set_discussion",
    "check_share_with_guardian",
    "do_set_legal_hold",
    "ensure_class_channels",
]
