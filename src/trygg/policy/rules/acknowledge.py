"""Rule logic for acknowledging the guidelines (R-ACK-01, Åmot).

Context: ``child_id`` (the pupil a guardian went through the guidelines with, or ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic

ACKNOWLEDGING_ROLES = frozenset({"pupil", "guardian"})


@logic("policy.acknowledge_guidelines")
def acknowledge_guidelines(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-ACK-01: pupils and guardians acknowledge the guidelines; a guardian may name a child of
    theirs with parental responsibility whom they went through them with, and no other child."""
    if not req.actor.roles & ACKNOWLEDGING_ROLES:
        return None
    child_id = req.context.get("child_id")
    if child_id is not None and child_id not in req.actor.child_ids:
        return deny()
    return allow()
