"""How often a person, an address or a socket may do something: sends, previews, uploads, signals.

Counted with the ``limits`` library in a moving window: in Redis when ``REDIS_URL`` is set, so that
every worker counts the same person once, otherwise in the process. A limiter that cannot reach
its storage lets the request through (and logs it): an outage of Redis must not silence a
school, and what Redis guards here is fairness, not access.

``TRYGG_RATE_LIMITS=off`` lifts these limits (benchmarks only); sign-in throttling does not use
this module and stays on.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from trygg.errors import TooManyRequests

log = logging.getLogger(__name__)

__all__ = ["RateLimitItemPerMinute", "RateLimitItemPerSecond", "check_rate", "local_hit", "wait_seconds"]


@lru_cache(maxsize=4)
def _limiter(url: str) -> MovingWindowRateLimiter:
    # Under the deployment's own prefix, so that several Trygg installations (or test runs) can
    # share one Redis without counting each other's people.
    prefix = f"{settings.CACHES['default'].get('KEY_PREFIX') or 'trygg'}:limits"
    storage: Storage = storage_from_string(url, key_prefix=prefix) if url else MemoryStorage()
    return MovingWindowRateLimiter(storage)


@lru_cache(maxsize=1)
def _local() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(MemoryStorage())


def _wait(limiter: MovingWindowRateLimiter, scope: str, key: str, rates: tuple[RateLimitItem, ...]) -> int:
    # Tested first and counted after, so a refused attempt uses up none of the allowance.
    for rate in rates:
        if not limiter.test(rate, scope, key):
            reset = limiter.get_window_stats(rate, scope, key).reset_time
            return max(1, math.ceil(reset - time.time()))
    for rate in rates:
        limiter.hit(rate, scope, key)
    return 0


def wait_seconds(scope: str, key: str, *rates: RateLimitItem) -> int:
    """Count one attempt of ``key`` at ``scope`` against every rate; return 0 when it is allowed,
    otherwise the seconds until it would be (nothing is counted then)."""
    if not settings.TRYGG_RATE_LIMITS:
        return 0
    try:
        return _wait(_limiter(settings.REDIS_URL), scope, key, rates)
    except Exception as exc:  # noqa: BLE001 - see the module docstring: fail open, say so
        log.warning("rate limit storage unreachable (%s); %s not limited", type(exc).__name__, scope)
        return 0


def check_rate(scope: str, key: str, *rates: RateLimitItem, message: str, rule: str | None = None,
               requirement: str | None = None) -> None:
    """Raise ``TooManyRequests`` (429 with ``Retry-After``) when ``key`` has used up a rate."""
    wait = wait_seconds(scope, key, *rates)
    if wait:
        raise TooManyRequests(message, retry_after=wait, rule=rule, requirement=requirement)


def local_hit(scope: str, key: str, *rates: RateLimitItem) -> bool:
    """Count one event of ``key`` in this process only (a socket's frames); return whether it is
    within every rate."""
    if not settings.TRYGG_RATE_LIMITS:
        return True
    return _wait(_local(), scope, key, rates) == 0


def reset() -> None:
    """Forget every count (tests, and an operator lifting a mistaken limit at once)."""
    _limiter(settings.REDIS_URL).storage.reset()
    _local().storage.reset()
