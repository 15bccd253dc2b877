"""Models of the meetings app: meetings, who is invited, join tokens, calendars and the talk's notes.

A meeting's link carries a secret key and a generation. "Halt" (R-MEET-18) moves the meeting to
the next generation with a new key: every join token, admission and lobby place of the old one is
void, and the new invitation is sent through the same route as the first. "End" (R-MEET-01) is
final. Join tokens are stored as SHA-256 digests only, like API tokens.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trygg.directory.models import Person, School, SchoolClass


def new_key() -> str:
    return secrets.token_urlsafe(18)


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class MeetingKind(models.TextChoices):
    DEVELOPMENT_TALK = "development_talk", _("Development talk")
    LESSON = "lesson", _("Lesson")
    PARENT_MEETING = "parent_meeting", _("Parent meeting")
    CLASS_GATHERING = "class_gathering", _("Class gathering")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ENDED = "ended", _("Ended")


class Meeting(models.Model):
    kind = models.CharField(max_length=20, choices=MeetingKind.choices)
    status = models.CharField(max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="meetings")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="meetings")
    # The pupil a development talk is about; empty for the other kinds.
    pupil = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="talks")
    organiser = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="organised_meetings")
    # R-MEET-03: the school's own planned meetings are marked as such.
    school_owned = models.BooleanField(default=False)
    title = models.CharField(max_length=200)
    invitation_text = models.TextField(blank=True)
    # The organiser's own agenda; only the organiser sees it (R-MEET-19 warns about health topics).
    agenda = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    link_key = models.CharField(max_length=40, unique=True, default=new_key)
    generation = models.PositiveIntegerField(default=1)
    # R-MEET-13: when the organiser confirmed reading the guidelines out, in this generation.
    guidelines_read_at = models.DateTimeField(null=True, blank=True)
    halted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["school_class", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def ended(self) -> bool:
        return self.status == MeetingStatus.ENDED

    @property
    def link(self) -> str:
        """Return the meeting's current link (a path; the ICS feed makes it absolute)."""
        return f"/meetings/{self.pk}/room/{self.link_key}/"


class InviteRole(models.TextChoices):
    ORGANISER = "organiser", _("Organiser")
    PUPIL = "pupil", _("Pupil")
    GUARDIAN = "guardian", _("Guardian")
    CONTACT_TEACHER = "contact_teacher", _("Contact teacher")
    SUBJECT_TEACHER = "subject_teacher", _("Subject teacher")
    TEACHER = "teacher", _("Teacher")


class Invitation(models.Model):
    """One person who may join: the organiser is invited too. ``admitted_generation`` is the
    generation in which the organiser let them in from the lobby; a halt makes it stale."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="meeting_invitations")
    role = models.CharField(max_length=20, choices=InviteRole.choices)
    admitted_generation = models.PositiveIntegerField(default=0)
    waiting_since = models.DateTimeField(null=True, blank=True)
    waiting_generation = models.PositiveIntegerField(default=0)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="unique_meeting_invitation")]

    def __str__(self) -> str:
        return f"{self.person_id} invited to {self.meeting_id}"

    def state(self, generation: int) -> str:
        if self.removed_at:
            return "removed"
        if self.role == InviteRole.ORGANISER or self.admitted_generation == generation:
            return "admitted"
        if self.waiting_generation == generation and self.waiting_since:
            return "waiting"
        return "invited"


class JoinToken(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="join_tokens")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    generation = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"join token {self.pk} for {self.person_id} in {self.meeting_id}"


class JoinAttempt(models.Model):
    """A refused join (R-MEET-10): the organiser sees who tried; no token or text is kept."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="join_attempts")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"refused join {self.person_id} → {self.meeting_id}"


class CalendarEntry(models.Model):
    """The invitation in one person's Trygg calendar and ICS feed (R-MEET-11)."""

    class Via(models.TextChoices):
        OWN = "own", _("Own calendar")
        PUPIL = "pupil", _("Pupil's calendar")
        GUARDIAN = "guardian", _("Sent to the guardian: the pupil has not opened their calendar")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="calendar_entries")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="calendar_entries")
    via = models.CharField(max_length=10, choices=Via.choices)
    generation = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="unique_calendar_entry")]

    def __str__(self) -> str:
        return f"calendar entry {self.meeting_id} for {self.person_id}"


class CalendarFeed(models.Model):
    """A person's calendar: when they first opened it, and the secret key of their subscribable feed."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="calendar_feed")
    key = models.CharField(max_length=40, unique=True, default=new_key)
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar of {self.person_id}"


class Reflection(models.Model):
    """The pupil's own reflections before a development talk (R-MEET-15); the organiser reads them."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="reflection")
    pupil = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"reflection for {self.meeting_id}"


class MeetingMessage(models.Model):
    """Chat in a meeting of a kind that allows it (never a development talk: R-MEET-17)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="chat_messages")
    sender = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"meeting message {self.pk}"


class RequestAddressee(models.TextChoices):
    CONTACT_TEACHER = "contact_teacher", _("The contact teacher")
    LEADERSHIP = "leadership", _("The school's leadership")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")
    ANSWERED = "answered", _("Answered")


class MeetingRequest(models.Model):
    """A guardian's request for a meeting about their child (R-PAR-01).

    S4 sends challenges in a child's schooling away from social media and to a meeting with the
    staff or leadership, which parents can always ask for. The request goes to a role, not a
    person: every contact teacher of the child's class, or every leader of the school, sees it.
    """

    requester = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="meeting_requests")
    pupil = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="+")
    addressee = models.CharField(max_length=20, choices=RequestAddressee.choices)
    topic = models.TextField()
    preferred_times = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    answered_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True)
    # The meeting the school called in answer, if it called one.
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"meeting request {self.pk} ({self.status})"


class SfuRoom(models.Model):
    """A meeting's room on a Janus server (issue 16), one per generation: a halt or an end destroys it.

    ``janus_room`` is a random 52-bit number and ``secret`` a random string, both made by Trygg: no
    room id can be guessed, and only Trygg can manage the room. Nobody records (R-MEET-16).
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="sfu_rooms")
    generation = models.PositiveIntegerField()
    server_url = models.CharField(max_length=300)
    public_url = models.CharField(max_length=300)
    janus_room = models.BigIntegerField()
    secret = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    # Why it was destroyed: ended, halted, restarted (the Janus server lost it) or unavailable.
    destroyed_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        # One live room per generation; a room its server lost (restart) is replaced by a new one.
        constraints = [models.UniqueConstraint(fields=["meeting", "generation"], condition=Q(destroyed_at__isnull=True),
                                               name="unique_live_sfu_room")]

    def __str__(self) -> str:
        return f"SFU room of meeting {self.meeting_id} (generation {self.generation})"


class SfuGrant(models.Model):
    """A join's credential that Janus accepts: added to the room's ``allowed`` list on admission,
    removed on use, removal, halt, end or expiry. The credential itself is derived from the join
    token's digest with the server's key and never stored."""

    room = models.ForeignKey(SfuRoom, on_delete=models.CASCADE, related_name="grants")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    join_token = models.OneToOneField(JoinToken, on_delete=models.CASCADE, related_name="sfu_grant")
    participant_id = models.BigIntegerField()
    granted_at = models.DateTimeField(default=timezone.now)
    # When Janus first saw the participant: the credential is then taken off the allowed list (one-time).
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"SFU grant {self.pk} for {self.person_id}"
