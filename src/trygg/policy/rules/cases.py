"""Rule logic for reports and cases (R-SAFE-02, R-STAFF-03, R-CASE-01..04, R-PAR-03/04, R-PUP-02,
R-STF-03, R-CASE-10..21).

Context keys the cases app passes (see docs/conventions.md):

* ``report.create``: ``category``, ``has_message`` (a chat message is reported), ``harmed`` (tuple
  of ``PersonFacts``), ``offender`` (``PersonFacts`` or ``None``).
* ``case.view``: ``viewer_ids`` (participants who may open the case), ``municipality_id``.
* ``case.transition`` / ``case.close`` / ``case.work``: ``handler_ids`` (leader and representatives
  in the case), ``to``, ``victim_confirmed`` (every harmed person, or a harmed pupil's guardian, agreed).
* ``case.confirm``: ``confirmer_ids`` (harmed people and the guardians of harmed pupils).

Checklists are data: a guideline rule wired to ``cases.checklist_step`` names its ``steps``, the
``categories`` they apply to and ``also_when`` (a situation that brings them in whatever the
category). A municipality that deactivates a pack loses its steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic, oblige

# Categories Trygg adds to S4's list (R-CASE-21): S3/S4 name threats and stalking (R-CASE-10),
# bullying and exclusion are what the school's activity duty is about, and a teacher's concern
# report (R-STAFF-03) goes the same way to leadership.
TRYGG_CATEGORIES = ("threat_violence_stalking", "exclusion", "bullying", "teacher_concern")
CONCERN = "teacher_concern"


def _harmed(req: Request) -> tuple[Any, ...]:
    return tuple(req.context.get("harmed") or ())


def _is_pupil(facts: Any) -> bool:
    return facts is not None and "pupil" in facts.roles and not facts.is_staff_member


def _situation(req: Request, name: str) -> bool:
    """Return whether the report is in situation ``name`` (the ``also_when`` choices)."""
    harmed = _harmed(req)
    offender = req.context.get("offender")
    if name == "any":
        return True
    if name == "staff_harmed":
        return any(h.is_staff_member for h in harmed)
    if name == "pupil_harmed_by_pupil":
        return _is_pupil(offender) and any(_is_pupil(h) for h in harmed)
    if name == "offender_parent":
        return offender is not None and "guardian" in offender.roles and not offender.is_staff_member
    if name == "off_platform":
        return not req.context.get("has_message")
    return False


# ---------------------------------------------------------------- baseline (core_cases)


@logic("cases.may_report")
def may_report(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Anyone in a school (pupil, guardian, staff) may report; the case goes to its leaders."""
    return allow() if req.actor.roles and req.actor.school_ids else deny()


@logic("cases.participants_view")
def participants_view(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Only the case's participants see it; a municipality admin too where the setting says so.

    The reported person never sees it, whatever other role they have (R-STAFF-02): 404 as for
    anyone outside the case."""
    if req.actor.id in set(req.context.get("reported_ids") or ()):
        return deny()
    if req.actor.id in set(req.context.get("viewer_ids") or ()):
        return allow()
    municipality_id = req.context.get("municipality_id")
    if params.get("admin_sees_cases") and municipality_id in req.actor.admin_municipality_ids:
        return allow()
    return deny()


@logic("cases.staff_confidentiality")
def staff_confidentiality(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-02: the duty of confidentiality holds on the platform too. A staff member outside a
    case (a colleague, the reported person, a leader of another school) does not see it, whatever
    else their role lets them do; only the municipality's administrator keeps the view the core
    setting gives. Never allows on its own: the participants rule does that."""
    if req.actor.id in set(req.context.get("reported_ids") or ()):
        return deny()
    if not req.actor.is_staff_member or req.actor.id in set(req.context.get("viewer_ids") or ()):
        return None
    if req.context.get("municipality_id") in req.actor.admin_municipality_ids:
        return None
    return deny()


@logic("cases.leader_drives")
def leader_drives(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The assigned leader moves the case through its workflow and closes it."""
    case = req.target
    if req.actor.id in set(req.context.get("reported_ids") or ()):
        return deny()
    return allow() if getattr(case, "assigned_leader_id", None) == req.actor.id else deny()


@logic("cases.handlers_work")
def handlers_work(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The leader and the representatives in the case tick off steps and log contacts."""
    return allow() if req.actor.id in set(req.context.get("handler_ids") or ()) else deny()


@logic("cases.harmed_confirms")
def harmed_confirms(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The harmed person (or the guardian of a harmed pupil) gives or withdraws agreement to close."""
    return allow() if req.actor.id in set(req.context.get("confirmer_ids") or ()) else deny()


# ---------------------------------------------------------------- guideline rules


@logic("cases.category_listed")
def category_listed(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-21: a report has one of the kinds of harassment the policy names (or Trygg's own)."""
    category = req.context.get("category")
    listed = set(params.get("categories") or ()) | set(TRYGG_CATEGORIES)
    return None if category in listed else deny()


@logic("cases.concern_to_leaders")
def concern_to_leaders(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-03: a concern report about a pupil is a teacher's duty and goes to leadership."""
    if req.context.get("category") != CONCERN:
        return None
    if not req.actor.is_staff_member:
        return deny()
    return oblige("checklist", None, steps=list(params.get("steps") or ()), reference=False)


@logic("cases.keep_evidence")
def keep_evidence(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SAFE-02, R-CASE-01, R-CASE-13: a reported message is frozen with the messages around it;
    a report about something elsewhere gets the step of securing screenshots."""
    if req.context.get("has_message"):
        return oblige("evidence", None, around=int(params.get("messages_around") or 0))
    steps = list(params.get("steps") or ())
    if not steps or req.context.get("category") == CONCERN:
        return None
    return oblige("checklist", None, steps=steps, reference=False)


@logic("cases.checklist_step")
def checklist_step(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Open the rule's checklist ``steps`` when the category is one of ``categories`` or the
    situation ``also_when`` holds (R-CASE-02/03/04/10/11/14/15/16/18/19, R-PAR-03, R-PAR-04)."""
    category = req.context.get("category")
    listed = category in set(params.get("categories") or ())
    # A concern report is not harassment: only rules that name it explicitly open steps in it.
    situation = category != CONCERN and _situation(req, str(params.get("also_when") or ""))
    if listed or situation:
        return oblige("checklist", None, steps=list(params.get("steps") or ()),
                      reference=bool(params.get("reference")))
    return None


@logic("cases.representatives_join")
def representatives_join(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STF-03: staff harassed by pupils or parents have the union and safety representatives in the case."""
    if not _situation(req, "staff_harmed"):
        return None
    return oblige("participants", None, roles=list(params.get("roles") or ()))


@logic("cases.show_an_adult")
def show_an_adult(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-PUP-02: a pupil who reports shows an adult: the contact teacher joins the case too."""
    if not _is_pupil(req.actor):
        return None
    return oblige("participants", None, roles=list(params.get("roles") or ()))


@logic("cases.act_fast")
def act_fast(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-12: leadership must respond to a new case within ``first_response_hours``."""
    return oblige("respond_within", None, hours=int(params.get("first_response_hours") or 24))


@logic("cases.regular_contact")
def regular_contact(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-17: leadership contacts the harmed person every ``contact_interval_days``."""
    if not _harmed(req):
        return None
    return oblige("follow_up", None, days=int(params.get("contact_interval_days") or 7))


@logic("cases.closed_when_victim_says")
def closed_when_victim_says(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-20: a case is closed only when the harmed person (or a harmed pupil's guardian) agrees."""
    return None if req.context.get("victim_confirmed") else deny()


@logic("cases.no_conflict_of_interest")
def no_conflict_of_interest(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-02: a report against a leader of the school goes to the municipality's case handler,
    since the school's leadership cannot handle a case against itself."""
    offender = req.context.get("offender")
    school_id = req.context.get("school_id")
    if offender is not None and school_id is not None and school_id in offender.led_school_ids:
        return oblige("route_to_municipality", None)
    return None


@logic("cases.representatives_support")
def representatives_support(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-04, R-CASE-14: when the reported person is staff, the union and safety representatives
    are in the case as support for the one who reported (they never handle a case against themselves)."""
    offender = req.context.get("offender")
    if offender is None or not offender.is_staff_member or req.context.get("category") == CONCERN:
        return None
    roles = list(params.get("roles") or ())
    return oblige("participants", None, roles=roles, support=True) if roles else None


@logic("cases.steps_settled")
def steps_settled(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-12, R-CASE-10: a case closes only when each checklist step is done or marked as not
    applicable with a reason."""
    return deny() if req.context.get("open_steps") else None


@logic("cases.steps_required_to_close")
def steps_required_to_close(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-10: in the listed categories, the listed steps (the police report) must really be
    done: they cannot be marked as not applicable, and the case cannot close while they are open."""
    if req.context.get("category") not in set(params.get("categories") or ()):
        return None
    required = set(params.get("steps") or ())
    if req.action == "case.work":
        return deny() if req.context.get("mark_not_applicable") in required else None
    if required & set(req.context.get("steps_not_done") or ()):
        return deny()
    return None


@logic("cases.harmed_reopens")
def harmed_reopens(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-20: the harmed person (or a harmed pupil's guardian) can say a closed case is not over."""
    return allow() if req.actor.id in set(req.context.get("confirmer_ids") or ()) else deny()


@logic("cases.reopen_within")
def reopen_within(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CASE-20: a closed case can be reopened within ``reopen_days`` of closing."""
    from datetime import timedelta

    closed_at, now = req.context.get("closed_at"), req.context.get("now")
    if closed_at is None or now is None:
        return None
    return deny() if now > closed_at + timedelta(days=int(params.get("reopen_days") or 0)) else None


@logic("cases.class_teacher_joins")
def class_teacher_joins(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-PAR-03: a guardian who reports harm to their own child brings in the child's class teacher."""
    children = req.actor.child_ids
    if not children or not any(h.id in children for h in _harmed(req)):
        return None
    roles = list(params.get("roles") or ())
    return oblige("participants", None, roles=roles) if roles else None


@logic("cases.harmed_guardian_writes")
def harmed_guardian_writes(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-PAR-03: a harmed child's guardian may write to the other child's guardians, through the
    leader's approval, when the case is against another pupil who has guardians."""
    if req.actor.id not in set(req.context.get("harmed_guardian_ids") or ()):
        return deny()
    return allow() if req.context.get("other_family_ids") else deny()
