"""Class channels follow the roster in the same transaction as the change (issue 12 §1).

Every route that changes who is in a class or who has parental responsibility (the admin, the
roster import, the API, a shell) saves or deletes an ``Enrollment``, ``TeachingAssignment`` or
``Guardianship``; these receivers bring the class's existing channels up to date at once. The
periodic job stays as a safety net for changes that bypass model signals (``QuerySet.update``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from trygg.directory.models import Enrollment, Guardianship, TeachingAssignment
from trygg.messaging.actions import sync_existing_class_channels


@receiver(post_save, sender=Enrollment)
@receiver(post_delete, sender=Enrollment)
@receiver(post_save, sender=TeachingAssignment)
@receiver(post_delete, sender=TeachingAssignment)
def class_roster_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _cascaded(sender, kwargs):
        return
    sync_existing_class_channels([instance.school_class_id])


@receiver(post_save, sender=Guardianship)
@receiver(post_delete, sender=Guardianship)
def guardianship_changed(sender: Any, instance: Guardianship, **kwargs: Any) -> None:
    if _cascaded(sender, kwargs):
        return
    sync_existing_class_channels(
        Enrollment.objects.filter(pupil_id=instance.pupil_id).values_list("school_class_id", flat=True))


def _cascaded(sender: Any, kwargs: dict[str, Any]) -> bool:
    # A row deleted because its class or person went: their memberships go with them by cascade.
    origin = kwargs.get("origin")
    if origin is None:
        return False
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return model is not sender
