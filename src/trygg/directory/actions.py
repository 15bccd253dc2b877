"""Writes to the directory: sign-in, tokens, protection flags."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.directory.models import ApiToken, Person, Protection
from trygg.errors import NotSignedIn, PolicyDenied, TooManyRequests
from trygg.policy.engine import check, decide

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    address: str


def _throttle_keys(username: str, address: str) -> ThrottleKeys:
    # Keyed on the name as typed, so an unknown username is throttled exactly like a known one.
    return ThrottleKeys(f"login-fail:u:{username.strip().lower()[:150]}", f"login-fail:a:{address}")


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def check_login_allowed(username: str, address: str) -> None:
    """Raise ``TooManyRequests`` when the account or the address has failed too often."""
    conf = settings.LOGIN_THROTTLE
    keys = _throttle_keys(username, address)
    if (cache.get(keys.account) or 0) >= conf["per_account"] or (cache.get(keys.address) or 0) >= conf[
        "per_address"
    ]:
        raise TooManyRequests(_("Too many failed sign-in attempts. Wait 15 minutes and try again."))


def note_failure(username: str, address: str) -> None:
    """Count a failed sign-in against the account and the address."""
    window = settings.LOGIN_THROTTLE["window_seconds"]
    for key in (_throttle_keys(username, address).account, _throttle_keys(username, address).address):
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, window)


def check_credentials(request: HttpRequest | None, username: str, password: str, address: str) -> Person:
    """Return the person for valid credentials; count failures and throttle per account and address."""
    check_login_allowed(username, address)
    person = authenticate(request, username=username, password=password)
    if person is None or not person.is_active:
        note_failure(username, address)
        log.info("sign-in failed from %s", address)
        raise NotSignedIn(_("Wrong username or password."), code="bad_credentials")
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
