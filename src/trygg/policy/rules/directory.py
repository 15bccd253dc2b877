"""Baseline access control for the directory (R-PRIV-01, R-STAFF-02)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic


@logic("directory.class_members_visible")
def class_members_visible(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """The class's teachers and its school's leaders see who is in a class."""
    actor, school_class = req.actor, req.target
    if school_class.id in actor.taught_class_ids or school_class.school_id in actor.led_school_ids:
        return allow()
    if school_class.school.municipality_id in actor.admin_municipality_ids:
        return allow()
    return None


@logic("directory.protection_flags_by_leaders")
def protection_flags_by_leaders(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Only leaders of the pupil's school and municipality admins set protection flags."""
    actor = req.actor
    school_ids: frozenset[int] = req.context.get("pupil_school_ids", frozenset())
    municipality_id = req.context.get("pupil_municipality_id")
    if actor.led_school_ids & school_ids or municipality_id in actor.admin_municipality_ids:
        return allow()
    return deny()
