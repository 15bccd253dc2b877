"""Sign-in: who may use a local password, and who hands out link codes (core_platform; R-STAFF-02)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Request, allow, deny, logic


@logic("signin.local_password")
def local_password(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """A municipality can turn local passwords off per role: then a person with that role signs in
    through the municipality's sign-in service (Feide, ID-porten, UNI-login, MitID) instead.

    A person with several roles needs every one of them allowed: a teacher who is also a guardian
    signs in the way teachers must.
    """
    allowed = set(params.get("password_roles") or ())
    if req.actor.roles - allowed:
        return deny()
    return allow()


@logic("signin.link_code_by_leaders")
def link_code_by_leaders(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """A one-time link code for a person is handed out by a leader of a school the person belongs to,
    or by the municipality's administrator. ``target`` is the person's facts."""
    subject = req.target
    if subject is None:
        return deny()
    if req.actor.led_school_ids & subject.school_ids:
        return allow()
    if subject.municipality_id is not None and subject.municipality_id in req.actor.admin_municipality_ids:
        return allow()
    return deny()
