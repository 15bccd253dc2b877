"""A case in the words of the family that reported it: a pupil of nine or her grandmother.

Handlers read the workflow's own terms (category, status, checklist). The reporter's side reads
what it chose, where the case stands and what comes next in plain sentences (R-PUP-02, R-I18N-01),
and never a rule id, a requirement ID or a raw status value.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from trygg.cases.models import WORKFLOW, Case, Category, Participant, Status, TimelineEvent
from trygg.directory.models import Person

# The young pupil's own choices in the report dialog (the same words as there), and the rest of
# the categories said as a child would say them, should a guardian's case reach her.
CHILD_CATEGORY: dict[str, Any] = {
    Category.BULLYING: _("Someone was mean to me"),
    Category.EXCLUSION: _("Someone left me out"),
    Category.NICKNAMES_THREATS: _("Someone called me names"),
    Category.THREAT_VIOLENCE_STALKING: _("Someone threatened me"),
}
# For an adult of the family: the category said as a sentence, not as a heading from the law.
FAMILY_CATEGORY: dict[str, Any] = {
    Category.BULLYING: _("Someone was mean, again and again"),
    Category.EXCLUSION: _("Someone was left out"),
    Category.NICKNAMES_THREATS: _("Someone was called names or treated in a threatening way"),
    Category.THREAT_VIOLENCE_STALKING: _("Someone was threatened, hurt or followed"),
    Category.ACCUSATIONS_RUMOURS: _("Someone spread lies or rumours"),
    Category.RECORDING_WITHOUT_CONSENT: _("Pictures or films were shared without asking"),
    Category.HATE_GROUP: _("Someone was targeted by a group that spreads hate"),
}

# Each step of the case, short, for the row of steps at the top of the page.
STEP: dict[str, Any] = {
    Status.REPORTED: _("Told the school"),
    Status.ASSESSED: _("Finding out"),
    Status.ACTIONS: _("Making it stop"),
    Status.FOLLOW_UP: _("Checking it has stopped"),
    Status.CLOSED: _("Over"),
}
# Where the case stands, in a sentence.
NOW: dict[str, Any] = {
    Status.REPORTED: _("The school has got what you told. An adult reads it soon."),
    Status.ASSESSED: _("The school is finding out what happened."),
    Status.ACTIONS: _("The school is doing things so that it stops."),
    Status.FOLLOW_UP: _("The adults are checking with you that it has stopped."),
    Status.CLOSED: _("The case is over."),
}
# What comes next, in a sentence.
NEXT: dict[str, Any] = {
    Status.REPORTED: _("Next, an adult at school finds out what happened. They will talk with you."),
    Status.ASSESSED: _("Next, the school decides what to do so that it stops."),
    Status.ACTIONS: _("Next, the adults check with you that it has stopped."),
    Status.FOLLOW_UP: _("When it is over for you, say so below. The school closes the case only then."),
    Status.CLOSED: _("If it starts again, tell an adult, or open the case again below."),
}
# The adults who handle the case, by their part in it.
HANDLER_ROLE: dict[str, Any] = {
    Participant.Role.LEADER: _("school leader"),
    Participant.Role.TEACHER: _("contact teacher"),
    Participant.Role.UNION_REP: _("union representative"),
    Participant.Role.SAFETY_REP: _("safety representative"),
}
# The kind of a reported message's conversation, as the evidence block names it.
CONVERSATION_KIND: dict[str, Any] = {
    "direct": _("Direct conversation"),
    "group": _("Group"),
    "class": _("Class channel"),
    "guardians": _("Guardians' channel"),
}
FAMILY_TIMELINE: dict[str, Any] = {
    TimelineEvent.Type.REPORTED: _("The school got the report"),
    TimelineEvent.Type.CONFIRMED: _("Said that it is over"),
    TimelineEvent.Type.CONFIRMATION_WITHDRAWN: _("Said that it is not over after all"),
    TimelineEvent.Type.REOPENED: _("Opened again: it is not over"),
}


def category_words(case: Case, child: bool) -> str:
    """Return what was reported as the reader would say it; a child's own words if she is one."""
    if child and case.category in CHILD_CATEGORY:
        return str(CHILD_CATEGORY[case.category])
    return str(FAMILY_CATEGORY.get(case.category) or Category(case.category).label)


def steps(case: Case) -> list[dict[str, Any]]:
    """Return the case's steps in plain words, those passed and the current one marked."""
    position = WORKFLOW.index(Status(case.status))
    return [{"value": s.value, "label": str(STEP[s]), "current": i == position,
             "done": i < position or case.status == Status.CLOSED} for i, s in enumerate(WORKFLOW)]


def timeline_words(row: TimelineEvent) -> str:
    """Return one timeline row as a sentence; a status change names the new step, never its code."""
    if row.type == TimelineEvent.Type.STATUS_CHANGED:
        after = row.data.get("after")
        if after in STEP:
            return str(_("Now: %(step)s") % {"step": STEP[after]})
    return str(FAMILY_TIMELINE.get(row.type) or TimelineEvent.Type(row.type).label)


def who_talks(case: Case) -> list[dict[str, str]]:
    """Return the adults handling the case (name and part), never a person the case is about.

    A reported teacher or representative is kept out of the handling already (conflict of
    interest); the check here keeps a reported person off the family's page whatever the packs say.
    """
    rows = list(case.participants.filter(role__in=list(HANDLER_ROLE)).select_related("person")
                .order_by("role", "person__name"))
    reported = set(case.participants.filter(
        role__in=[Participant.Role.REPORTED, Participant.Role.SUBJECT]).values_list("person_id", flat=True))
    seen: set[int] = set()
    out = []
    order = list(HANDLER_ROLE)
    for p in sorted(rows, key=lambda p: order.index(p.role)):
        if p.person_id in reported or p.person_id in seen:
            continue
        seen.add(p.person_id)
        out.append({"name": p.person.name, "role": str(HANDLER_ROLE[p.role])})
    return out


def family_view(viewer: Person, case: Case, rows: list[TimelineEvent]) -> dict[str, Any]:
    """Return what the reporter's side reads on the case page."""
    child = "pupil" in viewer.facts.roles
    reporter = case.reporter
    # A guardian reading the case her child reported sees the words the child chose, too.
    child_words = ""
    if not child and reporter.pk != viewer.pk and reporter.pk in viewer.facts.child_ids \
            and case.category in CHILD_CATEGORY:
        child_words = str(_("%(name)s chose: “%(words)s”") % {
            "name": reporter.name.split(" ")[0], "words": CHILD_CATEGORY[case.category]})
    return {
        "child": child,
        "mine": reporter.pk == viewer.pk,
        "chosen": category_words(case, child),
        "child_words": child_words,
        "steps": steps(case),
        "now": str(NOW[Status(case.status)]),
        "next": str(NEXT[Status(case.status)]),
        "adults": who_talks(case),
        "timeline": [{"at": r.at, "text": timeline_words(r)} for r in rows],
        # R-CASE-20: asking "is it over?" one minute after the report makes no sense; it is asked
        # once the school has acted and is checking that it has stopped.
        "ask_if_over": case.status == Status.FOLLOW_UP,
    }
