"""The class list's events: who receives them and what they carry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from pydantic import ValidationError

from tests.classlist.conftest import put_consent
from trygg.classlist.events import CONSENT_CHANGED
from trygg.directory.models import Person
from trygg.events.models import Event
from trygg.events.payloads import validate_payload

pytestmark = pytest.mark.django_db


def test_r_list_02_a_consent_change_is_an_event_to_that_guardian_only(
    api_client: Callable[[str | None], Client], classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """mor.sara's change reaches mor.sara's own stream and nobody else's, not the class or the teacher;
    a request that changes nothing emits nothing."""
    put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", phone=True)
    [event] = Event.objects.filter(type=CONSENT_CHANGED)
    assert list(event.recipients.values_list("person_id", flat=True)) == [person("mor.sara").pk]
    assert event.payload == {"class_id": classes["9B"], "student_username": "sara.9b",
                             "fields": {"student_name": False, "guardian_name": False, "email": False,
                                        "phone": True, "address": False}}
    put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", phone=True)
    assert Event.objects.filter(type=CONSENT_CHANGED).count() == 1


def test_r_list_05_a_refused_consent_emits_nothing(api_client: Callable[[str | None], Client],
                                                  classes: dict[str, int]) -> None:
    """mor.ali's refused attempt leaves no event (the action never reaches its write)."""
    put_consent(api_client("mor.ali"), classes["9B"], "ali.9b", student_name=True)
    assert not Event.objects.filter(type=CONSENT_CHANGED).exists()


def test_the_consent_event_schema_forbids_other_fields() -> None:
    """A payload with a field nobody designed (a phone number, say) is refused before the log (R-LIST-02)."""
    with pytest.raises(ValidationError):
        validate_payload(CONSENT_CHANGED, {"class_id": 1, "student_username": "x", "fields": {}, "phone": "4"})
