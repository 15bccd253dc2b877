"""The directory in the Django admin: the municipality admin manages it; protection flags only for
leaders of the pupil's school and administrators (issue 2, R-LIST-05, R-STAFF-02)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.test import Client

from tests.conftest import step_up
from trygg.audit.models import AuditRecord
from trygg.directory.actions import login_delay
from trygg.directory.models import (
    Enrollment,
    Municipality,
    Person,
    Protection,
    School,
    SchoolClass,
    StaffRole,
)

pytestmark = pytest.mark.django_db

CHANGELISTS = ["municipality", "school", "schoolclass", "person", "guardianship", "teachingassignment",
               "staffrole", "enrollment", "protection"]
FLAG_FIELD = "secret_phone"


def admin_client(user: Person) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def as_teacher_with_person_rights(person: Callable[[str], Person]) -> Person:
    """Kari, given admin access and the model permissions to view and edit people (e.g. an IT contact)."""
    kari = person("kari.4a")
    kari.is_staff = True
    kari.save(update_fields=["is_staff"])
    kari.user_permissions.add(*Permission.objects.filter(codename__in=["view_person", "change_person"]))
    return Person.objects.get(pk=kari.pk)


@pytest.fixture
def other_leader(demo: Municipality) -> Person:
    """The leader of another school in the same municipality, with a pupil of their own."""
    school = School.objects.create(municipality=demo, name="Nordby skole")
    klass = SchoolClass.objects.create(school=school, name="3C", grade=3)
    pupil = Person.objects.create_user("lise.3c", name="Lise Nordby", municipality=demo)
    Enrollment.objects.create(pupil=pupil, school_class=klass)
    leader = Person.objects.create_user("rektor.nordby", name="Nina Nordby", municipality=demo, is_staff=True)
    StaffRole.objects.create(person=leader, kind="leader", school=school, municipality=demo)
    return leader


def form_data(response: Any) -> dict[str, Any]:
    """Return the POST data a browser would send for an admin change page as rendered."""
    data: dict[str, Any] = {}

    def add(form: Any, prefix: str = "") -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            key = f"{prefix}{name}"
            value = form[name].value()
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form, f"{formset.prefix}-")
        for i, form in enumerate(formset.forms):
            add(form, f"{formset.prefix}-{i}-")
    return data


def protection(username: str) -> Protection:
    return Protection.objects.get(pupil__username=username)


def test_the_municipality_admin_opens_every_directory_changelist(person: Callable[[str], Person]) -> None:
    """The municipality admin can open the list of municipalities, schools, classes, people, guardianships,
    teaching assignments, staff roles, enrolments and protection flags of their municipality."""
    client = step_up(admin_client(person("admin")))
    for model in CHANGELISTS:
        response = client.get(f"/admin/directory/{model}/")
        assert response.status_code == 200, model
    assert "Solbakken skole" in client.get("/admin/directory/school/").content.decode()
    assert "Noah Lien" in client.get("/admin/directory/protection/").content.decode()
    ali_page = client.get(f"/admin/directory/person/{person('ali.9b').pk}/change/").content.decode()
    assert FLAG_FIELD in ali_page and 'name="address"' in ali_page


def test_the_municipality_admin_edits_a_class_and_it_is_audited(person: Callable[[str], Person]) -> None:
    """Saving a class in the admin changes it and writes an audit record naming the changed fields only."""
    client = admin_client(person("admin"))
    klass = SchoolClass.objects.get(source_id="demo-4a")
    url = f"/admin/directory/schoolclass/{klass.pk}/change/"
    data = form_data(client.get(url))
    data["reveals_special_education"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    klass.refresh_from_db()
    assert klass.reveals_special_education
    record = AuditRecord.objects.get(action="directory.admin_changed", target_id=str(klass.pk))
    assert record.detail == {"fields": ["reveals_special_education"]}


def test_r_list_05_a_teacher_cannot_see_protection_flags(person: Callable[[str], Person]) -> None:
    """A teacher with admin access and rights on people sees Noah's page without the flags, his address or
    phone, and the list of protection flags is refused."""
    client = step_up(admin_client(as_teacher_with_person_rights(person)))
    noah = person("noah.4a")
    page = client.get(f"/admin/directory/person/{noah.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Noah Lien" in html
    assert FLAG_FIELD not in html
    assert "address_reveals_circumstances" not in html
    assert "secret phone number" not in html
    assert noah.address not in html
    assert client.get("/admin/directory/protection/").status_code == 403
    assert client.get(f"/admin/directory/protection/{protection('noah.4a').pk}/change/").status_code == 403


def test_r_list_05_a_teacher_without_admin_access_is_sent_to_the_admin_login(person: Callable[[str], Person]) -> None:
    """A plain teacher (no staff flag) does not get into the admin at all."""
    response = admin_client(person("kari.4a")).get("/admin/directory/protection/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_r_list_05_the_leader_sees_and_sets_flags_through_the_action(person: Callable[[str], Person]) -> None:
    """The school's leader sees Noah's flags on his page and sets one; the action's audit record names her."""
    rektor = person("rektor")
    client = step_up(admin_client(rektor))
    noah = person("noah.4a")
    page = client.get(f"/admin/directory/person/{noah.pk}/change/")
    assert page.status_code == 200
    assert FLAG_FIELD in page.content.decode()

    url = f"/admin/directory/protection/{protection('noah.4a').pk}/change/"
    data = form_data(client.get(url))
    assert data["address_reveals_circumstances"] == "on"
    data[FLAG_FIELD] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    flags = protection("noah.4a")
    assert flags.secret_phone and flags.address_reveals_circumstances
    assert flags.updated_by == rektor
    record = AuditRecord.objects.filter(action="directory.protection_changed", actor=rektor).latest("id")
    assert record.detail["after"]["secret_phone"] is True
    assert record.detail["before"]["secret_phone"] is False


def test_r_list_05_the_leader_sets_flags_on_the_persons_page(person: Callable[[str], Person]) -> None:
    """Saving Emma's page with the protection box ticked goes through the action (audit record), and
    nothing else on the page is written past the policy."""
    rektor = person("rektor")
    client = admin_client(rektor)
    emma = person("emma.4a")
    url = f"/admin/directory/person/{emma.pk}/change/"
    data = form_data(client.get(url))
    data[f"protection-0-{FLAG_FIELD}"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert protection("emma.4a").secret_phone
    assert AuditRecord.objects.filter(action="directory.protection_changed", actor=rektor,
                                      target_id=str(emma.pk)).exists()


def test_r_list_05_a_leader_of_another_school_cannot_set_flags(
    person: Callable[[str], Person], other_leader: Person
) -> None:
    """The leader of Nordby skole sees their own pupil's flags but not Noah's (Solbakken), and a POST to
    Noah's flags changes nothing."""
    client = step_up(admin_client(other_leader))
    listing = client.get("/admin/directory/protection/add/")
    assert listing.status_code == 200
    assert "Lise Nordby" in listing.content.decode()
    assert "Noah Lien" not in listing.content.decode()
    noah_flags = protection("noah.4a")
    url = f"/admin/directory/protection/{noah_flags.pk}/change/"
    response = client.post(url, {FLAG_FIELD: "on", "address_reveals_circumstances": "on"})
    assert response.status_code in (302, 403)
    assert "/change/" not in response.get("Location", "")
    assert not protection("noah.4a").secret_phone
    noah = person("noah.4a")
    assert client.get(f"/admin/directory/person/{noah.pk}/change/").status_code == 302  # not in their school
    assert not AuditRecord.objects.filter(action="directory.protection_changed", actor=other_leader).exists()


def test_a_leader_reads_but_does_not_edit_the_directory(person: Callable[[str], Person]) -> None:
    """A school leader may look at the school's classes, but editing the directory is the municipality
    admin's job."""
    client = admin_client(person("rektor"))
    klass = SchoolClass.objects.get(source_id="demo-4a")
    url = f"/admin/directory/schoolclass/{klass.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"school": klass.school_id, "name": "4X", "grade": 4, "school_year": "2026/27"})
    assert response.status_code == 403
    klass.refresh_from_db()
    assert klass.name == "4A"


def test_the_admin_login_is_throttled_like_every_other_sign_in(demo: Municipality) -> None:
    """Wrong passwords for `admin` on /admin/login/ count against the same account as every other sign-in
    (its answers slow down), and the right password still signs in: no lockout through the admin either."""
    client = Client(REMOTE_ADDR="10.0.9.9")
    client.cookies["django_language"] = "en"
    for _ in range(5):
        wrong = client.post("/admin/login/", {"username": "admin", "password": "wrong"})
        assert wrong.status_code == 200
        assert "_auth_user_id" not in client.session
    assert login_delay("admin", "10.0.9.9") > 0
    right = client.post("/admin/login/", {"username": "admin", "password": "demo"})
    assert right.status_code == 302
    assert "_auth_user_id" in client.session


def test_the_municipality_admin_adds_a_class_with_a_grade_from_1_to_10(person: Callable[[str], Person]) -> None:
    """Adding a class in the admin refuses grade 11 on the form and creates grade 5; both are audited only
    when written."""
    client = admin_client(person("admin"))
    school = School.objects.get(source_id="demo-solbakken")
    data = {"school": school.pk, "name": "5C", "grade": 11, "school_year": "2026/27"}
    refused = client.post("/admin/directory/schoolclass/add/", data)
    assert refused.status_code == 200
    assert not SchoolClass.objects.filter(name="5C").exists()
    created = client.post("/admin/directory/schoolclass/add/", {**data, "grade": 5})
    assert created.status_code == 302, created.content.decode()[:2000]
    klass = SchoolClass.objects.get(name="5C")
    assert AuditRecord.objects.filter(action="directory.admin_added", target_id=str(klass.pk)).count() == 1


def test_r_priv_01_the_municipality_admin_sees_nothing_of_another_municipality(
    person: Callable[[str], Person]
) -> None:
    """People, schools and classes of another municipality are not listed, cannot be opened, and cannot be
    chosen in a form."""
    other = Municipality.objects.create(name="Annen kommune")
    school = School.objects.create(municipality=other, name="Fremmed skole")
    klass = SchoolClass.objects.create(school=school, name="7Z", grade=7)
    stranger = Person.objects.create_user("fremmed.7z", name="Frida Fremmed", municipality=other)
    Enrollment.objects.create(pupil=stranger, school_class=klass)
    client = admin_client(person("admin"))
    assert "Frida Fremmed" not in client.get("/admin/directory/person/?q=Frida").content.decode()
    assert "Fremmed skole" not in client.get("/admin/directory/school/").content.decode()
    assert client.get(f"/admin/directory/person/{stranger.pk}/change/").status_code == 302
    add_form = client.get("/admin/directory/schoolclass/add/").content.decode()
    assert "Fremmed skole" not in add_form and "Solbakken skole" in add_form
    moved = client.post("/admin/directory/schoolclass/add/",
                        {"school": school.pk, "name": "8Z", "grade": 8, "school_year": "2026/27"})
    assert moved.status_code == 200
    assert not SchoolClass.objects.filter(name="8Z").exists()


def test_r_list_05_the_leader_sets_a_guardians_own_flags_on_the_persons_page(person: Callable[[str], Person]) -> None:
    """Protection per guardian (issue 11, item 5): far.emma's secret number is set on his own page,
    through the action with its policy check and audit record, like a pupil's; a teacher cannot."""
    rektor = person("rektor")
    client = admin_client(rektor)
    far_emma = person("far.emma")
    url = f"/admin/directory/person/{far_emma.pk}/change/"
    data = form_data(client.get(url))
    data[f"protection-0-{FLAG_FIELD}"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert protection("far.emma").secret_phone
    assert AuditRecord.objects.filter(action="directory.protection_changed", actor=rektor,
                                      target_id=str(far_emma.pk)).exists()
    listed = step_up(admin_client(rektor)).get("/admin/directory/protection/add/").content.decode()
    assert f'value="{person("mor.emma").pk}"' in listed
    teacher = step_up(admin_client(as_teacher_with_person_rights(person)))
    assert FLAG_FIELD not in teacher.get(url).content.decode()
