"""What the policy engine is told about a conversation when someone acts in it.

The rules are pure functions of facts (``policy/rules/chat.py``); these builders gather the facts a
chat action's rules need, in a few queries: the members' facts, the pupils of their classes, and
the first names a nudge may mention (R-STAFF-05, R-SAFE-01).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from trygg.directory.facts import facts_for
from trygg.directory.models import Enrollment, Person, PersonFacts, TeachingAssignment
from trygg.messaging.models import Conversation
from trygg.policy.signals import SignalContext, Signals, classify


def first_name(person: Person) -> str:
    return person.name.split(" ")[0] if person.name else ""


def class_pupils(class_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return the pupil ids of each class."""
    result: dict[int, set[int]] = {}
    for pupil_id, class_id in Enrollment.objects.filter(school_class_id__in=list(class_ids)).values_list(
        "pupil_id", "school_class_id"
    ):
        result.setdefault(class_id, set()).add(pupil_id)
    return result


def names_context(members: Sequence[PersonFacts], kind: str) -> dict[str, Any]:
    """Names the nudges need (R-STAFF-05, R-SAFE-01): the pupils in it, and classmates outside it.

    ``absent_names`` and ``present_names`` are for the text signals (issue 14): the first names of
    the members' classmates (and, for guardians, of their children's classes) and of those classes'
    teachers who are not in the conversation, and the members' own. In a guardians' channel the
    children are all absent, so talk about a child or a teacher who is not there is noticed (S4).
    """
    pupil_ids = [m.id for m in members if "pupil" in m.roles]
    member_ids = {m.id for m in members}
    class_ids = {cid for m in members for cid in m.pupil_class_ids}
    wider = class_ids | {cid for m in members for cid in m.child_class_ids}
    names: dict[str, Any] = {"pupil_names": {}, "outside_names": (), "absent_names": (), "present_names": ()}
    outside: set[int] = set()
    absent: set[int] = set()
    if wider:
        for class_id, pupils in class_pupils(wider).items():
            absent |= pupils
            if kind in ("direct", "group") and class_id in class_ids:
                outside |= pupils
        absent |= set(TeachingAssignment.objects.filter(school_class_id__in=wider).values_list("teacher_id", flat=True))
        outside -= member_ids
        absent -= member_ids
    people = {
        p.pk: first_name(p)
        for p in Person.objects.filter(id__in=member_ids | outside | absent).only("id", "name")
    }
    names["pupil_names"] = {pid: people.get(pid, "") for pid in pupil_ids}
    names["outside_names"] = tuple(sorted({people[pid] for pid in outside if people.get(pid)}))
    names["absent_names"] = tuple(sorted({people[pid] for pid in absent if people.get(pid)}))
    names["present_names"] = tuple(sorted({people[pid] for pid in member_ids if people.get(pid)}))
    return names


def writer_role(actor: PersonFacts) -> str:
    """The classifier's word for the writer: staff, guardian (any other adult) or pupil."""
    if actor.is_staff_member:
        return "staff"
    if "guardian" in actor.roles or actor.is_adult:
        return "guardian"
    return "pupil"


def signals_of(actor: PersonFacts, body: str, names: dict[str, Any]) -> Signals:
    """Classify one message for the safety rules (issue 14); nothing of the text is kept."""
    return classify(body, context=SignalContext(
        absent_names=names.get("absent_names") or (),
        present_names=names.get("present_names") or (),
        writer_role=writer_role(actor),
        language_hint=actor.language if actor.language in ("nb", "da", "en") else None,
    ))


def send_context(
    conversation: Conversation, members: Sequence[PersonFacts], body: str, reply: bool,
    actor: PersonFacts | None = None,
) -> dict[str, Any]:
    """Return what ``message.send`` rules need: the members, the text, the kind, the names and,
    when the writer is given, the text's signals."""
    context: dict[str, Any] = {
        "members": tuple(members),
        "body": body,
        "kind": conversation.kind,
        "school_owned": conversation.school_owned,
        "reply": reply,
    }
    context.update(names_context(members, conversation.kind))
    if actor is not None:
        context["signals"] = signals_of(actor, body, context)
    return context


def create_context(kind: str, members: Sequence[PersonFacts], school_owned: bool) -> dict[str, Any]:
    """Return what ``conversation.create`` rules need: the members and their classes' pupils (R-SOC-01)."""
    class_ids = {cid for m in members for cid in m.pupil_class_ids}
    context: dict[str, Any] = {
        "kind": kind,
        "members": tuple(members),
        "school_owned": school_owned,
        "class_id": None,
        "class_grade": None,
        "class_pupil_ids": {cid: frozenset(ids) for cid, ids in class_pupils(class_ids).items()},
    }
    return context


def member_change_context(conversation: Conversation, after_ids: Iterable[int], person: Person) -> dict[str, Any]:
    """Return what member rules need: the members after the change, and who comes or goes."""
    facts = facts_for(list(after_ids) + [person.pk])
    return {
        "kind": conversation.kind,
        "members": tuple(facts[pid] for pid in after_ids),
        "new_member": facts[person.pk],
        "school_owned": conversation.school_owned,
        "class_id": conversation.school_class_id,
    }
