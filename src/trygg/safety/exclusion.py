"""R-SOC-01: groups made by pupils or guardians that hold most of a class but leave one to three
classmates out are told to the class's contact teacher, once a week, as counts: how many such
groups, how many classmates left out. No names of the groups' members, no text.

A guardian in a group stands for their children: a group of guardians covers the pupils whose
guardians are in it. School-owned conversations and groups made by staff are not counted (class
gatherings already invite all).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from trygg.directory.facts import facts_for
from trygg.directory.models import Enrollment, Guardianship, SchoolClass
from trygg.messaging.models import Conversation, ConversationKind, Membership
from trygg.policy.engine import decide
from trygg.safety.alerts import contact_teachers, raise_alert
from trygg.safety.models import Alert

WEEK = timedelta(days=7)


def excluding_groups(class_pupils: frozenset[int], groups: dict[int, set[int]],
                     children: dict[int, set[int]], left_out_max: int) -> tuple[int, set[int]]:
    """Return how many groups hold more than half of the class but leave out 1..``left_out_max``
    of its pupils, and the pupils they leave out (ids, for counting only)."""
    count = 0
    left_out: set[int] = set()
    for members in groups.values():
        covered = (members | {c for m in members for c in children.get(m, ())}) & class_pupils
        missing = class_pupils - covered
        if len(covered) * 2 > len(class_pupils) and 0 < len(missing) <= left_out_max:
            count += 1
            left_out |= missing
    return count, left_out


def notice_excluding_groups(now: datetime | None = None) -> int:
    """Raise this week's exclusion notices; return how many alerts were raised. A class gets at
    most one notice in seven days, so the job may run as often as the worker likes."""
    now = now or timezone.now()
    pupils_by_class: dict[int, set[int]] = defaultdict(set)
    for pupil_id, class_id in Enrollment.objects.values_list("pupil_id", "school_class_id"):
        pupils_by_class[class_id].add(pupil_id)
    if not pupils_by_class:
        return 0
    group_ids = list(Conversation.objects.filter(
        kind=ConversationKind.GROUP, school_owned=False, created_by__isnull=False,
    ).values_list("id", "created_by_id"))
    creators = facts_for({creator for _gid, creator in group_ids})
    made_by_families = {gid for gid, creator in group_ids
                        if creator in creators and not creators[creator].is_staff_member}
    groups: dict[int, set[int]] = defaultdict(set)
    for conversation_id, person_id in Membership.objects.filter(
        conversation_id__in=made_by_families
    ).values_list("conversation_id", "person_id"):
        groups[conversation_id].add(person_id)
    children: dict[int, set[int]] = defaultdict(set)
    for guardian_id, pupil_id in Guardianship.objects.filter(parental_responsibility=True).values_list(
        "guardian_id", "pupil_id"
    ):
        children[guardian_id].add(pupil_id)
    teachers = contact_teachers(pupils_by_class)
    recent = set(Alert.objects.filter(kind=Alert.Kind.EXCLUSION, created_at__gte=now - WEEK)
                 .values_list("school_class_id", flat=True))
    raised = 0
    classes = {c.pk: c for c in SchoolClass.objects.filter(pk__in=list(pupils_by_class)).select_related("school")}
    teacher_facts = facts_for({t for ids in teachers.values() for t in ids})
    for class_id, pupils in sorted(pupils_by_class.items()):
        to = teachers.get(class_id) or []
        if class_id in recent or not to or class_id not in classes:
            continue
        # The class's own municipality decides whether and how (``left_out_max``) it is noticed.
        decision = decide("safety.exclusion_notice", teacher_facts[to[0]], classes[class_id],
                          {"school_id": classes[class_id].school_id})
        obligations = decision.obligations_of("exclusion_notice")
        if not decision.allowed or not obligations:
            continue
        left_out_max = min(int(ob.data.get("left_out_max") or 3) for ob in obligations)
        count, left_out = excluding_groups(frozenset(pupils), groups, children, left_out_max)
        if not count:
            continue
        raised += len(raise_alert(
            to, kind=Alert.Kind.EXCLUSION, category="exclusion", school_class_id=class_id,
            counts={"groups": count, "left_out": len(left_out)}, rule_id=obligations[0].rule_id,
        ))
    return raised
