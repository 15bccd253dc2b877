"""What the policy engine is told about a conversation when someone acts in it.

The rules are pure functions of facts (``policy/rules/chat.py``); these builders gather the facts a
chat action's rules need, in a few queries: the members' facts, the pupils of their classes, and
the first names a nudge may mention (R-STAFF-05, R-SAFE-01).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from trygg.directory.facts import facts_for, generation_cached
from trygg.directory.models import Enrollment, Person, PersonFacts, TeachingAssignment
from trygg.directory.queries import hidden_from
from trygg.messaging.models import Conversation
from trygg.policy.signals import SignalContext, Signals, classify


def first_name(person: Person) -> str:
    return person.name.split(" ")[0] if person.name else ""


def class_pupils(class_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return the active pupil ids of each class."""
    result: dict[int, set[int]] = {}
    # Active pupils only: a deactivated classmate is not someone a group leaves out (R-SOC-01).
    for pupil_id, class_id in Enrollment.objects.filter(school_class_id__in=list(class_ids),
                                                        pupil__is_active=True).values_list(
        "pupil_id", "school_class_id"
    ):
        result.setdefault(class_id, set()).add(pupil_id)
    return result


def names_context(members: Sequence[PersonFacts], kind: str, writer: PersonFacts | None = None) -> dict[str, Any]:
    """Names the nudges need (R-STAFF-05, R-SAFE-01): the pupils in it, and classmates outside it.

    ``absent_names`` and ``present_names`` are for the text signals (issue 14): the first names of
    the members' classmates (and, for guardians, of their children's classes) and of those classes'
    teachers who are not in the conversation, and the members' own. In a guardians' channel the
    children are all absent, so talk about a child or a teacher who is not there is noticed (S4).

    People hidden from the ``writer`` (R-LIST-05) are left out: a nudge naming them would tell the
    writer they exist.

    Cached per process while the facts generation holds (every table read here moves it): this
    was a fifth of a message's CPU, and a class channel's names are the same on every message.
    """
    key = ("names", kind, tuple(sorted(m.id for m in members)), writer.id if writer is not None else None)
    names = generation_cached(key, lambda: _names_context(members, kind, writer))
    return {**names, "pupil_names": dict(names["pupil_names"])}


def _names_context(members: Sequence[PersonFacts], kind: str, writer: PersonFacts | None) -> dict[str, Any]:
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
        if writer is not None:
            hidden = hidden_from(writer, outside | absent)
            outside -= hidden
            absent -= hidden
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
    writer: PersonFacts | None = None,
) -> dict[str, Any]:
    """Return what ``message.send`` rules need: the members, the text, the kind, the names (as the
    ``writer`` may know them) and, when the writer is given, the text's signals."""
    context: dict[str, Any] = {
        "members": tuple(members),
        "body": body,
        "kind": conversation.kind,
        "school_owned": conversation.school_owned,
        "reply": reply,
    }
    context.update(names_context(members, conversation.kind, writer))
    if writer is not None:
        context["signals"] = signals_of(writer, body, context)
    return context


def create_context(kind: str, members: Sequence[PersonFacts], school_owned: bool) -> dict[str, Any]:
    """Return what ``conversation.create`` rules need: the members (the creator first) and their
    classes' pupils (R-SOC-01), without those hidden from the creator (R-LIST-05): "someone is left
    out" must not count a classmate the creator cannot see."""
    class_ids = {cid for m in members for cid in m.pupil_class_ids}
    pupils_of = class_pupils(class_ids)
    if members:
        hidden = hidden_from(members[0], {pid for ids in pupils_of.values() for pid in ids})
        pupils_of = {cid: ids - hidden for cid, ids in pupils_of.items()}
    context: dict[str, Any] = {
        "kind": kind,
        "members": tuple(members),
        "school_owned": school_owned,
        "class_id": None,
        "class_grade": None,
        "class_pupil_ids": {cid: frozenset(ids) for cid, ids in pupils_of.items()},
    }
    return context


def member_change_context(conversation: Conversation, after_ids: Iterable[int], person: Person) -> dict[str, Any]:
    """Return what member rules need: the members after the change, and who comes or goes."""
    # Deactivated members are not there for anyone: they count as neither pupils nor adults.
    after_ids = list(Person.objects.filter(pk__in=list(after_ids), is_active=True).values_list("pk", flat=True))
    creator_id = conversation.created_by_id
    facts = facts_for(after_ids + [person.pk] + ([creator_id] if creator_id else []))
    return {
        "kind": conversation.kind,
        "members": tuple(facts[pid] for pid in after_ids),
        # The person who comes or, for leaving and removing, goes.
        "new_member": facts[person.pk],
        "creator": facts.get(creator_id) if creator_id else None,
        "school_owned": conversation.school_owned,
        "class_id": conversation.school_class_id,
    }
