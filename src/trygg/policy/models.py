"""A municipality's policy configuration: which packs are active and which parameters differ.

Values are checked against the packs' parameter types by ``trygg.policy.actions`` (and the admin,
which calls it); a refused change leaves the stored configuration as it was.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyConfig(models.Model):
    municipality = models.OneToOneField(
        "directory.Municipality", on_delete=models.CASCADE, related_name="policy_config",
        verbose_name=_("municipality"),
    )
    # Pack ids; the core pack is always active whatever this says.
    active_packs = models.JSONField(_("active guideline packs"), default=list, blank=True)
    # {rule id: {parameter: value}}; validated against the pack's parameter types on save.
    overrides = models.JSONField(_("parameter overrides"), default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("policy configuration")
        verbose_name_plural = _("policy configurations")

    def __str__(self) -> str:
        return f"policy for municipality {self.municipality_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _forget(self.municipality_id)

    def school_overrides_map(self) -> dict[int, dict[str, dict[str, Any]]]:
        """Return ``{school id: {rule id: {parameter: value}}}`` for the schools with their own values."""
        return {row.school_id: dict(row.overrides) for row in self.school_policies.all() if row.overrides}

    def snapshot(self) -> dict[str, Any]:
        """Return the configuration as plain data, for the audit record's before/after."""
        return {
            "active_packs": sorted(self.active_packs),
            "overrides": self.overrides,
            "schools": {str(k): v for k, v in sorted(self.school_overrides_map().items())} if self.pk else {},
        }


class SchoolPolicy(models.Model):
    """One school's own parameter values (e.g. its school hours), over the municipality's."""

    config = models.ForeignKey(PolicyConfig, on_delete=models.CASCADE, related_name="school_policies")
    school = models.ForeignKey("directory.School", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("school"))
    # {rule id: {parameter: value}}
    overrides = models.JSONField(_("parameter overrides"), default=dict, blank=True)

    class Meta:
        verbose_name = _("school's own settings")
        verbose_name_plural = _("schools' own settings")
        constraints = [models.UniqueConstraint(fields=["config", "school"], name="unique_school_policy")]

    def __str__(self) -> str:
        return f"policy for school {self.school_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _forget(self.config.municipality_id)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        municipality_id = self.config.municipality_id
        result = super().delete(*args, **kwargs)
        _forget(municipality_id)
        return result


def _forget(municipality_id: int) -> None:
    """Make this process recompile the municipality's policy now and once the change is committed
    (other processes notice within ``engine.CONFIG_TTL_SECONDS``)."""
    from trygg.policy.engine import invalidate

    invalidate(municipality_id)
    transaction.on_commit(lambda: invalidate(municipality_id))


class Acknowledgement(models.Model):
    """R-ACK-01: a pupil or guardian confirmed that they read the guidelines in force.

    ``version`` fingerprints the rule texts the person was shown (see
    ``queries.guidelines_version``): when the active rules change, the fingerprint changes and
    the person is asked again. A guardian may record that they went through them with a child of
    theirs with parental responsibility (``child``); alone, ``child`` is empty.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guideline_acknowledgements",
        verbose_name=_("person"),
    )
    child = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("together with child"),
    )
    version = models.CharField(_("guidelines version"), max_length=64)
    # The packs whose rules were shown, for reading the record later without recomputing the version.
    packs = models.JSONField(_("guideline packs"), default=list)
    rule_count = models.PositiveIntegerField(_("number of rules"), default=0)
    language = models.CharField(_("language"), max_length=2)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)

    class Meta:
        verbose_name = _("guidelines acknowledgement")
        verbose_name_plural = _("guidelines acknowledgements")
        ordering = ["-acknowledged_at", "-id"]
        constraints = [
            # One record per person, version and (child or alone): a repeated confirmation returns it.
            models.UniqueConstraint(
                fields=["person", "version"], condition=models.Q(child__isnull=True),
                name="unique_ack_alone",
            ),
            models.UniqueConstraint(
                fields=["person", "child", "version"], condition=models.Q(child__isnull=False),
                name="unique_ack_with_child",
            ),
        ]

    def __str__(self) -> str:
        return f"guidelines {self.version[:12]} acknowledged by {self.person_id}"
