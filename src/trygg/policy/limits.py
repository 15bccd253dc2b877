"""Per-person limits on sending, previewing, uploading, reporting and creating meetings.

The numbers are parameters of the rule ``core_platform.rate-limits`` (a municipality may change
them like any other): pupils 20 messages a minute, adults 120, anyone 10 within ten seconds (the
burst allowance), previews 240 a minute (never below 120: the preview runs as one types), 60
uploads and 20 reports an hour, 30 meetings an hour. A person past a limit gets 429 with
``Retry-After`` and the rule's reason; counting is in ``trygg.ratelimits`` (Redis across workers),
and ``TRYGG_RATE_LIMITS=off`` lifts these limits for benchmarks.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language

from trygg.errors import TooManyRequests
from trygg.policy.engine import decide, params_for
from trygg.ratelimits import RateLimitItemPerMinute, RateLimitItemPerSecond, wait_seconds

RULE = "core_platform.rate-limits"
ACTION = "rate.limit"
HOUR = 3600


def check_limit(actor: Any, what: str, facts: Any = None) -> None:
    """Count one ``what`` (message, preview, upload, report, meeting) of ``actor``; raise
    ``TooManyRequests`` when it is past the limit. ``facts``: the actor's facts if at hand."""
    params = params_for(RULE, getattr(actor, "municipality_id", None))
    if not params:
        return
    if what == "message":
        roles = (facts if facts is not None else actor.facts).roles
        per_minute = params["pupil_messages_per_minute"] if "pupil" in roles else params["adult_messages_per_minute"]
        rates = (RateLimitItemPerSecond(params["burst_per_10_seconds"], 10), RateLimitItemPerMinute(per_minute))
    elif what == "preview":
        rates = (RateLimitItemPerMinute(max(120, params["previews_per_minute"])),)
    elif what in ("upload", "report", "meeting"):
        rates = (RateLimitItemPerSecond(params[f"{what}s_per_hour"], HOUR),)
    else:
        raise ValueError(f"no limit named {what!r}")
    wait = wait_seconds(f"limit:{what}", str(actor.pk), *rates)
    if not wait:
        # The engine is asked only past a count, so a send within the limits costs no second decision.
        return
    decision = decide(ACTION, facts if facts is not None else actor, None, {"what": what, "wait": wait})
    if decision.allowed:
        return
    fired = decision.denied_by
    raise TooManyRequests(decision.reason((get_language() or "nb")[:2]), retry_after=wait,
                          rule=fired.rule.id if fired else RULE,
                          requirement=fired.rule.requirements[0] if fired and fired.rule.requirements else None)
