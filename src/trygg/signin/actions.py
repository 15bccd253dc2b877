"""Writes of sign-in: OpenID Connect sign-in and step-up, linking identities, link codes, second
factors, sign-out and revocation.

A person is never created here: an identity Trygg does not know is linked to an existing person
by the roster (the provider's claim equals the person's username or sourcedId) or by a one-time
link code the school handed out, and is otherwise refused.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from trygg.audit.actions import do_audit
from trygg.directory.actions import client_address, count_failure, growing_delay
from trygg.directory.models import ApiToken, Person
from trygg.errors import BadInput, Forbidden, NotSignedIn, TooManyRequests
from trygg.links import absolute
from trygg.policy.engine import check
from trygg.signin import oidc
from trygg.signin.identity import link_code_digest, new_link_code, subject_digest
from trygg.signin.models import (
    IdentityLink,
    LinkBy,
    LinkCode,
    OidcProvider,
    PendingSignIn,
    SeenLogoutToken,
    SignInSession,
)
from trygg.signin.revocation import close_sockets_of, session_credential, token_credential
from trygg.signin.stepup import SESSION_STRONG_AT, mark_session_strong

log = logging.getLogger(__name__)

PENDING_SECONDS = 600
LINK_CODE_DAYS = 14
UNLINKED_KEY = "trygg_unlinked"
STATE_KEY = "trygg_oidc_state"
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A step-up answer must come from an authentication this recent (it was asked with max_age=0).
STEP_UP_AUTH_AGE_SECONDS = 600
# Wrong link codes from one address cost nothing this many times in the sign-in window (typos),
# then every answer to that address waits the sign-in throttle's growing delay.
LINK_FAILURES_FREE = 5
STARTS_PER_WINDOW = 60
START_WINDOW_SECONDS = 600


class SignInRefused(Forbidden):
    """An OpenID Connect sign-in that cannot go on; ``reason`` is for the log and the audit trail."""

    code = "sign_in_refused"

    def __init__(self, reason: str, message: Any = None) -> None:
        self.reason = reason
        super().__init__(message or _("The sign-in could not be completed. Start again from the sign-in page."))


@dataclass(frozen=True)
class Outcome:
    """Where the browser goes after a provider answered: signed in, or to the unknown-identity page."""

    person: Person | None
    next_url: str
    unknown: bool = False


# --------------------------------------------------------------------------------- OIDC sign-in


def redirect_uri(request: HttpRequest, provider: OidcProvider) -> str:
    # TRYGG_PUBLIC_URL when set: behind a proxy the request's host may not be what the provider knows.
    return absolute(f"/signin/oidc/{provider.pk}/callback/", request)


def new_pending(provider: OidcProvider, *, purpose: str = PendingSignIn.Purpose.SIGN_IN,
                person: Person | None = None, next_url: str = "/") -> PendingSignIn:
    """Create one authorization request's ``state``, ``nonce`` and PKCE verifier."""
    PendingSignIn.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    return PendingSignIn.objects.create(
        state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(64),
        provider=provider, purpose=purpose, person=person, next_url=next_url[:500],
    )


def check_begin_sign_in(request: HttpRequest, provider: OidcProvider, *, step_up: bool, next_url: str) -> str:
    """Return the provider URL a browser goes to, for a sign-in or a step-up of the signed-in person."""
    starts = f"oidc-start:{client_address(request)}"
    cache.add(starts, 0, START_WINDOW_SECONDS)
    if cache.incr(starts) > STARTS_PER_WINDOW:
        # Each start writes a pending request: a flood from one address is refused, not stored.
        raise TooManyRequests()
    person = None
    if step_up:
        person = request.user
        if not person.is_authenticated or not provider.acr_strong or \
                not IdentityLink.objects.filter(provider=provider, person=person).exists():
            raise SignInRefused("step_up_not_offered", _("This sign-in service cannot confirm it is you."))
    pending = new_pending(provider, purpose=PendingSignIn.Purpose.STEP_UP if step_up else PendingSignIn.Purpose.SIGN_IN,
                          person=person if step_up else None, next_url=next_url)
    # Binds the answer to this browser: a response carried into another browser (login CSRF) fails.
    request.session[STATE_KEY] = pending.state
    language = (getattr(request, "LANGUAGE_CODE", None) or "nb")[:2]
    return oidc.authorization_url(provider, state=pending.state, nonce=pending.nonce,
                                  code_verifier=pending.code_verifier, redirect_uri=redirect_uri(request, provider),
                                  strong=step_up, language=language)


def claim_pending(provider: OidcProvider, state: str) -> PendingSignIn:
    """Mark the pending request with this ``state`` used and return it; a second use is refused."""
    if not isinstance(state, str) or not state or len(state) > 64:
        raise SignInRefused("no_state")
    now = timezone.now()
    claimed = PendingSignIn.objects.filter(
        state=state, provider=provider, used_at__isnull=True, created_at__gte=now - timedelta(seconds=PENDING_SECONDS)
    ).update(used_at=now)
    if claimed != 1:
        raise SignInRefused("nonce_reused" if PendingSignIn.objects.filter(state=state).exists() else "unknown_state")
    return PendingSignIn.objects.select_related("person").get(state=state)


def check_id_token(provider: OidcProvider, state: str, raw_id_token: str,
                   access_token: str | None = None) -> tuple[PendingSignIn, dict[str, Any]]:
    """Use up the pending request named by ``state`` and return it with the verified ID token's claims.

    The nonce the token must carry is that request's; once used, neither the request nor its nonce
    is accepted again.
    """
    pending = claim_pending(provider, state)
    try:
        claims = oidc.verify_id_token(provider, raw_id_token, nonce=pending.nonce, access_token=access_token)
    except oidc.TokenRefused as exc:
        raise SignInRefused(exc.reason) from exc
    return pending, claims


def check_finish_sign_in(request: HttpRequest, provider: OidcProvider, params: dict[str, str]) -> Outcome:
    """Complete the provider's answer: state, code exchange, ID token, then the person."""
    state = params.get("state", "")
    expected = request.session.pop(STATE_KEY, None)
    if not state or expected != state:
        raise SignInRefused("state_mismatch")
    if params.get("error"):
        PendingSignIn.objects.filter(state=state).update(used_at=timezone.now())
        raise SignInRefused("provider_error", _("The sign-in was cancelled or refused by the sign-in service."))
    code = params.get("code", "")
    if not code or len(code) > 2000:
        raise SignInRefused("no_code")
    pending = claim_pending(provider, state)
    try:
        tokens = oidc.exchange_code(provider, code=code, code_verifier=pending.code_verifier,
                                    redirect_uri=redirect_uri(request, provider))
        claims = oidc.verify_id_token(provider, tokens["id_token"], nonce=pending.nonce,
                                      access_token=tokens.get("access_token"))
    except oidc.TokenRefused as exc:
        raise SignInRefused(exc.reason) from exc
    return complete_sign_in(request, provider, pending, claims, tokens["id_token"])


def _claim_value(provider: OidcProvider, claims: dict[str, Any]) -> str:
    value = claims.get(provider.link_claim)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value or len(value) > 500:
        raise SignInRefused("no_link_claim")
    return value


def _is_strong(provider: OidcProvider, claims: dict[str, Any]) -> bool:
    return bool(provider.acr_strong) and claims.get("acr") == provider.acr_strong


def _roster_person(provider: OidcProvider, value: str) -> Person | None:
    people = Person.objects.filter(is_active=True, municipality=provider.municipality)
    if provider.link_by == LinkBy.USERNAME:
        found = list(people.filter(username__iexact=value)[:2])
    elif provider.link_by == LinkBy.SOURCE_ID:
        found = list(people.filter(source_id=value)[:2])
    else:
        return None
    return found[0] if len(found) == 1 else None


def _may_use(provider: OidcProvider, person: Person) -> bool:
    return person.is_active and (not provider.roles or bool(set(provider.roles) & person.facts.roles))


def complete_sign_in(request: HttpRequest, provider: OidcProvider, pending: PendingSignIn,
                     claims: dict[str, Any], raw_id_token: str) -> Outcome:
    """Sign in (or step up) the person the verified claims name; an unknown identity waits for a link code."""
    value = _claim_value(provider, claims)
    digest = subject_digest(provider.pk, value)
    sub_digest = subject_digest(provider.pk, "sub\x00" + str(claims.get("sub", "")))
    strong = _is_strong(provider, claims)
    auth_time = claims.get("auth_time")
    strong_at = float(auth_time) if strong and isinstance(auth_time, int | float) else time.time()
    link = IdentityLink.objects.select_related("person").filter(provider=provider, subject_digest=digest).first()
    person = link.person if link else None
    if person is None:
        person = _roster_person(provider, value)
        if person is not None:
            link = _link(provider, person, digest, sub_digest, "roster")
    if pending.purpose == PendingSignIn.Purpose.STEP_UP:
        if person is None or person.pk != pending.person_id or not request.user.is_authenticated or \
                request.user.pk != person.pk:
            raise SignInRefused("step_up_other_person", _("The sign-in service confirmed someone else."))
        if not strong or not isinstance(auth_time, int | float) or time.time() - auth_time > STEP_UP_AUTH_AGE_SECONDS:
            raise SignInRefused("step_up_too_weak", _("The sign-in service did not confirm the higher level."))
        mark_session_strong(request, strong_at)
        SignInSession.objects.filter(session_key=request.session.session_key).update(
            expires_at=timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
        do_audit(person, "auth.stepped_up", person, method="oidc", provider=provider.pk)
        return Outcome(person, pending.next_url)
    if person is None:
        request.session[UNLINKED_KEY] = {
            "provider": provider.pk, "digest": digest, "sub": sub_digest, "at": time.time(), "strong": strong,
            "strong_at": strong_at, "sid": claims.get("sid"), "id_token": raw_id_token, "next": pending.next_url,
        }
        do_audit(None, "auth.unknown_identity", provider, provider=provider.pk)
        return Outcome(None, pending.next_url, unknown=True)
    if link is not None and link.sub_digest != sub_digest:
        IdentityLink.objects.filter(pk=link.pk).update(sub_digest=sub_digest)
    if not _may_use(provider, person):
        do_audit(person, "auth.provider_refused", person, provider=provider.pk, reason="role")
        raise SignInRefused("role_not_allowed",
                            _("This sign-in service is not for your role. Use another way to sign in."))
    do_sign_in(request, person, method="oidc", provider=provider, strong=strong, strong_at=strong_at,
               sid=claims.get("sid"), id_token=raw_id_token)
    return Outcome(person, pending.next_url)


def _link(provider: OidcProvider, person: Person, digest: str, sub_digest: str, how: str) -> IdentityLink:
    with transaction.atomic():
        # One identity per person and provider: a new one (a changed Feide name) replaces the old.
        IdentityLink.objects.filter(provider=provider, person=person).delete()
        link = IdentityLink.objects.create(provider=provider, person=person, subject_digest=digest,
                                           sub_digest=sub_digest, linked_by=how)
        do_audit(person, "auth.identity_linked", person, provider=provider.pk, linked_by=how)
    return link


def do_sign_in(request: HttpRequest, person: Person, *, method: str, provider: OidcProvider | None = None,
               strong: bool = False, strong_at: float | None = None, sid: Any = None,
               id_token: str | None = None) -> None:
    """Sign the browser in; the session records how, and when it was last strong."""
    request.trygg_sign_in = {
        "method": method, "provider": provider.pk if provider else None, "strong": strong, "strong_at": strong_at,
        "sid": sid if isinstance(sid, str) else None, "id_token": id_token,
    }
    login(request, person, backend=AUTH_BACKEND)
    do_audit(person, "auth.signed_in", person, method=method, provider=provider.pk if provider else None,
             strong=strong)


def _link_failures_key(request: HttpRequest) -> str:
    return f"link-code-fail:{client_address(request)}"


def link_code_delay(request: HttpRequest) -> float:
    """Return the seconds an answer to a link code from the request's address waits.

    Like password sign-ins, wrong codes slow further tries down and lock no one out: a parent
    behind the school's NAT, where someone has typed wrong codes, gets in with the right code
    after at most ``LOGIN_THROTTLE["max_delay"]`` (a code has 31^12 values, so a few seconds per
    answer is enough against guessing).
    """
    return growing_delay(cache.get(_link_failures_key(request)) or 0, LINK_FAILURES_FREE)


def check_link_with_code(request: HttpRequest, typed: str) -> Outcome:
    """Link the identity waiting in this session to the person a valid link code names, and sign in."""
    waiting = request.session.get(UNLINKED_KEY)
    if not isinstance(waiting, dict) or time.time() - float(waiting.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(UNLINKED_KEY, None)
        raise SignInRefused("no_identity_waiting")
    provider = OidcProvider.objects.filter(pk=waiting["provider"], enabled=True).first()
    if provider is None or not provider.allow_link_codes:
        raise SignInRefused("codes_not_accepted")
    if not isinstance(typed, str) or not typed.strip() or len(typed) > 40:
        raise BadInput(_("Type the code you got from the school."), code="bad_link_code")
    delay = link_code_delay(request)
    if delay:
        # The page runs on the sign-in threads (trygg.asgi), so this wait holds no one else up.
        time.sleep(delay)
    now = timezone.now()
    with transaction.atomic():
        # Claimed with a conditional update, so two browsers racing with one code cannot both win.
        code = LinkCode.objects.select_related("person").filter(
            digest=link_code_digest(typed), used_at__isnull=True, expires_at__gt=now).first()
        won = code is not None and _may_use(provider, code.person) and \
            LinkCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=now) == 1
        if won:
            if IdentityLink.objects.filter(provider=provider, subject_digest=waiting["digest"]).exists():
                raise SignInRefused("identity_already_linked")
            _link(provider, code.person, waiting["digest"], waiting.get("sub", ""), "code")
    if not won:
        count_failure(_link_failures_key(request), settings.LOGIN_THROTTLE["window_seconds"])
        do_audit(None, "auth.link_code_refused", provider, provider=provider.pk)
        raise BadInput(_("That code is not valid. Check it, or ask the school for a new one."), code="bad_link_code")
    request.session.pop(UNLINKED_KEY, None)
    do_sign_in(request, code.person, method="oidc", provider=provider, strong=bool(waiting.get("strong")),
               strong_at=waiting.get("strong_at"), sid=waiting.get("sid"), id_token=waiting.get("id_token"))
    return Outcome(code.person, waiting.get("next") or "/")


def check_create_link_code(actor: Person, person: Person) -> tuple[LinkCode, str]:
    """Create a one-time link code for ``person`` and return it with the code, shown once.

    Only a leader of the person's school or the municipality's administrator may (the policy decides).
    """
    check("signin.create_link_code", actor, person.facts)
    raw = new_link_code()
    with transaction.atomic():
        # A new code replaces the person's unused ones, so only the last one handed out works.
        LinkCode.objects.filter(person=person, used_at__isnull=True).delete()
        code = LinkCode.objects.create(person=person, digest=link_code_digest(raw), created_by=actor,
                                       expires_at=timezone.now() + timedelta(days=LINK_CODE_DAYS))
        do_audit(actor, "auth.link_code_created", person)
    return code, raw


# --------------------------------------------------------------------------------- second factor


def verify_otp(person: Person, typed: Any) -> bool:
    """Return whether ``typed`` is a current code of one of the person's confirmed TOTP devices.

    A code is accepted once (django-otp keeps the last time step used), and wrong codes slow the
    device down (django-otp's throttling).
    """
    if not isinstance(typed, str) or not typed.strip().isdigit() or len(typed.strip()) > 10:
        return False
    for device in TOTPDevice.objects.filter(user=person, confirmed=True):
        allowed, _data = device.verify_is_allowed()
        if allowed and device.verify_token(typed.strip()):
            return True
    return False


def check_step_up_with_otp(request: HttpRequest, person: Person, typed: Any) -> None:
    """Step up the request's sign-in (its session or its token) with a TOTP code, or raise 401 ``bad_otp``."""
    token = getattr(request, "api_token", None)
    if not verify_otp(person, typed):
        do_audit(person, "auth.step_up_failed", person, method="otp")
        raise NotSignedIn(_("That code is not right. Type the current code from your authenticator app."),
                          code="bad_otp")
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(strong_at=timezone.now())
        token.strong_at = timezone.now()
    else:
        mark_session_strong(request)
    do_audit(person, "auth.stepped_up", person, method="otp", via="token" if token is not None else "session")


def do_start_totp(person: Person) -> TOTPDevice:
    """Return a new, unconfirmed TOTP device for the person to add to their authenticator app."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person, confirmed=False).delete()
        return TOTPDevice.objects.create(user=person, name=_("Authenticator app"), confirmed=False)


def check_confirm_totp(request: HttpRequest, person: Person, device_id: Any, typed: Any) -> TOTPDevice:
    """Confirm the person's new device with its first code; it replaces any earlier one."""
    device = TOTPDevice.objects.filter(pk=device_id, user=person, confirmed=False).first() \
        if isinstance(device_id, int) else None
    if device is None:
        raise BadInput(_("Start again: the new authenticator app was not found."), code="no_device")
    if not isinstance(typed, str) or not typed.strip().isdigit() or not device.verify_token(typed.strip()):
        raise BadInput(_("That code is not right. Type the current code from your authenticator app."),
                       code="bad_otp")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        do_audit(person, "auth.second_factor_enrolled", person, kind="totp")
    mark_session_strong(request)
    return device


# --------------------------------------------------------------------------------- sign-out, revocation


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def _end_sessions(keys: list[str]) -> None:
    store = _session_store()
    for key in keys:
        store(session_key=key).delete()


def do_sign_out(request: HttpRequest) -> str | None:
    """End the request's own sign-in (its token, or its browser session) and close its sockets.

    Return the provider's logout URL when the session came from a provider (RP-initiated logout),
    so the browser signs out there too.
    """
    token = getattr(request, "api_token", None)
    if token is not None:
        do_revoke_token(token.person, token)
        return None
    person = request.user
    if not person.is_authenticated:
        return None
    credential = session_credential(request.session.session_key)
    provider_id = request.session.get("trygg_oidc_provider")
    id_token = request.session.get("trygg_oidc_id_token")
    do_audit(person, "auth.signed_out", person)
    logout(request)
    person_id = person.pk
    transaction.on_commit(lambda: close_sockets_of(person_id, credential))
    provider = OidcProvider.objects.filter(pk=provider_id).first() if provider_id else None
    if provider is None:
        return None
    return oidc.end_session_url(provider, id_token=id_token,
                                post_logout_redirect_uri=absolute("/login/", request))


def do_change_password(request: HttpRequest, form: Any) -> Person:
    """Save a valid ``PasswordChangeForm``: the new password ends every other session and token
    of the person, and closes their sockets (``signin.signals``); this browser's session stays."""
    person = form.user
    person._keep_credential = session_credential(request.session.session_key)
    with transaction.atomic():
        form.save()
        do_audit(person, "auth.password_changed", person)
    update_session_auth_hash(request, person)
    return person


def do_revoke_token(person: Person, token: ApiToken) -> None:
    """Revoke one API token of the person; its sockets close."""
    with transaction.atomic():
        do_audit(person, "auth.token_revoked", person)
        ApiToken.objects.filter(pk=token.pk, person=person).delete()
        credential = token_credential(token.pk)
        transaction.on_commit(lambda: close_sockets_of(person.pk, credential))


def do_revoke_session(person: Person, row: SignInSession) -> None:
    """End one browser session of the person, wherever it is; its sockets close."""
    with transaction.atomic():
        do_audit(person, "auth.session_revoked", person)
        SignInSession.objects.filter(pk=row.pk, person=person).delete()
        _end_sessions([row.session_key])
        credential = session_credential(row.session_key)
        transaction.on_commit(lambda: close_sockets_of(person.pk, credential))


def do_revoke_everywhere(person: Person, actor: Person | None, reason: str) -> dict[str, int]:
    """Sign the person out of every browser and revoke every token; every socket of theirs closes."""
    with transaction.atomic():
        keys = list(SignInSession.objects.filter(person=person).values_list("session_key", flat=True))
        SignInSession.objects.filter(person=person).delete()
        tokens, _detail = ApiToken.objects.filter(person=person).delete()
        # Database sessions go in this transaction: a rolled-back revocation signs no one out.
        _end_sessions(keys)
        do_audit(actor, "auth.signed_out_everywhere", person, sessions=len(keys), tokens=tokens, reason=reason)
        transaction.on_commit(lambda: close_sockets_of(person.pk))
    return {"sessions": len(keys), "tokens": tokens}


def do_backchannel_logout(provider: OidcProvider, raw: str) -> int:
    """Revoke what a verified back-channel logout token names; return how many people it signed out.

    A ``sid`` names the provider session behind browser sessions here; a ``sub`` names the person.
    Either way the person's sessions and tokens are revoked and their sockets closed: the provider
    says the person signed out, and a token minted from that sign-in is no safer than its session.
    """
    try:
        claims = oidc.verify_logout_token(provider, raw)
    except oidc.TokenRefused as exc:
        do_audit(None, "auth.logout_token_refused", provider, reason=exc.reason)
        raise
    try:
        with transaction.atomic():
            SeenLogoutToken.objects.create(provider=provider, jti=str(claims["jti"])[:200])
    except IntegrityError as exc:
        do_audit(None, "auth.logout_token_refused", provider, reason="replayed")
        raise oidc.TokenRefused("replayed") from exc
    SeenLogoutToken.objects.filter(seen_at__lt=timezone.now() - timedelta(days=2)).delete()
    person_ids: set[int] = set()
    sid = claims.get("sid")
    if isinstance(sid, str) and sid:
        person_ids |= set(SignInSession.objects.filter(provider=provider, oidc_sid=sid[:200])
                          .values_list("person_id", flat=True))
    sub = claims.get("sub")
    if isinstance(sub, str) and sub:
        person_ids |= set(IdentityLink.objects.filter(provider=provider, sub_digest=subject_digest(
            provider.pk, "sub\x00" + sub)).values_list("person_id", flat=True))
    for person in Person.objects.filter(pk__in=person_ids):
        do_revoke_everywhere(person, None, reason="backchannel_logout")
    return len(person_ids)


def is_session_strong(request: HttpRequest) -> bool:
    return isinstance(request.session.get(SESSION_STRONG_AT), int | float)
