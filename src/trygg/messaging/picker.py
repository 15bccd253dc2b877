"""The people picker: whom this person may start a conversation with, grouped as people think of
them ("Teachers of 4A", "Guardians of 4A"), searchable.

Only people the policy lets the viewer start a direct conversation with are offered: each
candidate of ``queries.list_contacts`` is put to the same ``conversation.create`` decision the
create action asks, so the list and the refusal can never disagree (a 4A pupil is never offered
a classmate, R-CHAT-02). The decisions are evaluated in memory from cached facts; the database is
read a fixed number of times, not once per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from trygg.directory.facts import facts_for
from trygg.directory.models import Person, PersonFacts, SchoolClass
from trygg.messaging.context import class_pupils
from trygg.messaging.queries import list_contacts
from trygg.policy.engine import decide


@dataclass(frozen=True)
class Contact:
    username: str
    name: str
    role: str  # the word for the person's role, in the reader's language
    class_name: str
    group: str  # the heading the person is listed under
    order: tuple[int, str]


def _may_start(viewer: Person, me: PersonFacts, them: PersonFacts, pupils: dict[int, set[int]]) -> bool:
    # Staff may start school conversations; everybody may start social ones. Either is an offer.
    members = (me, them)
    class_ids = {cid for m in members for cid in m.pupil_class_ids}
    for school_owned in (False, True) if me.is_staff_member else (False,):
        context = {
            "kind": "direct", "members": members, "school_owned": school_owned, "class_id": None,
            "class_grade": None, "class_pupil_ids": {cid: frozenset(pupils.get(cid, ())) for cid in class_ids},
        }
        if decide("conversation.create", viewer, None, context).allowed:
            return True
    return False


def _describe(me: PersonFacts, them: PersonFacts, class_names: dict[int, str]) -> tuple[str, str, str, int]:
    """Return (role word, class name, group heading, group rank) for one candidate."""
    mine = me.pupil_class_ids | me.child_class_ids | me.taught_class_ids

    def first(ids: frozenset[int] | set[int]) -> str:
        shared = sorted(class_names[c] for c in ids & mine if c in class_names)
        return shared[0] if shared else ""

    family = bool(me.roles & {"pupil", "guardian"}) and not me.is_staff_member
    if them.id in me.child_ids:
        return _("your child"), first(them.pupil_class_ids), _("Your children"), 2
    if them.contact_class_ids & mine:
        name = first(them.contact_class_ids)
        return _("contact teacher %(cls)s") % {"cls": name}, name, _("Teachers of %(cls)s") % {"cls": name}, \
            0 if family else 5
    if them.taught_class_ids & mine:
        name = first(them.taught_class_ids)
        return _("teacher %(cls)s") % {"cls": name}, name, _("Teachers of %(cls)s") % {"cls": name}, \
            0 if family else 5
    if "leader" in them.roles:
        return _("school leadership"), "", _("School leadership"), 1 if family else 6
    if them.is_staff_member:
        return _("staff"), "", _("Staff"), 3 if family else 6
    if "pupil" in them.roles:
        name = first(them.pupil_class_ids) or first(frozenset(them.pupil_class_ids | mine))
        return _("pupil %(cls)s") % {"cls": name}, name, _("Pupils of %(cls)s") % {"cls": name}, 4 if family else 2
    if "guardian" in them.roles:
        name = first(them.child_class_ids)
        return _("guardian %(cls)s") % {"cls": name}, name, _("Guardians of %(cls)s") % {"cls": name}, \
            4 if family else 3
    return "", "", _("Others"), 9


def role_of(me: PersonFacts, them: PersonFacts, class_names: dict[int, str]) -> str:
    """Return the word for ``them`` as ``me`` knows them ("contact teacher 4A"), as the picker says it."""
    return _describe(me, them, class_names)[0]


def list_startable_contacts(viewer: Person, q: str = "") -> list[Contact]:
    """Return the people the viewer may start a conversation with, by group, then by name.

    ``q`` keeps those whose name, role or class contains it (case-insensitive). A guardian's and a
    pupil's list starts with their (child's) teachers; a teacher's with the pupils of their classes.
    """
    candidates = list_contacts(viewer)
    facts = facts_for([viewer.pk, *(p.pk for p in candidates)])
    me = facts[viewer.pk]
    pupils = class_pupils({cid for f in facts.values() for cid in f.pupil_class_ids})
    class_names = dict(SchoolClass.objects.values_list("id", "name"))
    needle = " ".join(q.split()).casefold()
    result = []
    for person in candidates:
        them = facts[person.pk]
        if not _may_start(viewer, me, them, pupils):
            continue
        role, class_name, group, rank = _describe(me, them, class_names)
        if needle and needle not in f"{person.name} {role} {class_name}".casefold():
            continue
        result.append(Contact(person.username, person.name, role, class_name, group, (rank, group)))
    return sorted(result, key=lambda c: (c.order, c.name))


def contacts_out(contacts: list[Contact]) -> list[dict[str, Any]]:
    """Return contacts as the API and the page's script read them."""
    return [{"username": c.username, "name": c.name, "role": c.role, "class": c.class_name, "group": c.group,
             "initials": initials(c.name), "colour": colour(c.username)} for c in contacts]


def initials(name: str) -> str:
    """Return up to two initials of a name ("Kari Nordmann" -> "KN"), for an avatar without a photo."""
    parts = [p for p in name.split() if p[:1].isalpha()]
    if not parts:
        return "?"
    return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()


def colour(key: str) -> int:
    """Return one of six avatar colours, the same for a person everywhere."""
    return sum(key.encode()) % 6
