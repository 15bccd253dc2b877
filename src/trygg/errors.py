"""The errors every layer raises; the API and the pages turn them into the same answers.

The JSON shape is fixed by design.md:
``{"error": code, "message": localised text, "rule": rule id or null, "requirement": ID or null}``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from trygg.policy.engine import Decision

# One line per refusal that names a rule, whatever door it came through (page, API, socket, CLI):
# the operator's trace that every door refused the same way. Rule, requirement and code only; never
# the message, which can quote what the person wrote.
refusals = logging.getLogger("trygg.refusals")


class TryggError(Exception):
    status = 400
    code = "bad_request"
    default_message: Any = _("The request could not be understood.")
    # Seconds after which trying again makes sense; sent as the Retry-After header.
    retry_after: int | None = None

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        rule: str | None = None,
        requirement: str | None = None,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if retry_after is not None:
            self.retry_after = retry_after
        if code:
            self.code = code
        self.rule = rule
        self.requirement = requirement
        self.extra = extra or {}
        super().__init__(str(self.message))
        if rule:
            refusals.info("refused rule=%s requirement=%s code=%s status=%s", rule, requirement, self.code,
                          self.status)

    def as_dict(self) -> dict[str, Any]:
        body = {
            "error": self.code,
            "message": str(self.message),
            "rule": self.rule,
            "requirement": self.requirement,
        }
        body.update(self.extra)
        return body


class BadInput(TryggError):
    status = 400
    code = "bad_input"
    default_message = _("Some of the input is not valid.")


class NotSignedIn(TryggError):
    status = 401
    code = "not_signed_in"
    default_message = _("You need to sign in.")


class Forbidden(TryggError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class NotFoundOrHidden(TryggError):
    """The one answer for "does not exist" and "not yours", so existence does not leak (R-PRIV-01)."""

    status = 404
    code = "not_found"
    default_message = _("Not found.")


class WrongState(TryggError):
    status = 409
    code = "wrong_state"
    default_message = _("That cannot be done in the current state.")


class TooLarge(TryggError):
    status = 413
    code = "too_large"
    default_message = _("The request is too large.")


class TooManyRequests(TryggError):
    status = 429
    code = "too_many_requests"
    default_message = _("Too many requests. Wait a little and try again.")


class Unavailable(TryggError):
    """A dependency (the database, Redis) cannot be reached: an honest 503, not a 500."""

    status = 503
    code = "unavailable"
    default_message = _("Trygg cannot answer right now. Try again in a moment.")
    retry_after = 5


class PolicyDenied(Forbidden):
    """Raised when the policy engine denies an action; carries the rule and its reason."""

    code = "denied_by_policy"

    def __init__(self, decision: Decision, language: str | None = None, status: int | None = None) -> None:
        from django.utils.translation import get_language

        lang = language or (get_language() or "nb")[:2]
        fired = decision.denied_by
        self.decision = decision
        if status:
            self.status = status
        super().__init__(
            decision.reason(lang),
            rule=fired.rule.id if fired else None,
            requirement=fired.rule.requirements[0] if fired and fired.rule.requirements else None,
        )
