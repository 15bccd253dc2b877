"""Out-of-app notices: the outbox a worker claims, preferences, and class quiet hours.

The outbox is a table, not a queue server: a worker claims a row with
``UPDATE ... SET claimed_at = now WHERE id = ? AND claimed_at IS NULL`` and goes ahead only if
one row changed, so two workers never send the same notice. A crash leaves rows unclaimed or
claimed-but-unsent; stale claims are released after a timeout.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    PUSH = "push", _("Push notice")


class Notice(models.Model):
    """One notice to one person on one channel. ``kind`` picks a neutral text; no message text here."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=40)
    # Ids only, for grouping and links; never names or text (R-STAFF-06).
    conversation_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Held notices (school hours, quiet hours) are due later and are sent as one digest.
    due_at = models.DateTimeField(default=timezone.now)
    held = models.BooleanField(default=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failed = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["sent_at", "due_at"], name="notice_due_idx"),
            models.Index(fields=["conversation_id", "person"], name="notice_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"notice {self.pk} {self.kind} → {self.person_id} ({self.channel})"


class NoticePreference(models.Model):
    """Which out-of-app notices a person wants (privacy by default: e-mail on, SMS off)."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email_messages = models.BooleanField(_("e-mail about new messages"), default=True)
    sms_messages = models.BooleanField(_("text message about new messages"), default=False)
    email_other = models.BooleanField(_("e-mail about meetings and cases"), default=True)
    sms_other = models.BooleanField(_("text message about meetings and cases"), default=False)

    def __str__(self) -> str:
        return f"preferences of {self.person_id}"


class ClassQuietHours(models.Model):
    """Quiet hours a contact teacher set for a class (R-CHAT-05), as a weekly schedule."""

    school_class = models.OneToOneField("directory.SchoolClass", on_delete=models.CASCADE, related_name="+")
    schedule = models.JSONField(default=dict)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"quiet hours of class {self.school_class_id}"


class SchoolDayOff(models.Model):
    """A day without school in a municipality beyond the public holidays: the Easter, winter,
    autumn and summer holidays, planning days. Imported per municipality (``trygg calendar import``)."""

    municipality = models.ForeignKey("directory.Municipality", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "date"], name="unique_school_day_off")]
        ordering = ["municipality", "date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class JobRun(models.Model):
    """When a periodic job (notices, digests, retention, reminders, channel sync) may next run.

    Every runner (the thread beside ``trygg serve``, each ``trygg worker``) claims a due job with
    one conditional update of its row; only the runner whose update changed the row runs it, so a
    job runs once per period however many workers and runners a deployment has.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class PushSubscription(models.Model):
    """One device (browser) a person turned push notices on for (RFC 8030/8291).

    The endpoint is the push service's address for that browser; ``p256dh`` and ``auth`` are the
    browser's keys the payload is encrypted with. The push service answers 404/410 for a
    subscription that is gone, and the row is then removed.
    """

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=120)
    auth = models.CharField(max_length=40)
    # What the person sees in their device list ("Chrome on Android"); never sent anywhere.
    device = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"push device {self.pk} of {self.person_id}"


class PushDelivery(models.Model):
    """One neutral push message to one device: an outbox row a worker claims, retried until it goes.

    ``payload`` is what the service worker shows: a title, a neutral body, a path inside Trygg and
    a count. It never holds names or message text (R-STAFF-06).
    """

    subscription = models.ForeignKey(PushSubscription, on_delete=models.CASCADE, related_name="deliveries")
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failed = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["sent_at", "due_at"], name="push_due_idx")]

    def __str__(self) -> str:
        return f"push {self.pk} → device {self.subscription_id}"
