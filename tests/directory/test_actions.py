"""Directory actions: who may set protection flags (R-LIST-05, R-STAFF-02)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trygg.audit.models import AuditRecord
from trygg.directory.actions import can_set_protection, check_set_protection
from trygg.directory.models import Enrollment, Municipality, Person, Protection, School, SchoolClass, StaffRole
from trygg.errors import PolicyDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def nordby_leader(demo: Municipality) -> Person:
    school = School.objects.create(municipality=demo, name="Nordby skole")
    klass = SchoolClass.objects.create(school=school, name="3C", grade=3)
    Enrollment.objects.create(pupil=Person.objects.create_user("lise.3c", name="Lise", municipality=demo),
                              school_class=klass)
    leader = Person.objects.create_user("rektor.nordby", name="Nina Nordby", municipality=demo, is_staff=True)
    StaffRole.objects.create(person=leader, kind="leader", school=school, municipality=demo)
    return leader


def test_r_list_05_the_schools_leader_sets_a_flag_and_it_is_audited(person: Callable[[str], Person]) -> None:
    """The leader of Emma's school marks her phone secret; the audit record holds before and after."""
    rektor, emma = person("rektor"), person("emma.4a")
    check_set_protection(rektor, emma, secret_phone=True)
    assert Protection.objects.get(pupil=emma).secret_phone
    record = AuditRecord.objects.get(action="directory.protection_changed", target_id=str(emma.pk))
    assert record.actor == rektor
    assert (record.detail["before"]["secret_phone"], record.detail["after"]["secret_phone"]) == (False, True)


def test_r_list_05_the_municipality_admin_may_set_flags(person: Callable[[str], Person]) -> None:
    """The municipality's administrator may set flags on any pupil of the municipality."""
    check_set_protection(person("admin"), person("sara.9b"), secret_address=True)
    assert Protection.objects.get(pupil__username="sara.9b").secret_address


@pytest.mark.parametrize("username", ["kari.4a", "ola.9b", "tr", "vo", "mor.emma", "emma.4a"])
def test_r_list_05_teachers_representatives_guardians_and_pupils_may_not(
    person: Callable[[str], Person], username: str
) -> None:
    """Anyone but a leader of the pupil's school or an administrator is refused (403, naming the rule), and
    nothing is written."""
    emma = person("emma.4a")
    with pytest.raises(PolicyDenied) as denied:
        check_set_protection(person(username), emma, secret_phone=True)
    assert denied.value.status == 403
    assert denied.value.rule == "core_directory.protection-flags-by-leaders"
    assert denied.value.requirement == "R-LIST-05"
    assert not Protection.objects.filter(pupil=emma).exists()
    assert not can_set_protection(person(username), emma)


def test_r_list_05_a_leader_of_another_school_may_not(person: Callable[[str], Person], nordby_leader: Person) -> None:
    """The leader of Nordby skole cannot change Noah's flags at Solbakken, but can set their own pupil's."""
    noah = person("noah.4a")
    with pytest.raises(PolicyDenied):
        check_set_protection(nordby_leader, noah, address_reveals_circumstances=False)
    assert Protection.objects.get(pupil=noah).address_reveals_circumstances
    check_set_protection(nordby_leader, person("lise.3c"), secret_address=True)
    assert Protection.objects.get(pupil__username="lise.3c").secret_address


def test_an_unknown_flag_is_refused(person: Callable[[str], Person]) -> None:
    """A flag name outside the four of R-LIST-05 is a programming error, refused before anything is written."""
    with pytest.raises(ValueError, match="unknown protection flags"):
        check_set_protection(person("rektor"), person("emma.4a"), secret_shoe_size=True)
