"""Scoped reads of the directory: each takes the viewer and returns only what they may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Municipality,
    Person,
    Protection,
    School,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
)
from trygg.errors import NotFoundOrHidden
from trygg.policy.engine import decide


def list_children(guardian: Person) -> list[Person]:
    """Return the children a guardian has parental responsibility for, by name.

    A guardian without it sees nothing about the child: a parent who lost it may be the person a
    protected address protects the child from.
    """
    return list(
        Person.objects.filter(guardians__guardian=guardian, guardians__parental_responsibility=True).order_by("name")
    )


def list_guardians(pupil: Person) -> list[Person]:
    """Return the guardians with parental responsibility for a pupil, by name."""
    return list(
        Person.objects.filter(guardianships__pupil=pupil, guardianships__parental_responsibility=True, is_active=True)
        .order_by("name")
    )


def list_classes(viewer: Person) -> QuerySet[SchoolClass]:
    """Return the classes the viewer is in, teaches, leads, or has a child in (with parental responsibility)."""
    facts = viewer.facts
    ids = facts.pupil_class_ids | facts.taught_class_ids | facts.child_class_ids
    return (
        SchoolClass.objects.filter(Q(id__in=ids) | Q(school_id__in=facts.led_school_ids))
        .select_related("school")
        .order_by("grade", "name")
    )


def access_class(viewer: Person, class_id: int) -> SchoolClass:
    """Return a class the viewer is related to, or raise ``NotFoundOrHidden``."""
    found = list_classes(viewer).filter(id=class_id).first()
    if found is None:
        raise NotFoundOrHidden()
    return found


def access_class_members(viewer: Person, class_id: int) -> tuple[SchoolClass, list[dict[str, str]]]:
    """Return the class and its pupils and teachers, for its teachers and the school's leaders only."""
    school_class = SchoolClass.objects.select_related("school").filter(id=class_id).first()
    if school_class is None or not decide("directory.view_class_members", viewer, school_class).allowed:
        raise NotFoundOrHidden()
    members: list[dict[str, str]] = []
    for t in TeachingAssignment.objects.filter(school_class=school_class).select_related("teacher"):
        members.append({"username": t.teacher.username, "name": t.teacher.name, "role": f"{t.kind}_teacher"})
    for e in Enrollment.objects.filter(school_class=school_class).select_related("pupil").order_by("pupil__name"):
        members.append({"username": e.pupil.username, "name": e.pupil.name, "role": "pupil"})
    return school_class, members


def get_person_by_username(username: str) -> Person | None:
    return Person.objects.filter(username=username, is_active=True).first()


# --------------------------------------------------------------------------------------------
# The Django admin's view of the directory. A municipality administrator manages their
# municipality; a school leader sees their school; other staff only what Django model
# permissions grant, within the schools they belong to.


def _admin_scope(viewer: Person) -> tuple[frozenset[int], frozenset[int]]:
    """Return (municipality ids managed as a whole, school ids seen) for an admin-site user."""
    facts = viewer.facts
    return facts.admin_municipality_ids, facts.school_ids | facts.led_school_ids


def _people_of_schools(school_ids: frozenset[int]) -> Q:
    pupils = Enrollment.objects.filter(school_class__school_id__in=school_ids).values("pupil_id")
    teachers = TeachingAssignment.objects.filter(school_class__school_id__in=school_ids).values("teacher_id")
    guardians = Guardianship.objects.filter(pupil_id__in=pupils).values("guardian_id")
    staff = StaffRole.objects.filter(school_id__in=school_ids).values("person_id")
    return Q(id__in=pupils) | Q(id__in=teachers) | Q(id__in=guardians) | Q(id__in=staff)


def list_people_of_schools(school_ids: frozenset[int]) -> QuerySet[Person]:
    """Return everyone who belongs to the schools: pupils, their guardians, teachers and staff."""
    return Person.objects.filter(_people_of_schools(school_ids))


def list_admin_objects(viewer: Person, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Return the rows of a directory model's ``queryset`` the viewer may see in the admin."""
    if viewer.is_superuser:
        return queryset
    municipality_ids, school_ids = _admin_scope(viewer)
    model = queryset.model
    if model is Municipality:
        of_schools = School.objects.filter(id__in=school_ids).values("municipality_id")
        scope = Q(id__in=municipality_ids) | Q(id__in=of_schools)
    elif model is School:
        scope = Q(municipality_id__in=municipality_ids) | Q(id__in=school_ids)
    elif model is SchoolClass:
        scope = Q(school__municipality_id__in=municipality_ids) | Q(school_id__in=school_ids)
    elif model is Person:
        scope = Q(municipality_id__in=municipality_ids) | _people_of_schools(school_ids)
    elif model in (Enrollment, TeachingAssignment):
        scope = Q(school_class__school__municipality_id__in=municipality_ids) | Q(
            school_class__school_id__in=school_ids
        )
    elif model is Guardianship:
        pupils = Enrollment.objects.filter(school_class__school_id__in=school_ids).values("pupil_id")
        scope = Q(pupil__municipality_id__in=municipality_ids) | Q(pupil_id__in=pupils)
    elif model is StaffRole:
        scope = Q(municipality_id__in=municipality_ids) | Q(school_id__in=school_ids)
    elif model is Protection:
        return queryset.filter(pupil__in=list_protectable_pupils(viewer))
    else:
        return queryset.none()
    return queryset.filter(scope)


def list_protectable_pupils(viewer: Person) -> QuerySet[Person]:
    """Return the pupils whose protection flags the viewer may see and set (R-LIST-05).

    The queryset twin of the rule ``core_directory.protection-flags-by-leaders``: leaders of the
    pupil's school and the municipality's administrators.
    """
    # No superuser shortcut: the guideline names leaders and administrators, and an operator's
    # superuser account is neither.
    pupils = Person.objects.filter(enrollments__isnull=False)
    facts = viewer.facts
    in_led_schools = Enrollment.objects.filter(school_class__school_id__in=facts.led_school_ids).values("pupil_id")
    return Person.objects.filter(
        Q(id__in=in_led_schools) | Q(id__in=pupils.filter(municipality_id__in=facts.admin_municipality_ids))
    )
