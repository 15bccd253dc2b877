"""Who may configure the policy and ask why it decided as it did (core_platform; R-PRIV-01)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic


@logic("policy.configured_by_admin")
def configured_by_admin(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Only the municipality's administrators change its packs and parameters.

    ``target`` is the municipality (or its id).
    """
    municipality_id = getattr(req.target, "id", req.target)
    if municipality_id is not None and municipality_id in req.actor.admin_municipality_ids:
        return allow()
    return deny()


@logic("policy.explained_to_leaders")
def explained_to_leaders(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """School leaders see why the policy decided as it did for people at their schools; admins for
    everyone in their municipality. ``target`` is the facts of the person whose decision is explained.
    """
    subject = req.target
    if subject is None:
        return deny()
    if req.actor.led_school_ids & subject.school_ids:
        return allow()
    if subject.municipality_id is not None and subject.municipality_id in req.actor.admin_municipality_ids:
        return allow()
    return deny()
