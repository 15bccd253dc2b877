"""Messaging models: conversations, members, messages and attachments.

Evidence and deletion (decided here, relied on by the cases app):

* Deleting a message is a soft delete: ``deleted_at`` is set and every scoped read shows it as
  "deleted" without its text. The stored ``body`` is blanked at deletion, so a deleted message is
  really gone, *unless* ``legal_hold`` is set. The text is also erased from the payloads in
  the event log (``actions.scrub_message_events``), so no resume replays it.
* Retention (R-PRIV-03, ``actions.purge_expired_messages``, hourly job): messages older than the
  municipality's ``core_platform.retention`` period lose their text the same way, except held ones.
* ``legal_hold`` is set by the cases app (``trygg.messaging.actions.do_set_legal_hold``) on the
  reported message and its neighbours (``queries.neighbours``) when a report is made; cases check
  that the reporter can see the message with ``queries.access_message(viewer, message_id)``.
  A held message keeps its ``body`` in the database after deletion (still hidden from every chat
  read), and retention skips it: what a case holds as evidence is kept (R-SAFE-02).
* Cases should still freeze their own copy of the text at report time (a snapshot): a hold keeps
  the row, a snapshot keeps what the reporter saw, even if the sender edits it afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConversationKind(models.TextChoices):
    DIRECT = "direct", _("Direct")
    GROUP = "group", _("Group")
    CLASS = "class", _("Class channel")
    GUARDIANS = "guardians", _("Guardians' channel")


class Conversation(models.Model):
    """A direct chat, a closed group, or a class's channel (pupils) / guardians' channel."""

    kind = models.CharField(max_length=10, choices=ConversationKind.choices)
    title = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # R-CHAT-04 / R-CHAT-01: a school conversation is the school's responsibility; others are social.
    school_owned = models.BooleanField(default=False)
    school = models.ForeignKey(
        "directory.School", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    school_class = models.ForeignKey(
        "directory.SchoolClass", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # "min:max" person ids of a direct chat, so two people have one direct conversation.
    direct_key = models.CharField(max_length=40, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school_class", "kind"],
                condition=models.Q(kind__in=["class", "guardians"]),
                name="one_channel_per_class_and_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} {self.title}"

    @property
    def social(self) -> bool:
        return not self.school_owned


class Membership(models.Model):
    """A member of a conversation and how far they have read."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    # Both indexed as the first column of the constraint and the index below.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="memberships",
                                     db_index=False)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
                               db_index=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_message_id = models.BigIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "person"], name="unique_membership")]
        indexes = [models.Index(fields=["person", "conversation"], name="membership_person_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.conversation_id}"


class Message(models.Model):
    # Indexed as the first column of message_conv_idx and unique_sender_txn.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages",
                                     db_index=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    body = models.TextField(blank=True)
    # Send idempotency (design rule 3): a repeated id from the same sender returns the first message.
    client_txn_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # In a class channel, a reply to an announcement not opened for discussion goes to its author only.
    private_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    is_announcement = models.BooleanField(default=False)
    discussion_open = models.BooleanField(default=False)
    # Set by the cases app: evidence is kept even if the message is deleted (see the module docstring).
    legal_hold = models.BooleanField(default=False)
    # Health or family matters (issue 17): the text stays out of frames, previews, notices and
    # search, and a reader sees it only after a recent strong sign-in (signin.stepup).
    sensitive = models.BooleanField(default=False)
    # Issue 14 (R-PUP-02): the message read as a threat, so its receivers are offered "show an adult"
    # at once. A flag only; what was noticed is in the safety app, without the text.
    show_an_adult = models.BooleanField(default=False)
    # The message.new event, so a repeated send answers with the same event id.
    event_id = models.BigIntegerField(null=True, blank=True)
    # A photo, sound or video; the message exists only once the attachment may be seen.
    attachment = models.OneToOneField(
        "Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="message"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender", "client_txn_id"], name="unique_sender_txn"),
        ]
        indexes = [models.Index(fields=["conversation", "id"], name="message_conv_idx")]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.conversation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ConversationShare(models.Model):
    """A pupil showed one conversation to a guardian (R-CHAT-03); audited when made."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shares")
    pupil = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "pupil", "guardian"], name="unique_share")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} shared by {self.pupil_id} with {self.guardian_id}"


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("Photo")
    AUDIO = "audio", _("Sound")
    VIDEO = "video", _("Video")


class Attachment(models.Model):
    """A photo, or a short sound or video, sent to a conversation (R-PAR-02, R-STF-02, R-PUP-01).

    An attachment is held (``PENDING``) while anyone in it has not given permission, or while a
    pupil's upload to a school conversation waits for a teacher's agreement. Only when nothing
    is outstanding is its ``Message`` created, so the other members never see a held one: not
    even that it exists. A refusal deletes the file. A pupil's upload (``pupil_media``) is
    deleted after use by the hourly job, unless its message is held as evidence by a case.
    The file lives under ``MEDIA_ROOT/attachments/`` with a random name and is served only by a
    view that checks access.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for permission")
        VISIBLE = "visible", _("Shared")
        REFUSED = "refused", _("Refused")
        DELETED = "deleted", _("Deleted")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(default=0)
    # Random, relative to MEDIA_ROOT; blank once the file is deleted.
    stored_name = models.CharField(max_length=120, blank=True)
    caption = models.TextField(blank=True)
    client_txn_id = models.CharField(max_length=64, blank=True)
    reply_to = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    nobody_identifiable = models.BooleanField(default=False)
    # R-PUP-01: a pupil's upload to a school conversation waits for a teacher of it.
    needs_agreement = models.BooleanField(default=False)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    # R-PUP-01: deleted after use (the municipality's number of days after it was shared).
    pupil_media = models.BooleanField(default=False)
    # The rules that fired on upload, so the page and the audit say why it is held.
    rules = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["uploader", "client_txn_id"],
                condition=~models.Q(client_txn_id=""),
                name="unique_attachment_txn",
            )
        ]
        indexes = [models.Index(fields=["status", "pupil_media"], name="attachment_status_idx")]

    def __str__(self) -> str:
        return f"attachment {self.pk} in {self.conversation_id} ({self.status})"

    @property
    def has_file(self) -> bool:
        return bool(self.stored_name) and self.status in (self.Status.PENDING, self.Status.VISIBLE)


class AttachmentPermission(models.Model):
    """One person in an attachment, and their permission (R-PAR-02, R-STF-02).

    ``deciders`` are who may answer for them: the person, or for a pupil below the municipality's
    grade the guardians with parental responsibility. Who answered, and when, is kept.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="permissions")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    deciders = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    rules = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attachment", "person"], name="unique_attachment_person")
        ]

    def __str__(self) -> str:
        return f"permission of {self.person_id} for {self.attachment_id}: {self.status}"
