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

from trygg.policy.engine import params_for, registry
from trygg.ratelimits import RateLimitItemPerMinute, RateLimitItemPerSecond, check_rate

RULE = "core_platform.rate-limits"
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
    spec = registry().rules[RULE]
    lang = (get_language() or "nb")[:2]
    check_rate(f"limit:{what}", str(actor.pk), *rates,
               message=spec.reason.get(lang) or spec.reason.get("en", ""), rule=RULE,
               requirement=spec.requirements[0] if spec.requirements else None)
