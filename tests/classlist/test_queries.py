"""The queryset twins of the class list rules agree with the policy engine, in the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.classlist.test_api import set_override
from trygg.classlist.models import Consent
from trygg.classlist.queries import shown_consents, visible_classes
from trygg.directory.models import Guardianship, Person, Protection, SchoolClass
from trygg.policy.engine import decide
from trygg.policy.models import PolicyConfig
from trygg.policy.rules.classlist import FIELDS

pytestmark = pytest.mark.django_db


def _disagreements() -> list[tuple[str, str, bool, bool]]:
    problems = []
    classes = list(SchoolClass.objects.select_related("school"))
    for viewer in Person.objects.all():
        visible = set(visible_classes(viewer).values_list("pk", flat=True))
        for school_class in classes:
            allowed = decide("classlist.view", viewer, school_class).allowed
            if allowed != (school_class.pk in visible):
                problems.append((viewer.username, school_class.name, allowed, school_class.pk in visible))
    return problems


def test_r_list_01_the_queryset_twin_agrees_with_the_rule_for_every_demo_person(demo: object) -> None:
    """For every demo account and class, ``visible_classes`` holds exactly the classes the rule allows."""
    assert _disagreements() == []
    assert Person.objects.count() > 100


def test_r_list_01_the_twin_follows_the_subject_teacher_setting(demo: object) -> None:
    """With subject_teachers_see_list on, the twin and the rule both let nils.9b in, and still agree."""
    set_override("oslo.class-list-own-class", subject_teachers_see_list=True)
    assert _disagreements() == []
    assert visible_classes(Person.objects.get(username="nils.9b")).filter(name="9B").exists()


def test_r_list_01_without_the_oslo_pack_nobody_sees_a_list(demo: object) -> None:
    """A municipality that has not chosen the Oslo guideline has no class list: twin and rule agree."""
    config = PolicyConfig.objects.get(municipality__source_id="demo-kommune")
    config.active_packs = [p for p in config.active_packs if p != "oslo"]
    config.save()
    from trygg.policy.engine import invalidate

    invalidate()
    assert not visible_classes(Person.objects.get(username="ola.9b")).exists()
    assert _disagreements() == []


def test_r_list_01_a_guardian_who_loses_parental_responsibility_loses_the_list_and_their_consents_vanish(
    person: Callable[[str], Person],
) -> None:
    """Once mor.sara no longer has parental responsibility, the list is hidden from her and what she
    shared is no longer shown (R-PRIV-01)."""
    mor_sara, sara = person("mor.sara"), person("sara.9b")
    Consent.objects.create(guardian=mor_sara, pupil=sara, field="phone")
    nine_b = SchoolClass.objects.get(name="9B")
    assert shown_consents(nine_b).count() == 1
    Guardianship.objects.filter(guardian=mor_sara, pupil=sara).update(parental_responsibility=False)
    assert not visible_classes(person("mor.sara")).exists()
    assert shown_consents(nine_b).count() == 0


def test_r_list_05_confidential_fields_are_left_out_by_the_database_query(person: Callable[[str], Person]) -> None:
    """Consent rows for protected fields exist but the query returns none of them; the rest it returns."""
    pairs = [("mor.ali", "ali.9b"), ("verge.noah", "noah.4a"), ("mor.sara", "sara.9b")]
    for guardian, pupil in pairs:
        for field in FIELDS:
            Consent.objects.create(guardian=person(guardian), pupil=person(pupil), field=field)
    shown = set()
    for school_class in SchoolClass.objects.all():
        shown |= {(c.pupil.username, c.field) for c in shown_consents(school_class)}
    assert not {f for p, f in shown if p == "ali.9b"}
    assert {f for p, f in shown if p == "noah.4a"} == set(FIELDS) - {"address"}
    assert {f for p, f in shown if p == "sara.9b"} == set(FIELDS)


def test_r_list_05_a_secret_address_hides_the_pupil_and_the_guardians_details(
    person: Callable[[str], Person],
) -> None:
    """When the school marks jonas.9b's address secret, his whole row goes: his name, and his
    guardian's name, e-mail and phone, which would tell who he is (issue 11, item 5)."""
    far_jonas, jonas = person("far.jonas"), person("jonas.9b")
    for field in FIELDS:
        Consent.objects.create(guardian=far_jonas, pupil=jonas, field=field)
    nine_b = SchoolClass.objects.get(name="9B")
    assert {c.field for c in shown_consents(nine_b) if c.pupil_id == jonas.pk} == set(FIELDS)
    Protection.objects.create(pupil=jonas, secret_phone=True)
    assert {c.field for c in shown_consents(nine_b) if c.pupil_id == jonas.pk} == set(FIELDS) - {"phone"}
    Protection.objects.filter(pupil=jonas).update(secret_address=True)
    assert not [c for c in shown_consents(nine_b) if c.pupil_id == jonas.pk]


def test_r_list_05_a_guardians_own_secret_number_hides_only_that_guardians_phone(
    person: Callable[[str], Person],
) -> None:
    """Protection per guardian: far.jonas's secret number leaves his name and Jonas's name on the list."""
    far_jonas, jonas = person("far.jonas"), person("jonas.9b")
    for field in FIELDS:
        Consent.objects.create(guardian=far_jonas, pupil=jonas, field=field)
    Protection.objects.create(pupil=far_jonas, secret_phone=True)
    nine_b = SchoolClass.objects.get(name="9B")
    assert {c.field for c in shown_consents(nine_b) if c.pupil_id == jonas.pk} == set(FIELDS) - {"phone"}
    Protection.objects.filter(pupil=far_jonas).update(secret_address=True)
    assert {c.field for c in shown_consents(nine_b) if c.pupil_id == jonas.pk} == {"student_name"}


def test_r_list_02_a_municipality_can_offer_fewer_fields(api_client: Callable, classes: dict[str, int],
                                                         person: Callable[[str], Person]) -> None:
    """With only names offered, turning on the phone is refused and a phone consent already given is
    no longer shown."""
    from tests.classlist.conftest import put_consent

    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="phone")
    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="student_name")
    set_override("oslo.opt-in-fields", fields=["student_name", "guardian_name"])
    refused = put_consent(api_client("far.jonas"), classes["9B"], "jonas.9b", phone=True)
    assert refused.status_code == 403 and refused.json()["rule"] == "oslo.opt-in-fields"
    body = api_client("far.jonas").get(f"/api/v1/classes/{classes['9B']}/contact-list").json()
    assert body["fields"] == ["student_name", "guardian_name"]
    assert body["rows"] == [{"student_name": "Sara Dahle", "guardians": []}]


def test_r_list_02_a_municipality_offering_no_fields_shows_nothing(
    api_client: Callable, classes: dict[str, int], person: Callable[[str], Person], strong_api_client: Callable
) -> None:
    """An empty list of offered fields means nothing can be turned on or shown, not everything."""
    from tests.classlist.conftest import put_consent

    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="phone")
    set_override("oslo.opt-in-fields", fields=[])
    assert put_consent(api_client("far.jonas"), classes["9B"], "jonas.9b", email=True).status_code == 403
    body = api_client("far.jonas").get(f"/api/v1/classes/{classes['9B']}/contact-list").json()
    assert body["fields"] == [] and body["rows"] == []
    export = strong_api_client("rektor").get(f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=NRK")
    assert export.json()["rows"] == []
