"""Cases: a report, the people in it, its evidence chain, its checklist and its timeline.

A case is opened by a report (``actions.check_report``). Who is in it is explicit
(``Participant``); only participants with a viewing role (and a municipality admin where the policy
says so) can see it. Evidence items are frozen canonical JSON with a SHA-256 each and a hash chain
across the case, so a changed byte is found by ``trygg cases verify``. The timeline is append-only:
one row per thing that happened, like an order's history in Saleor.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    # The kinds of harassment S4 names (R-CASE-21).
    CRITICISM_OF_STAFF = "criticism_of_staff", _("Criticism of staff")
    ACCUSATIONS_RUMOURS = "accusations_rumours", _("Accusations and rumours")
    EXCESSIVE_COMMENTING = "excessive_commenting", _("Excessive commenting")
    NICKNAMES_THREATS = "nicknames_threats", _("Nicknames and threatening behaviour")
    DELIBERATE_MISREADING = "deliberate_misreading", _("Deliberate misreading")
    INTENT_TO_ANNOY = "intent_to_annoy", _("Intent to annoy")
    RECORDING_WITHOUT_CONSENT = "recording_without_consent", _("Recordings or films shared without consent")
    HATE_GROUP = "hate_group", _("Hate groups")
    # Trygg's own: S0 and S3 name these, and the school's activity duty covers them.
    THREAT_VIOLENCE_STALKING = "threat_violence_stalking", _("Threat of violence or stalking")
    EXCLUSION = "exclusion", _("Exclusion")
    BULLYING = "bullying", _("Bullying")
    TEACHER_CONCERN = "teacher_concern", _("A teacher's concern about a pupil")


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ASSESSED = "assessed", _("Assessed")
    ACTIONS = "actions", _("Actions")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


# The workflow leadership drives; a case moves one step forward at a time.
WORKFLOW = [Status.REPORTED, Status.ASSESSED, Status.ACTIONS, Status.FOLLOW_UP, Status.CLOSED]


class Case(models.Model):
    category = models.CharField(max_length=40, choices=Category.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REPORTED)
    # What the reporter wrote. Shown to the people handling the case, never in a notice.
    description = models.TextField(blank=True)
    school = models.ForeignKey("directory.School", on_delete=models.PROTECT, related_name="+")
    municipality = models.ForeignKey("directory.Municipality", on_delete=models.PROTECT, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The reported message, if any (its snapshot is the first evidence item).
    message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # R-CASE-12: when leadership must have responded (from the policy at report time).
    respond_by = models.DateTimeField(null=True, blank=True)
    # R-CASE-17: contact with the harmed person every ``follow_up_days``; reminders when it passes.
    follow_up_days = models.PositiveSmallIntegerField(null=True, blank=True)
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    # The due time a reminder was last queued for, so one due time gives one reminder.
    reminded_for = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The rules that shaped the case when it was opened (ids), for the record.
    rules = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["school", "status"], name="case_school_status_idx")]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.category}, {self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class Participant(models.Model):
    class Role(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        HARMED = "harmed", _("Harmed person")
        HARMED_GUARDIAN = "harmed_guardian", _("Guardian of the harmed pupil")
        REPORTED = "reported", _("Reported person")
        SUBJECT = "subject", _("Pupil the concern is about")
        TEACHER = "teacher", _("Contact teacher")
        LEADER = "leader", _("Assigned leader")
        UNION_REP = "union_rep", _("Union representative")
        SAFETY_REP = "safety_rep", _("Safety representative")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    # For a harmed person: their (or their guardian's) agreement that the case may close (R-CASE-20).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "person", "role"], name="unique_case_participant")]
        indexes = [models.Index(fields=["person", "case"], name="case_participant_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} as {self.role} in case {self.case_id}"


# Roles that may open the case; the reported person is in the case for the record, not as a viewer:
# what they are told is the leader's conversation with them (R-CASE-15), not the case file. The
# pupil a concern report is about is in it the same way.
VIEWING_ROLES = frozenset({
    Participant.Role.REPORTER, Participant.Role.HARMED, Participant.Role.HARMED_GUARDIAN,
    Participant.Role.LEADER, Participant.Role.UNION_REP, Participant.Role.SAFETY_REP, Participant.Role.TEACHER,
})
# Roles that handle the case and see all of it: checklist, evidence, the full timeline.
HANDLING_ROLES = frozenset({
    Participant.Role.LEADER, Participant.Role.UNION_REP, Participant.Role.SAFETY_REP, Participant.Role.TEACHER,
})


class EvidenceItem(models.Model):
    """One piece of frozen evidence: canonical JSON, its SHA-256, and the chain hash up to it.

    ``canonical`` is stored as text, byte for byte what was hashed (a JSON column would reorder
    keys on PostgreSQL). ``chain_hash = sha256(previous chain_hash + sha256)``, the first item's
    previous hash being 64 zeros. An uploaded file's own SHA-256 is inside its canonical JSON.
    """

    class Kind(models.TextChoices):
        MESSAGE_SNAPSHOT = "message_snapshot", _("Message snapshot")
        UPLOAD = "upload", _("Uploaded file")
        STATEMENT = "statement", _("Statement")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    canonical = models.TextField()
    sha256 = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    # Relative to MEDIA_ROOT, for uploads only.
    file_path = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="unique_evidence_seq")]
        ordering = ["case", "seq"]

    def __str__(self) -> str:
        return f"evidence {self.case_id}/{self.seq} {self.kind}"


class ChecklistStep(models.Model):
    """One action the active packs require for this case, marked done with who and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=60)
    rule_id = models.CharField(max_length=120)
    requirement = models.CharField(max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    needs_reference = models.BooleanField(default=False)
    # E.g. the registration number in the safety system (R-CASE-02) or the police case number.
    reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    # A step that does not apply to this case is settled with a reason instead of being done; a
    # case closes only when every step is settled (R-CASE-10).
    not_applicable_reason = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="unique_case_step")]
        ordering = ["case", "position", "id"]

    def __str__(self) -> str:
        return f"step {self.key} of case {self.case_id}"

    @property
    def is_settled(self) -> bool:
        """Return whether the step is done or marked as not applicable."""
        return self.done_at is not None

    @property
    def not_applicable(self) -> bool:
        return self.done_at is not None and bool(self.not_applicable_reason)


class TimelineEvent(models.Model):
    """An append-only row of a case's history. Rows are written once and never changed."""

    class Type(models.TextChoices):
        REPORTED = "reported", _("Reported")
        EVIDENCE_ADDED = "evidence_added", _("Evidence added")
        STATUS_CHANGED = "status_changed", _("Status changed")
        STEP_DONE = "step_done", _("Checklist step done")
        STEP_REOPENED = "step_reopened", _("Checklist step reopened")
        STEP_NOT_APPLICABLE = "step_not_applicable", _("Checklist step marked as not applicable")
        CONTACT_LOGGED = "contact_logged", _("Contact with the harmed person")
        FOLLOW_UP_SET = "follow_up_set", _("Follow-up interval set")
        REMINDER_QUEUED = "reminder_queued", _("Follow-up reminder sent")
        CONFIRMED = "confirmed", _("Agreed that the case may close")
        CONFIRMATION_WITHDRAWN = "confirmation_withdrawn", _("Agreement withdrawn")
        EXPORTED = "exported", _("Case file exported")
        REOPENED = "reopened", _("Reopened: the harmed side says it is not over")
        FAMILY_MESSAGE_PROPOSED = "family_message_proposed", _("Message to the other family waits for approval")
        FAMILY_MESSAGE_DECIDED = "family_message_decided", _("Message to the other family approved or refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    type = models.CharField(max_length=30, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    # Ids, statuses, step keys; a contact note for the handlers. Never shown in a notice.
    data = models.JSONField(default=dict, blank=True)
    # Reporters and harmed people see status changes and confirmations, not the handling.
    shown_to_reporter = models.BooleanField(default=False)

    class Meta:
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.type} in case {self.case_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("timeline rows are append-only")
        super().save(*args, **kwargs)


class FamilyMessage(models.Model):
    """A message from a harmed child's guardian to the other child's guardians (R-PAR-03).

    The parent never receives the other family's contact details: the message waits for the case's
    leader, and an approved one is delivered in a Trygg conversation the leader is in.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the leader")
        APPROVED = "approved", _("Approved and sent")
        REFUSED = "refused", _("Not sent")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="family_messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The conversation an approved message was delivered in.
    conversation_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return f"family message {self.pk} in case {self.case_id} ({self.state})"
