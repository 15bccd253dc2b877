"""Signals noticed in sent messages and the alerts they raise. Ids, categories and counts only:
nothing here holds message text or a draft (a nudged text that is never sent leaves no row)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SignalRecord(models.Model):
    """One sent (or edited) message held categories the active rules watch: who, where, when, which."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation_id = models.BigIntegerField()
    message_id = models.BigIntegerField()
    categories = models.JSONField(default=list)
    edited = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["person", "created_at"], name="safety_signal_person_idx")]

    def __str__(self) -> str:
        return f"signals {self.categories} by {self.person_id} in {self.conversation_id}"


class Alert(models.Model):
    """An in-app alert to one member of staff. Category, the writing pupil, which conversation, when
    and counts; never the text (R-SAFE-02: the text reaches staff only through a report)."""

    class Kind(models.TextChoices):
        SIGNAL = "signal", _("A message")
        REPEATED = "repeated", _("Repeated signals this week")
        EXCLUSION = "exclusion", _("Groups that leave classmates out")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    category = models.CharField(max_length=20)
    # The writing pupil (None for a class's exclusion notice).
    pupil = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="+")
    conversation_id = models.BigIntegerField(null=True, blank=True)
    conversation_kind = models.CharField(max_length=10, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    school_class_id = models.BigIntegerField(null=True, blank=True)
    # The people a threat was written to (ids), so a case made from the alert names them as harmed.
    receiver_ids = models.JSONField(default=list, blank=True)
    # Aggregated alerts: {category: count} or {"groups": n, "left_out": n}; no names, no text.
    counts = models.JSONField(default=dict, blank=True)
    rule_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="safety_alert_recipient_idx"),
            models.Index(fields=["pupil", "kind", "created_at"], name="safety_alert_pupil_idx"),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} {self.kind}/{self.category} → {self.recipient_id}"
