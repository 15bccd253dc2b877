"""Actions for chat attachments: upload, permission from the people in it, a teacher's agreement,
release as a message, and deletion after use (R-PAR-02, R-STF-02, R-PUP-01).

An action module under its own name, as ``actions.py`` is for messages: every function here that
changes state asks the policy first, writes in one transaction, appends its events and audits. It
builds on ``actions`` (a released attachment is sent as a message; a file goes with its message),
never the other way round.

Each asks the policy (``policy/rules/media.py``), writes in one transaction, appends its events
and writes the audit record (ids only). The upload's decision carries obligations, and they, not
this module, say who must give permission, whether a teacher must agree and whether the file is
deleted after use: the rules stay the one place that knows.

Files are written before the transaction and removed if it rolls back; deletions of files run
after the commit, so a rolled-back refusal never loses a file the database still points to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.directory.facts import facts_for
from trygg.directory.models import Guardianship, Person, PersonFacts
from trygg.errors import BadInput, NotFoundOrHidden, TooLarge, WrongState
from trygg.events.log import emit_event
from trygg.messaging import events as et
from trygg.messaging import media
from trygg.messaging.actions import delete_attachment_file, do_send, emit_message_edited
from trygg.messaging.context import send_context
from trygg.messaging.models import Attachment, AttachmentPermission, Conversation, Message
from trygg.messaging.queries import (
    access_attachment,
    access_conversation,
    access_message,
    list_contacts,
    member_ids,
)
from trygg.messaging.serialise import serialise_attachment
from trygg.policy.engine import Decision, check, decide, params_for
from trygg.policy.limits import check_limit
from trygg.safety.alerts import offers_show_an_adult, record_signals

log = logging.getLogger(__name__)

MAX_CAPTION_CHARS = 1000
MAX_PICTURED = 60
PUPIL_MEDIA_RULE = "dk_policy.pupil-media-agreed"
TRUE_WORDS = ("1", "true", "on", "yes")


# ---------------------------------------------------------------------------------- upload


def _parse_usernames(values: Iterable[Any]) -> list[str]:
    names: list[str] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part and part not in names:
                names.append(part)
    return names


def parse_flag(value: Any) -> bool:
    return str(value or "").strip().lower() in TRUE_WORDS


def _pictured_people(actor: Person, conversation: Conversation, usernames: Sequence[str]) -> list[Person]:
    """Return the people chosen as being in it: members of the conversation or people the sender
    can find in the directory. Anyone else answers like an unknown name, so nothing leaks."""
    if len(usernames) > MAX_PICTURED:
        raise BadInput(_("Choose at most %(n)d people.") % {"n": MAX_PICTURED}, code="too_many_pictured")
    members = set(member_ids(conversation))
    allowed = members | {p.pk for p in list_contacts(actor)} | {actor.pk}
    people = list(Person.objects.filter(username__in=usernames, is_active=True))
    if len(people) != len(usernames) or any(p.pk not in allowed for p in people):
        raise NotFoundOrHidden(_("Some of the people could not be found."), code="unknown_member")
    return people


def _guardians_of(pupil_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    result: dict[int, set[int]] = {}
    for pupil_id, guardian_id in Guardianship.objects.filter(
        pupil_id__in=list(pupil_ids), parental_responsibility=True
    ).values_list("pupil_id", "guardian_id"):
        result.setdefault(pupil_id, set()).add(guardian_id)
    return {k: frozenset(v) for k, v in result.items()}


def _facts(person_ids: Iterable[int]) -> dict[int, PersonFacts]:
    return facts_for(person_ids)


def check_upload(
    actor: Person,
    conversation_id: int,
    upload: Any,
    pictured_usernames: Iterable[Any] = (),
    nobody_identifiable: bool = False,
    caption: str = "",
    client_txn_id: str = "",
    reply_to_id: int | None = None,
) -> tuple[Attachment, bool]:
    """Receive a photo, sound or video for a conversation; return (attachment, created).

    The sender names the people in it (or says nobody can be recognised). The policy decides
    whose permission is needed and whether a teacher must agree first; until then it is held.
    A repeated ``client_txn_id`` returns the first attachment.
    """
    txn = str(client_txn_id or "").strip()
    if len(txn) > 64:
        raise BadInput(_("client_txn_id is at most 64 characters."), code="bad_client_txn_id")
    if txn:
        existing = Attachment.objects.filter(uploader=actor, client_txn_id=txn).first()
        if existing is not None:
            if existing.conversation_id != conversation_id:
                raise WrongState(_("This client_txn_id was already used for another conversation."),
                                 code="txn_reused")
            return existing, False
    conversation = access_conversation(actor, conversation_id)
    check_limit(actor, "upload")
    if upload is None:
        raise BadInput(_("Choose a file to send."), code="no_file")
    limit = media.max_bytes()
    if upload.size > limit:
        raise TooLarge(_("The file is too large: at most %(n)d MB.") % {"n": max(1, limit // (1024 * 1024))},
                       code="too_large")
    if upload.size == 0:
        raise BadInput(_("The file is empty."), code="empty_file")
    upload.seek(0)
    sniffed = media.sniff(upload.read(media.HEAD_BYTES))
    if sniffed is None:
        raise BadInput(_("Only photos (PNG, JPEG, WebP) and short sound or video clips can be sent."),
                       code="bad_file_type")
    caption = str(caption or "").replace("\r\n", "\n").strip()
    if len(caption) > MAX_CAPTION_CHARS:
        raise TooLarge(_("The text is too long: at most %(n)d characters.") % {"n": MAX_CAPTION_CHARS},
                       code="too_large")
    if "\x00" in caption:
        raise BadInput(_("The message contains characters that cannot be stored."), code="bad_body")
    usernames = _parse_usernames(pictured_usernames)
    if bool(usernames) == bool(nobody_identifiable):
        raise BadInput(_("Choose who is in it, or confirm that nobody can be recognised."), code="bad_pictured")
    reply_to = None
    if reply_to_id is not None:
        reply_to = access_message(actor, reply_to_id)
        if reply_to.conversation_id != conversation.pk or reply_to.deleted_at is not None:
            raise NotFoundOrHidden()
    people = _pictured_people(actor, conversation, usernames) if usernames else []
    ids = member_ids(conversation)
    facts = _facts({*ids, actor.pk, *(p.pk for p in people)})
    pictured = tuple(facts[p.pk] for p in people)
    # The send rules (R-CHAT-01: in a class channel staff post, others reply) bind attachments too.
    check("message.send", facts[actor.pk], conversation, {
        "members": tuple(facts[i] for i in ids), "body": caption, "kind": conversation.kind,
        "school_owned": conversation.school_owned, "reply": reply_to is not None,
    })
    decision = check("attachment.upload", facts[actor.pk], conversation, {
        "members": tuple(facts[i] for i in ids),
        "pictured": pictured,
        "guardians": _guardians_of(p.id for p in pictured),
        "nobody_identifiable": bool(nobody_identifiable),
        "school_owned": conversation.school_owned,
        "kind": sniffed.kind,
    })
    if sniffed.kind == "image":
        upload.seek(0)
        try:
            content = media.reencode_image(upload.read(), sniffed.content_type)
        except media.ImageRefused as exc:
            if exc.reason == "too_large":
                raise TooLarge(_("The photo has too many pixels. Send a smaller picture."),
                               code="too_many_pixels") from None
            raise BadInput(_("The photo could not be read."), code="bad_file") from None
        stored_name, size = media.store_bytes(content)
    else:
        stored_name, size = media.store(upload)
    try:
        attachment = do_upload(actor, conversation, decision, sniffed, stored_name, size, caption, txn,
                               bool(nobody_identifiable), reply_to)
    except IntegrityError:
        media.remove(stored_name)
        existing = Attachment.objects.filter(uploader=actor, client_txn_id=txn).first() if txn else None
        if existing is None:
            raise
        return existing, False
    except BaseException:
        media.remove(stored_name)
        raise
    return attachment, True


def do_upload(
    actor: Person,
    conversation: Conversation,
    decision: Decision,
    sniffed: media.Sniffed,
    stored_name: str,
    size: int,
    caption: str,
    txn: str,
    nobody_identifiable: bool,
    reply_to: Message | None,
) -> Attachment:
    """Record an uploaded file and what the decision obliges; release it at once if nothing is owed."""
    needed: dict[int, dict[str, Any]] = {}
    for ob in decision.obligations_of("permission"):
        entry = needed.setdefault(int(ob.data["person_id"]), {"deciders": set(), "rules": []})
        entry["deciders"] |= set(ob.data["deciders"])
        if ob.rule_id not in entry["rules"]:
            entry["rules"].append(ob.rule_id)
    agreement = decision.obligations_of("teacher_agreement")
    pupil_media = bool(decision.obligations_of("delete_after_use"))
    with transaction.atomic():
        attachment = Attachment.objects.create(
            conversation=conversation,
            uploader=actor,
            kind=sniffed.kind,
            content_type=sniffed.content_type,
            size=size,
            stored_name=stored_name,
            caption=caption,
            client_txn_id=txn,
            reply_to=reply_to,
            nobody_identifiable=nobody_identifiable,
            needs_agreement=bool(agreement),
            pupil_media=pupil_media,
            rules=decision.rule_ids,
        )
        for person_id, entry in needed.items():
            permission = AttachmentPermission.objects.create(
                attachment=attachment, person_id=person_id, rules=entry["rules"]
            )
            permission.deciders.set(sorted(entry["deciders"]))
        do_audit(actor, "attachment.uploaded", attachment, conversation_id=conversation.pk, kind=sniffed.kind,
                 pictured_ids=sorted(needed), rules=decision.rule_ids, needs_agreement=bool(agreement))
        if not needed and not agreement:
            _release(attachment)
        else:
            teachers = {t for ob in agreement for t in ob.data.get("teacher_ids", ())}
            _request_decisions(attachment, needed, teachers)
    return attachment


def _request_decisions(attachment: Attachment, needed: dict[int, dict[str, Any]], teachers: set[int]) -> None:
    """Tell everyone who must answer (the people the rules named): an event each, and a neutral
    notice out of the app."""
    from trygg.notifications.actions import queue_notice

    deciders = sorted({d for entry in needed.values() for d in entry["deciders"]})
    for person_id, entry in needed.items():
        emit_event(et.ATTACHMENT_PERMISSION_REQUESTED, sorted(entry["deciders"]),
                   {"attachment_id": attachment.pk, "conversation_id": attachment.conversation_id,
                    "person_id": person_id})
    for person_id in sorted(set(deciders) | teachers):
        if person_id != attachment.uploader_id:
            queue_notice(person_id, "attachment_permission")
    _emit_updated(attachment)


def _teachers_to_agree(attachment: Attachment) -> list[int]:
    ids = member_ids(attachment.conversation)
    facts = _facts(ids)
    return sorted(i for i in ids if i in facts and facts[i].is_staff_member and i != attachment.uploader_id)


def _concerned_ids(attachment: Attachment) -> list[int]:
    """The uploader, everyone in it and everyone who answers for them, and teachers asked to agree."""
    ids = {attachment.uploader_id}
    for permission in attachment.permissions.prefetch_related("deciders"):
        ids.add(permission.person_id)
        ids |= {p.pk for p in permission.deciders.all()}
    if attachment.needs_agreement:
        ids |= set(_teachers_to_agree(attachment))
    return sorted(ids)


def _emit_updated(attachment: Attachment) -> None:
    """Send each person concerned the attachment as they may see it."""
    people = {p.pk: p for p in Person.objects.filter(id__in=_concerned_ids(attachment))}
    for person_id in sorted(people):
        emit_event(et.ATTACHMENT_UPDATED, [person_id], {
            "conversation_id": attachment.conversation_id,
            "attachment": serialise_attachment(attachment, people[person_id]),
        })


def _release(attachment: Attachment) -> None:
    """Nothing is owed any more: post the attachment as its sender's message to the conversation.

    A sender who has left the conversation meanwhile cannot post; the file is deleted instead.
    """
    conversation = attachment.conversation
    ids = member_ids(conversation)
    if attachment.uploader_id not in ids:
        delete_attachment_file(attachment, Attachment.Status.DELETED, None, "attachment.withdrawn")
        return
    reply_to = attachment.reply_to if attachment.reply_to and attachment.reply_to.deleted_at is None else None
    attachment.status = Attachment.Status.VISIBLE
    attachment.released_at = timezone.now()
    attachment.save(update_fields=["status", "released_at"])
    decision, writer, members = _caption_signals(attachment, conversation, ids, reply_to is not None)
    message = do_send(attachment.uploader, conversation, attachment.caption, f"attachment-{attachment.pk}", ids,
                      reply_to, attachment=attachment,
                      show_an_adult=decision is not None and offers_show_an_adult(decision))
    if decision is not None:
        # A caption is read as a message's text is (issue 14), once it is posted.
        record_signals(attachment.uploader, writer, conversation, message.pk, members, decision)
    do_audit(None, "attachment.released", attachment, conversation_id=conversation.pk)


def _caption_signals(
    attachment: Attachment, conversation: Conversation, ids: Sequence[int], reply: bool,
) -> tuple[Decision | None, Any, list[Any]]:
    """Return the send rules' answer on a caption (None without one), the writer's and members' facts."""
    if not attachment.caption.strip():
        return None, None, []
    facts = facts_for(ids)
    writer = facts.get(attachment.uploader_id) or attachment.uploader.facts
    members = [facts[i] for i in ids if i in facts]
    context = send_context(conversation, members, attachment.caption, reply, writer)
    return decide("message.send", writer, conversation, context), writer, members


# ---------------------------------------------------------------------------------- decisions


def _locked(attachment_id: int) -> Attachment:
    return Attachment.objects.select_for_update().select_related("conversation", "uploader").get(pk=attachment_id)


def check_decide(actor: Person, attachment_id: int, grant: bool, person_username: str | None = None) -> Attachment:
    """Give or refuse permission for someone in an attachment (yourself, or a child you answer for).

    A refusal deletes the file at once. When the last permission is given (and a teacher has
    agreed, where one must), the attachment is posted to the conversation.
    """
    attachment = access_attachment(actor, attachment_id)
    permissions = list(
        AttachmentPermission.objects.filter(attachment=attachment, deciders=actor).select_related("person")
    )
    if person_username:
        permissions = [p for p in permissions if p.person.username == person_username]
    if not permissions:
        raise NotFoundOrHidden()
    facts = _facts({actor.pk, *(p.person_id for p in permissions)})
    guardians = _guardians_of(p.person_id for p in permissions)
    action = "attachment.grant" if grant else "attachment.refuse"
    for permission in permissions:
        check(action, facts[actor.pk], attachment,
              {"person": facts[permission.person_id], "guardians": guardians.get(permission.person_id, frozenset())})
    with transaction.atomic():
        attachment = _locked(attachment.pk)
        if attachment.status != Attachment.Status.PENDING:
            raise WrongState(_("This has already been decided."), code="already_decided")
        now = timezone.now()
        for permission in permissions:
            updated = AttachmentPermission.objects.filter(
                pk=permission.pk, status=AttachmentPermission.Status.PENDING
            ).update(
                status=AttachmentPermission.Status.GRANTED if grant else AttachmentPermission.Status.REFUSED,
                decided_by=actor, decided_at=now,
            )
            if updated:
                do_audit(actor, "attachment.permission_granted" if grant else "attachment.permission_refused",
                         attachment, person_id=permission.person_id, rules=permission.rules)
        if not grant:
            delete_attachment_file(attachment, Attachment.Status.REFUSED, actor, "attachment.deleted_on_refusal")
            _emit_updated(attachment)
        else:
            _release_if_ready(attachment)
    return attachment


def _release_if_ready(attachment: Attachment) -> None:
    outstanding = attachment.permissions.filter(status=AttachmentPermission.Status.PENDING).exists()
    if not outstanding and (not attachment.needs_agreement or attachment.agreed_at is not None):
        _release(attachment)
    _emit_updated(attachment)


def check_agree(actor: Person, attachment_id: int, agree: bool) -> Attachment:
    """R-PUP-01: a teacher of the conversation agrees to a pupil's photo, video or sound, or not.

    Not agreeing deletes the file, like a refusal.
    """
    attachment = access_attachment(actor, attachment_id)
    if not attachment.needs_agreement:
        raise NotFoundOrHidden()
    ids = member_ids(attachment.conversation)
    facts = _facts({*ids, actor.pk, attachment.uploader_id})
    check("attachment.agree", facts[actor.pk], attachment, {
        "members": tuple(facts[i] for i in ids if i in facts), "uploader": facts[attachment.uploader_id],
        "agree": bool(agree),
    })
    with transaction.atomic():
        attachment = _locked(attachment.pk)
        if attachment.status != Attachment.Status.PENDING or attachment.agreed_at is not None:
            raise WrongState(_("This has already been decided."), code="already_decided")
        if not agree:
            delete_attachment_file(attachment, Attachment.Status.REFUSED, actor, "attachment.teacher_refused")
            _emit_updated(attachment)
            return attachment
        attachment.agreed_by = actor
        attachment.agreed_at = timezone.now()
        attachment.save(update_fields=["agreed_by", "agreed_at"])
        do_audit(actor, "attachment.teacher_agreed", attachment, conversation_id=attachment.conversation_id)
        _release_if_ready(attachment)
    return attachment


def check_withdraw(actor: Person, attachment_id: int) -> Attachment:
    """The sender takes back an attachment that is still waiting; the file is deleted."""
    attachment = access_attachment(actor, attachment_id)
    if attachment.uploader_id != actor.pk:
        raise NotFoundOrHidden()
    with transaction.atomic():
        attachment = _locked(attachment.pk)
        if attachment.status != Attachment.Status.PENDING:
            raise WrongState(_("Only an attachment that is still waiting can be withdrawn."), code="not_pending")
        delete_attachment_file(attachment, Attachment.Status.DELETED, actor, "attachment.withdrawn")
        _emit_updated(attachment)
    return attachment


# ---------------------------------------------------------------------------------- deletion


def purge_used_pupil_media(now: Any = None) -> int:
    """R-PUP-01: delete pupils' photos, video and sound the municipality's number of days after
    they were shared (held ones count from the upload), except what a case holds as evidence.

    The message stays and says the attachment was deleted after use.
    """
    from datetime import timedelta

    from trygg.directory.models import Municipality

    now = now or timezone.now()
    deleted = 0
    for municipality_id in [None, *Municipality.objects.values_list("id", flat=True)]:
        days = int(params_for(PUPIL_MEDIA_RULE, municipality_id).get("delete_after_days") or 1)
        cutoff = now - timedelta(days=days)
        scope = (
            Attachment.objects.filter(pupil_media=True, status__in=[Attachment.Status.PENDING,
                                                                    Attachment.Status.VISIBLE])
            .filter(Q(released_at__lt=cutoff) | Q(released_at__isnull=True, created_at__lt=cutoff))
            .exclude(message__legal_hold=True)
        )
        if municipality_id is None:
            scope = scope.filter(uploader__municipality__isnull=True)
        else:
            scope = scope.filter(uploader__municipality_id=municipality_id)
        for attachment_id in list(scope.values_list("id", flat=True)[:1000]):
            deleted += _delete_file_of(attachment_id, "attachment.deleted_after_use", municipality_id)
    return deleted


def _delete_file_of(attachment_id: int, audit_action: str, municipality_id: int | None) -> bool:
    """Delete one attachment's file (not under a legal hold) and tell its readers, in one transaction;
    return whether a file was deleted."""
    with transaction.atomic():
        attachment = _locked(attachment_id)
        if not attachment.has_file:
            return False
        message = Message.objects.select_related("sender").filter(attachment=attachment).first()
        if message is not None and message.legal_hold:
            return False
        delete_attachment_file(attachment, Attachment.Status.DELETED, None, audit_action,
                               municipality_id=municipality_id)
        if message is not None:
            message.attachment = attachment
            emit_message_edited(message)
        else:
            _emit_updated(attachment)
    return True


RETENTION_RULE = "core_platform.retention"
RETENTION_BATCH = 1000


def expired_media(now: Any = None) -> list[tuple[int | None, list[int]]]:
    """Return, per municipality, the ids of files older than ``media_retention_days`` that no case
    holds as evidence (R-PRIV-03), one batch each."""
    from datetime import timedelta

    from trygg.directory.models import Municipality

    now = now or timezone.now()
    found: list[tuple[int | None, list[int]]] = []
    for municipality_id in [None, *Municipality.objects.values_list("id", flat=True)]:
        days = int(params_for(RETENTION_RULE, municipality_id).get("media_retention_days") or 0)
        if days <= 0:
            continue
        scope = (
            Attachment.objects.filter(created_at__lt=now - timedelta(days=days))
            .exclude(status__in=[Attachment.Status.DELETED, Attachment.Status.REFUSED])
            .exclude(stored_name="")
            .exclude(message__legal_hold=True)
        )
        if municipality_id is None:
            scope = scope.filter(uploader__municipality__isnull=True)
        else:
            scope = scope.filter(uploader__municipality_id=municipality_id)
        ids = list(scope.order_by("id").values_list("id", flat=True)[:RETENTION_BATCH])
        if ids:
            found.append((municipality_id, ids))
    return found


def purge_expired_media(now: Any = None) -> int:
    """R-PRIV-03: delete files older than the municipality's ``media_retention_days``, except
    evidence; the message stays and says the file was deleted."""
    deleted = 0
    for municipality_id, ids in expired_media(now):
        for attachment_id in ids:
            deleted += _delete_file_of(attachment_id, "attachment.retention_purged", municipality_id)
    return deleted
