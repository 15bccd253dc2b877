"""Scoped reads of the directory: each takes the viewer and returns only what they may see."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from trygg.directory.facts import facts_for, facts_generation
from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Municipality,
    Person,
    PersonFacts,
    Protection,
    School,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
)
from trygg.errors import NotFoundOrHidden
from trygg.policy.engine import decide

P = TypeVar("P", bound=Person)


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
    """Return the pupils and guardians whose protection flags the viewer may see and set (R-LIST-05).

    The queryset twin of the rule ``core_directory.protection-flags-by-leaders``: leaders of the
    pupil's school (for a guardian: of a child's school) and the municipality's administrators.
    """
    # No superuser shortcut: the guideline names leaders and administrators, and an operator's
    # superuser account is neither.
    pupils = Person.objects.filter(Q(enrollments__isnull=False) | Q(guardianships__isnull=False))
    facts = viewer.facts
    in_led_schools = Enrollment.objects.filter(school_class__school_id__in=facts.led_school_ids).values("pupil_id")
    their_guardians = Guardianship.objects.filter(pupil_id__in=in_led_schools).values("guardian_id")
    return Person.objects.filter(
        Q(id__in=in_led_schools) | Q(id__in=their_guardians)
        | Q(id__in=pupils.filter(municipality_id__in=facts.admin_municipality_ids).values("id"))
    )


# --------------------------------------------------------------------------------------------
# Who may see whom (R-LIST-05, R-PRIV-01). A pupil with a secret address or a strictly
# confidential identity, and a guardian whose own flags say so, is *protected*: absent from
# everything other families see, and so are the guardians of such a pupil (their name, e-mail or
# phone would tell who the child is). Staff of the person's school and the person's own family see
# them. Every list of people in Trygg asks ``hidden_from`` (or one of the helpers built on it), so
# this is the one place that decides.

# The flags that hide the person, not only a field: "where the address is secret, the pupil's
# name is confidential too" (Oslo), and a strictly confidential identity hides everything.
HIDING_FLAGS = ("secret_address", "confidential_identity")


@dataclass(frozen=True)
class Protected:
    """Why a person is protected: the word others see instead of the name, and whether their own
    flags protect them (not only a protected child)."""

    word: str
    own: bool


_protected_lock = threading.Lock()
_protected: tuple[int | None, dict[int, Protected]] | None = None


def protected_people() -> dict[int, Protected]:
    """Return every protected person by id (cached per process, as long as the facts generation).

    Protection flags, enrolments and guardianships all move the facts generation
    (``trygg.directory.facts``), so the cache is never stale after a commit.
    """
    global _protected
    generation = facts_generation()
    with _protected_lock:
        cached = _protected
    if cached is not None and generation is not None and cached[0] == generation:
        return cached[1]
    hiding = Q()
    for flag in HIDING_FLAGS:
        hiding |= Q(**{flag: True})
    flagged = set(Protection.objects.filter(hiding).values_list("pupil_id", flat=True))
    pupils = set(Enrollment.objects.filter(pupil_id__in=flagged).values_list("pupil_id", flat=True))
    result = {pid: Protected("pupil" if pid in pupils else "guardian", True) for pid in flagged}
    for guardian_id in Guardianship.objects.filter(pupil_id__in=pupils).values_list("guardian_id", flat=True):
        result.setdefault(guardian_id, Protected("guardian", False))
    if generation is not None and not connection.in_atomic_block:
        with _protected_lock:
            _protected = (generation, result)
    return result


def _facts_of(viewer: Person | PersonFacts) -> PersonFacts:
    return viewer if isinstance(viewer, PersonFacts) else viewer.facts


def _sees(viewer: PersonFacts, person: PersonFacts, why: Protected) -> bool:
    """Return whether ``viewer`` may know the protected ``person``: staff of their school (or the
    municipality's administrator), and their own family."""
    if viewer.is_staff_member and (
        viewer.school_ids & person.school_ids or person.municipality_id in viewer.admin_municipality_ids
    ):
        return True
    if person.id in viewer.child_ids or viewer.id in person.child_ids:
        return True
    # The other parent of a protected child is the same household; a guardian's own protection
    # may be from the other parent, so it is not shared.
    return not why.own and bool(viewer.child_ids & person.child_ids)


def hidden_from(viewer: Person | PersonFacts, person_ids: Iterable[int]) -> set[int]:
    """Return the ids among ``person_ids`` that ``viewer`` must not see (the one decision)."""
    protected = protected_people()
    viewer_facts = _facts_of(viewer)
    candidates = [pid for pid in dict.fromkeys(person_ids) if pid in protected and pid != viewer_facts.id]
    if not candidates:
        return set()
    facts = facts_for(candidates)
    return {
        pid for pid in candidates
        if pid not in facts or not _sees(viewer_facts, facts[pid], protected[pid])
    }


def person_visible_to(viewer: Person | PersonFacts, person: Person) -> bool:
    """Return whether ``viewer`` may see ``person`` in any list (R-LIST-05)."""
    return not hidden_from(viewer, [person.pk])


def visible_people(viewer: Person | PersonFacts, people: Iterable[P]) -> list[P]:
    """Return ``people`` without those hidden from ``viewer``, in the same order."""
    people = list(people)
    hidden = hidden_from(viewer, [p.pk for p in people])
    return [p for p in people if p.pk not in hidden]


def anonymous_word(person_id: int) -> str:
    """Return what others see instead of a protected person's name: "a pupil" or "a guardian"."""
    why = protected_people().get(person_id)
    return _("a pupil") if why is not None and why.word == "pupil" else _("a guardian")


def display_name(viewer: Person | PersonFacts, person: Person | None) -> str:
    """Return the person's name as ``viewer`` may see it: the name, or "a pupil"/"a guardian"."""
    if person is None:
        return ""
    return anonymous_word(person.pk) if hidden_from(viewer, [person.pk]) else person.name


def person_ref(viewer: Person | PersonFacts, person: Person | None) -> dict[str, Any] | None:
    """Return ``{id, username, name}`` of a person as ``viewer`` may see them.

    A protected person is ``{id: None, username: None, name: "a pupil"}`` for others: nothing
    that would let them be looked up.
    """
    if person is None:
        return None
    if hidden_from(viewer, [person.pk]):
        return {"id": None, "username": None, "name": anonymous_word(person.pk)}
    return {"id": person.pk, "username": person.username, "name": person.name}


@dataclass(frozen=True)
class Audience:
    """Recipients who see the same people: those ``hidden`` from them, in ``language``."""

    ids: list[int]
    hidden: frozenset[int]
    language: str | None


def audiences(recipient_ids: Iterable[int], subject_ids: Iterable[int]) -> list[Audience]:
    """Split recipients of one event by which of ``subject_ids`` they may not see.

    An event is stored once per payload; a payload naming a protected person goes whole to those who
    may see them, and with the person left out (or "a pupil", in the recipient's language) to the rest.
    """
    recipients = list(dict.fromkeys(recipient_ids))
    protected = protected_people()
    subjects = [pid for pid in dict.fromkeys(subject_ids) if pid in protected]
    if not subjects:
        return [Audience(recipients, frozenset(), None)]
    facts = facts_for([*recipients, *subjects])
    groups: dict[tuple[frozenset[int], str | None], list[int]] = {}
    for rid in recipients:
        viewer = facts.get(rid)
        if viewer is None:
            hidden = frozenset(subjects)
        else:
            hidden = frozenset(
                pid for pid in subjects
                if pid != rid and (pid not in facts or not _sees(viewer, facts[pid], protected[pid]))
            )
        language = viewer.language if hidden and viewer is not None else None
        groups.setdefault((hidden, language), []).append(rid)
    return [Audience(ids, hidden, language) for (hidden, language), ids in groups.items()]
