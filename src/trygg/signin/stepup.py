"""Step-up: confidential data (a case file, a protected person's record, the access-request export,
the audit log) opens only after a recent strong sign-in.

Strong means a second factor (TOTP through django-otp) or the provider's higher level
(``OidcProvider.acr_strong``, e.g. ID-porten ``idporten-loa-high``). A browser session keeps the
time of its last strong sign-in in the session; an API token in ``ApiToken.strong_at``. How recent
is the pack's parameter ``step_up_minutes`` of ``core_platform.strong-sign-in-for-confidential``
(15 minutes unless the municipality sets another).

``require_step_up(request, target, door)`` is the one door-keeper: call it after the viewer is
known to be allowed to see ``target`` at all (someone who may not see it gets 404 first, so a
step-up prompt never tells that something exists). It audits both outcomes and raises
``StepUpRequired`` (403 ``step_up_required``); pages get the step-up page instead
(``trygg.web.middleware.StepUpPagesMiddleware``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trygg.audit.actions import do_audit
from trygg.errors import Forbidden
from trygg.policy.engine import decide, params_for

STEP_UP_RULE = "core_platform.strong-sign-in-for-confidential"
STEP_UP_REQUIREMENT = "R-STAFF-02"
DEFAULT_MINUTES = 15
# Session keys: how the session signed in, and when it last showed a strong factor (epoch seconds).
SESSION_METHOD = "trygg_method"
SESSION_STRONG_AT = "trygg_strong_at"
STEP_UP_PAGE = "/signin/step-up/"


class StepUpRequired(Forbidden):
    code = "step_up_required"
    default_message = _("Confirm that it is you with a second factor before you open this.")


def window_for(person: Any) -> timedelta:
    """Return how long a strong sign-in counts for the person's municipality."""
    minutes = params_for(STEP_UP_RULE, getattr(person, "municipality_id", None)).get("step_up_minutes")
    return timedelta(minutes=int(minutes or DEFAULT_MINUTES))


def _viewer(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if auth is not None else request.user


def strong_at(request: HttpRequest) -> datetime | None:
    """Return when the sign-in behind this request last showed a strong factor, if ever."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return token.strong_at
    session = getattr(request, "session", None)
    stamp = session.get(SESSION_STRONG_AT) if session is not None else None
    if not isinstance(stamp, int | float):
        return None
    return datetime.fromtimestamp(stamp, tz=UTC)


def strong_until(request: HttpRequest) -> datetime | None:
    """Return until when the request counts as stepped up, or None if it does not now."""
    at = strong_at(request)
    if at is None:
        return None
    until = at + window_for(_viewer(request))
    return until if until > timezone.now() else None


def is_stepped_up(request: HttpRequest) -> bool:
    return strong_until(request) is not None


def step_up_url(next_url: str) -> str:
    return f"{STEP_UP_PAGE}?next={quote(next_url, safe='/')}"


def require_step_up(request: HttpRequest, target: Any = None, door: str = "") -> None:
    """Pass if the request's sign-in was strong within the window; else raise ``StepUpRequired``.

    Both outcomes are audited (R-PRIV-02) with the door, the target and how the request signed in.
    """
    viewer = _viewer(request)
    at = strong_at(request)
    ago = (timezone.now() - at).total_seconds() / 60 if at is not None else None
    # The engine decides, with the municipality's window: the same rule for every door that opens
    # confidential data (pages, API, exports).
    decision = decide("confidential.open", viewer, target, {"strong_minutes_ago": ago})
    passed = decision.allowed
    via = "token" if getattr(request, "api_token", None) is not None else "session"
    do_audit(viewer, "auth.step_up_passed" if passed else "auth.step_up_refused", target, door=door, via=via)
    if not passed:
        fired = decision.denied_by
        raise StepUpRequired(
            rule=fired.rule.id if fired else STEP_UP_RULE,
            requirement=fired.rule.requirements[0] if fired and fired.rule.requirements else STEP_UP_REQUIREMENT,
            extra={"step_up_url": step_up_url(request.get_full_path()),
                   "window_minutes": int(window_for(viewer).total_seconds() // 60)},
        )


def step_up_required(door: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a page or API handler that opens confidential data as a whole (no target)."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_step_up(request, None, door)
            return view(request, *args, **kwargs)

        return inner

    return wrap


def mark_session_strong(request: HttpRequest, at: float | None = None) -> None:
    """Record that this browser session just showed a strong factor."""
    request.session[SESSION_STRONG_AT] = at if at is not None else time.time()
