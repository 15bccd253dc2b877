"""The class contact list: consents per guardian, child and field, and their append-only history.

A ``Consent`` row exists while a guardian shares one field for one child; withdrawing deletes it.
Every change also appends a ``ConsentChange`` with the notice text the guardian was shown, in the
language shown (R-LIST-06), so the consent can be proven after it is withdrawn. Reminders and
access-request exports are rows too: the reminder's rate limit and the export's "who and when"
read them.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ContactField(models.TextChoices):
    STUDENT_NAME = "student_name", _("Pupil's name")
    GUARDIAN_NAME = "guardian_name", _("Guardian's name")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    ADDRESS = "address", _("Address")


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are history: bulk updates and deletes are refused."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{self.model.__name__} is append-only")

    def delete(self) -> NoReturn:
        raise TypeError(f"{self.model.__name__} is append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is append-only")


class Consent(models.Model):
    """A guardian shares one field for one child (R-LIST-02). No row: not shared."""

    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=20, choices=ContactField.choices)
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guardian", "pupil", "field"], name="unique_classlist_consent"),
        ]
        indexes = [models.Index(fields=["pupil", "field"], name="classlist_consent_pupil_idx")]

    def __str__(self) -> str:
        return f"consent {self.guardian_id}/{self.pupil_id}/{self.field}"


class ConsentChange(AppendOnlyModel):
    """One field turned on or off, with the exact notice shown and its language (R-LIST-06)."""

    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey("directory.SchoolClass", on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=20, choices=ContactField.choices)
    given = models.BooleanField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    notice_text = models.TextField()
    notice_language = models.CharField(max_length=5)
    # The policy rule whose text the notice is, so the rulebook can show where it came from.
    notice_rule = models.CharField(max_length=100)
    # "api" or "page": where the guardian made the change.
    via = models.CharField(max_length=10)
    # The version of the notice the guardian accepted (R-LIST-04); empty with an empty text when
    # no notice was shown (turning a field off needs none).
    notice_version = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{'on' if self.given else 'off'} {self.field} {self.guardian_id}/{self.pupil_id}"


class NoticeAcceptance(AppendOnlyModel):
    """A guardian's acceptance of one version of the public-records notice (R-LIST-04), with the
    text and language really shown. Turning a field on needs an acceptance of the current version."""

    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.CharField(max_length=64)
    text = models.TextField()
    language = models.CharField(max_length=5)
    rule = models.CharField(max_length=100)
    accepted_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10)

    class Meta:
        ordering = ["accepted_at", "id"]
        indexes = [models.Index(fields=["guardian", "version"], name="classlist_notice_idx")]

    def __str__(self) -> str:
        return f"notice {self.version} accepted by {self.guardian_id}"


class Reminder(AppendOnlyModel):
    """A neutral reminder about the list from the contact teacher to every guardian (R-LIST-03)."""

    school_class = models.ForeignKey("directory.SchoolClass", on_delete=models.CASCADE, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    recipients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"reminder for class {self.school_class_id} at {self.sent_at:%Y-%m-%d}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PRINT = "print", _("Printable page")
    JSON = "json", "JSON"


class AccessRequestExport(AppendOnlyModel):
    """The list as handed out after an access request: who exported it, when, and for whom (R-LIST-04)."""

    school_class = models.ForeignKey("directory.SchoolClass", on_delete=models.CASCADE, related_name="+")
    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+")
    exported_at = models.DateTimeField(default=timezone.now)
    # Who asked for access (a newspaper, a company, a parent), as the leader wrote it.
    requester = models.CharField(max_length=200)
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    rows = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"export of class {self.school_class_id} at {self.exported_at:%Y-%m-%d %H:%M}"
