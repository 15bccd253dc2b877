"""Writes to the directory: sign-in, tokens, protection flags."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.directory.models import ApiToken, Person, Protection
from trygg.errors import NotSignedIn, PolicyDenied
from trygg.policy.engine import check, decide

log = logging.getLogger(__name__)


# Sent once a day per person whose account passed the daily ceiling of failed sign-ins, with
# ``person``; the notifications app tells the owner, neutrally (directory sits below it).
failure_ceiling_reached = Signal()


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    address: str
    daily: str


def _throttle_keys(username: str, address: str) -> ThrottleKeys:
    # Keyed on the name as typed, so an unknown username is throttled exactly like a known one.
    name = username.strip().lower()[:150]
    return ThrottleKeys(f"login-fail:u:{name}", f"login-fail:a:{address}", f"login-fail:d:{name}")


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


DEVICE_SALT = "trygg.directory.device"
DEVICE_MAX_AGE = 365 * 24 * 3600


def _device_subject(username: str) -> str:
    # The cookie names the account by a hash, not by its username.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]


def device_value(username: str) -> str:
    """Return the value of a device cookie (or an API client's device token) for ``username``:
    proof that this device signed in to the account before, so its sign-ins skip the delay."""
    return signing.dumps(_device_subject(username), salt=DEVICE_SALT, compress=False)


def is_known_device(username: str, value: Any) -> bool:
    """Return whether ``value`` is a device cookie or token this server issued for ``username``."""
    if not isinstance(value, str) or not value or len(value) > 300:
        return False
    try:
        return signing.loads(value, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE) == _device_subject(username)
    except signing.BadSignature:
        return False


def _growing(failures: int, free: int, max_delay: float) -> float:
    # Free tries first (typos), then a quarter second that doubles with each failure, capped.
    return 0.0 if failures < free else min(max_delay, 0.25 * 2 ** (failures - free))


def growing_delay(failures: int, free: int) -> float:
    """Return the wait before an answer after ``failures`` failures, the first ``free`` of them
    costing nothing: the sign-in throttle's curve, for other guessable secrets (link codes)."""
    return _growing(failures, free, settings.LOGIN_THROTTLE["max_delay"])


def count_failure(key: str, seconds: int) -> None:
    """Add one to the failure count at ``key`` in the cache, kept for ``seconds`` from the first."""
    cache.add(key, 0, seconds)
    try:
        cache.incr(key)
    except ValueError:
        # Expired between add and incr.
        cache.set(key, 1, seconds)


def login_delay(username: str, address: str) -> float:
    """Return the seconds an answer to a sign-in for ``username`` from ``address`` waits.

    The delay grows with the failures of the account and of the address, to at most
    ``max_delay``: guessing slows down, but no one is locked out, not even behind a school's NAT
    where an attacker shares the address. The right password is never refused for the failures
    of others; it only waits like every other answer.
    """
    conf = settings.LOGIN_THROTTLE
    keys = _throttle_keys(username, address)
    found = cache.get_many([keys.account, keys.address])
    return max(_growing(found.get(keys.account) or 0, conf["account_free"], conf["max_delay"]),
               _growing(found.get(keys.address) or 0, conf["address_free"], conf["max_delay"]))


def past_daily_ceiling(username: str) -> bool:
    """Return whether the account has failed more than its daily ceiling of sign-ins."""
    return (cache.get(_throttle_keys(username, "").daily) or 0) >= settings.LOGIN_THROTTLE["daily_ceiling"]


def note_failure(username: str, address: str) -> None:
    """Count a failed sign-in against the account (for the window and the day) and the address."""
    window = settings.LOGIN_THROTTLE["window_seconds"]
    keys = _throttle_keys(username, address)
    for key, seconds in ((keys.account, window), (keys.address, window), (keys.daily, 24 * 3600)):
        count_failure(key, seconds)


# Argon2 uses memory per hash (19 MiB here): the number hashing at once in a process is bounded,
# so a rush of sign-ins queues instead of growing the process without limit.
_hashing = threading.BoundedSemaphore(max(1, int(os.cpu_count() or 1)))


def check_credentials(request: HttpRequest | None, username: str, password: str, address: str, *,
                      device: Any = None, otp_ok: Callable[[Person], bool] | None = None) -> Person:
    """Return the person for valid credentials.

    A sign-in from a device that signed in to this account before (``device``: its cookie or
    token) is answered at once; any other waits ``login_delay`` first, whatever the password.
    Past the account's daily ceiling of failures, an unknown device also needs the second factor
    (``otp_ok``) or the reset link: 401 ``second_factor_required`` (the same answer whatever the
    password was, so it tells a guesser nothing).
    """
    known = is_known_device(username, device)
    if not known:
        delay = login_delay(username, address)
        if delay:
            # Sign-ins run on their own threads (trygg.asgi), so this wait holds no one else up.
            time.sleep(delay)
    with _hashing:
        person = authenticate(request, username=username, password=password)
    if person is None or not person.is_active:
        note_failure(username, address)
        log.info("sign-in failed from %s", address)
        raise NotSignedIn(_("Wrong username or password."), code="bad_credentials")
    if not known and past_daily_ceiling(username) and not (otp_ok is not None and otp_ok(person)):
        if cache.add(f"login-ceiling-told:{person.pk}", 1, 24 * 3600):
            do_audit(person, "auth.failure_ceiling", person)
            failure_ceiling_reached.send(sender=Person, person=person)
        raise NotSignedIn(
            _("For your safety, confirm this sign-in with a code from your authenticator app, use a device "
              "you have signed in with before, or ask the school for a new password."),
            code="second_factor_required")
    cache.delete(_throttle_keys(username, address).account)
    check_password_allowed(person)
    return person


def check_password_allowed(person: Person) -> None:
    """Raise ``PolicyDenied`` (403 ``passwords_off``) if the municipality turned passwords off for a
    role of the person; asked only after the password was right, so it tells nothing to a guesser."""
    decision = decide("auth.password", person)
    if not decision.allowed:
        refusal = PolicyDenied(decision)
        refusal.code = "passwords_off"
        log.info("password sign-in refused by the municipality's setting")
        raise refusal


def do_issue_token(person: Person, *, strong: bool = False, label: str = "") -> str:
    """Issue a bearer token and return its raw value (stored only as a hash).

    ``strong`` marks a token whose sign-in showed a second factor: it passes step-up for the
    municipality's window from now (``trygg.signin.stepup``).
    """
    with transaction.atomic():
        _, raw = ApiToken.issue(person, method="password+otp" if strong else "password", strong=strong, label=label)
        do_audit(person, "auth.token_issued", person, strong=strong)
    return raw


PROTECTION_FIELDS = ("secret_phone", "secret_address", "address_reveals_circumstances", "confidential_identity")


def check_set_protection(actor: Person, pupil: Person, **flags: bool) -> Protection:
    """Set protection flags on a pupil; only leaders of the pupil's school and admins may (R-LIST-05)."""
    unknown = set(flags) - set(PROTECTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown protection flags: {sorted(unknown)}")
    check("directory.set_protection", actor, pupil, _protection_context(pupil))
    return do_set_protection(actor, pupil, **flags)


def _protection_context(pupil: Person) -> dict[str, object]:
    return {"pupil_school_ids": pupil.facts.school_ids, "pupil_municipality_id": pupil.municipality_id}


def can_set_protection(actor: Person, pupil: Person) -> bool:
    """Return whether ``actor`` may see and set the pupil's protection flags (R-LIST-05)."""
    return decide("directory.set_protection", actor, pupil, _protection_context(pupil)).allowed


def do_set_protection(actor: Person | None, pupil: Person, **flags: bool) -> Protection:
    with transaction.atomic():
        protection, _created = Protection.objects.select_for_update().get_or_create(pupil=pupil)
        before = {f: getattr(protection, f) for f in PROTECTION_FIELDS}
        for name, value in flags.items():
            setattr(protection, name, bool(value))
        protection.updated_by = actor
        protection.save()
        after = {f: getattr(protection, f) for f in PROTECTION_FIELDS}
        do_audit(actor, "directory.protection_changed", pupil, before=before, after=after)
    return protection


def check_set_language(actor: Person, language: str) -> Person:
    """Set the language the person reads Trygg and its notices in (R-I18N-01)."""
    from trygg.errors import BadInput

    if language not in {code for code, _label in settings.LANGUAGES}:
        raise BadInput(_("Choose one of the listed languages."), code="bad_language")
    with transaction.atomic():
        actor.language = language
        actor.save(update_fields=["language"])
        do_audit(actor, "person.language_changed", actor, language=language)
    return actor
