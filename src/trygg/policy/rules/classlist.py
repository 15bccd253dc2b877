"""Rule logic for the class contact list (S1, Oslo: R-LIST-01..06).

Target of every ``classlist.*`` action is the ``SchoolClass`` (``id``, ``school_id``,
``reveals_special_education``). Context keys (see docs/conventions.md):

- ``pupil_id``: the pupil a consent is about (``classlist.set_consent``);
- ``fields``: the fields a guardian turns on (``classlist.set_consent``);
- ``protection``: the pupil's protection flags as a mapping of flag name to bool
  (``secret_phone``, ``secret_address``, ``address_reveals_circumstances``, ``confidential_identity``);
- ``guardian_protection``: the acting guardian's own flags, same shape (``classlist.set_consent``);
- ``municipality_id``: the class's municipality (``classlist.export`` by an administrator);
- ``requester``: who asked for access (``classlist.export``);
- ``last_reminder_at`` and ``now``: aware datetimes (``classlist.remind``).

``LOCKED_BY`` is the single statement of which protection flag hides which field: the rule below,
the consent page and the database filter of ``trygg.classlist.queries`` all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic, oblige

FIELDS = ("student_name", "guardian_name", "email", "phone", "address")

# R-LIST-05: field -> the protection flags that make it confidential. A strictly confidential
# identity or a secret address hides everything about the pupil: the pupil's name is confidential
# too ("I de tilfellene der adressen er hemmelig, vil også elevens navn være underlagt
# taushetsplikt"), and any of the guardian's details (name, e-mail, phone) would tell who the pupil
# is, so the pupil is absent from the list. The same flags on a guardian hide that guardian's
# own details (``guardian_protection``), never the child's name.
LOCKED_BY: Mapping[str, tuple[str, ...]] = {
    "student_name": ("secret_address", "confidential_identity"),
    "guardian_name": ("secret_address", "confidential_identity"),
    "email": ("secret_address", "confidential_identity"),
    "phone": ("secret_phone", "secret_address", "confidential_identity"),
    "address": ("secret_address", "address_reveals_circumstances", "confidential_identity"),
}
GUARDIAN_FIELDS = ("guardian_name", "email", "phone", "address")


def locked_fields(
    protection: Mapping[str, bool] | None,
    special_education: bool = False,
    guardian_protection: Mapping[str, bool] | None = None,
) -> frozenset[str]:
    """Return the fields that can never be shown for a pupil with these flags, in a class like this,
    by a guardian with ``guardian_protection`` (their own flags: one parent's secret number)."""
    if special_education:
        return frozenset(FIELDS)
    flags = protection or {}
    locked = {f for f, by in LOCKED_BY.items() if any(flags.get(flag) for flag in by)}
    own = guardian_protection or {}
    locked |= {f for f in GUARDIAN_FIELDS if any(own.get(flag) for flag in LOCKED_BY[f])}
    return frozenset(locked)


def _class_id(req: Request) -> Any:
    return getattr(req.target, "id", req.target)


@logic("classlist.own_class_only")
def own_class_only(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-01: the guardians (with parental responsibility) of the class and its contact teacher.

    Subject teachers see the list only where the municipality sets ``subject_teachers_see_list``.
    Everyone else is refused, and callers answer 404 so the list does not exist for them.
    """
    actor, class_id = req.actor, _class_id(req)
    if class_id in actor.child_class_ids or class_id in actor.contact_class_ids:
        return allow()
    if params.get("subject_teachers_see_list") and class_id in actor.subject_class_ids:
        return allow()
    return deny()


@logic("classlist.opt_in_fields")
def opt_in_fields(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-02: only the fields the municipality offers can be turned on; lists show only those."""
    # An empty list is a municipality offering nothing, not "everything".
    offered = tuple(params.get("fields", FIELDS))
    if req.action == "classlist.set_consent":
        wanted = set(req.context.get("fields") or ())
        return deny() if wanted - set(offered) else None
    return oblige("fields", None, fields=offered)


@logic("classlist.remind_by_contact_teacher")
def remind_by_contact_teacher(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-03: the contact teacher reminds every guardian alike, at most once per interval.

    Too soon after the last reminder is a denial with a ``wait`` obligation, which callers answer
    with 429 and the time the next reminder may go.
    """
    if _class_id(req) not in req.actor.contact_class_ids:
        return deny()
    last = req.context.get("last_reminder_at")
    now = req.context.get("now")
    interval = timedelta(days=int(params.get("reminder_interval_days", 7)))
    if last is not None and now is not None and now < last + interval:
        return oblige("wait", "deny", until=last + interval)
    return allow()


@logic("classlist.notice_before_opt_in")
def notice_before_opt_in(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-04: a field goes on only when the guardian has accepted the current notice that the
    list is public (in the same request or earlier); callers record what was accepted."""
    if req.context.get("turning_on") and not req.context.get("notice_accepted"):
        return deny()
    return oblige("notice", None)


@logic("classlist.leaders_export")
def leaders_export(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-04: the school's leaders (or the municipality's administrator) answer access requests,
    naming who asked."""
    actor = req.actor
    school_id = getattr(req.target, "school_id", None)
    if school_id not in actor.led_school_ids and req.context.get("municipality_id") not in actor.admin_municipality_ids:
        return deny()
    if not str(req.context.get("requester") or "").strip():
        return deny()
    return allow()


@logic("classlist.confidential_never_shown")
def confidential_never_shown(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-05: a field the school marked confidential cannot be turned on, whatever the guardian wants."""
    if req.action != "classlist.set_consent":
        # Views and exports leave confidential fields out in the database (classlist.queries).
        return oblige("redact", None)
    wanted = set(req.context.get("fields") or ())
    if wanted & locked_fields(req.context.get("protection"),
                              guardian_protection=req.context.get("guardian_protection")):
        return deny()
    return None


@logic("classlist.special_education_class")
def special_education_class(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-05: where membership of the class reveals special education, there is no list at all.

    Withdrawing consent stays possible: only turning fields on is refused.
    """
    if not getattr(req.target, "reveals_special_education", False):
        return None
    if req.action == "classlist.set_consent" and not req.context.get("fields"):
        return None
    return deny()


@logic("classlist.guardian_with_responsibility")
def guardian_with_responsibility(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-LIST-06: only a guardian with parental responsibility gives or withdraws consent for a pupil."""
    if req.context.get("pupil_id") in req.actor.child_ids:
        return oblige("record_consent", "allow")
    return deny()
