"""Sign-in and its limits: local passwords, link codes, the step-up before confidential data, and
the rate limits (core_platform; R-STAFF-02, R-PRIV-02, R-CHAT-05)."""

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


@logic("signin.recent_strong_sign_in")
def recent_strong_sign_in(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-02, R-PRIV-02: confidential data opens after a strong sign-in (a second factor or the
    provider's higher level) within the last ``step_up_minutes``. ``context["strong_minutes_ago"]``
    is how long ago the sign-in behind the request was strong, or None if it never was."""
    ago = req.context.get("strong_minutes_ago")
    minutes = int(params.get("step_up_minutes", 15))
    # A stamp a little in the future (clocks of two workers) counts as just now, as it always has.
    if ago is not None and ago < minutes:
        return allow()
    return deny(step_up_minutes=minutes)


@logic("limits.within_rate")
def within_rate(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-05: a person past one of the pack's rates (``context["wait"]`` seconds until the next
    is allowed, counted by ``trygg.ratelimits``) waits; everyone within them goes on."""
    return deny() if int(req.context.get("wait") or 0) > 0 else allow()
