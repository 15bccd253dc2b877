"""The OpenID Connect relying party: discovery, keys, the authorization request, the code exchange,
and the checks on ID tokens and back-channel logout tokens.

Authlib builds the authorization request (``state``, ``nonce``, PKCE with S256) and sends the code
exchange; joserfc checks the signature against the provider's published keys (JWKS); Authlib's
``CodeIDToken`` checks ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``azp`` and ``at_hash``.
Nothing here trusts a token it did not check: a refusal names the reason
(``TokenRefused.reason``), which is logged and audited, never shown as detail to the person.

Discovery and keys are cached for an hour. A token signed with a key id the cache does not know
makes one fresh read of the keys (the provider rotated them); a second miss is a refusal.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from trygg.signin.models import OidcProvider

log = logging.getLogger(__name__)

# Asymmetric algorithms only: "none" and HMAC with the client secret are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CACHE_SECONDS = 3600
LEEWAY_SECONDS = 60
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered with something that is not OpenID Connect."""


class TokenRefused(Exception):
    """A token failed a check; ``reason`` is a short code for logs and the audit trail."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _cache_key(provider: OidcProvider, what: str) -> str:
    issuer = hashlib.sha256(provider.issuer.encode()).hexdigest()[:16]
    return f"oidc:{what}:{provider.pk}:{issuer}"


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=settings.TRYGG_OIDC_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return data


def metadata(provider: OidcProvider) -> dict[str, Any]:
    """Return the provider's discovery document, checked to name the configured issuer."""
    key = _cache_key(provider, "meta")
    found = cache.get(key)
    if found is not None:
        return found
    data = _get_json(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
    # The issuer in the document must be the configured one (OpenID Discovery 1.0, 4.3): another
    # would let a look-alike document point Trygg at someone else's keys.
    if str(data.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
        raise ProviderUnavailable("discovery names another issuer")
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(data.get(field), str):
            raise ProviderUnavailable(f"discovery lacks {field}")
    cache.set(key, data, CACHE_SECONDS)
    return data


def key_set(provider: OidcProvider, *, fresh: bool = False) -> KeySet:
    """Return the provider's signing keys."""
    key = _cache_key(provider, "jwks")
    found = None if fresh else cache.get(key)
    if found is None:
        found = _get_json(metadata(provider)["jwks_uri"])
        cache.set(key, found, CACHE_SECONDS)
    try:
        return KeySet.import_key_set(found)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderUnavailable("the provider's keys cannot be read") from exc


def _client(provider: OidcProvider, redirect_uri: str) -> OAuth2Session:
    methods = metadata(provider).get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=provider.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )


def authorization_url(
    provider: OidcProvider, *, state: str, nonce: str, code_verifier: str, redirect_uri: str, strong: bool,
    language: str = "nb",
) -> str:
    """Return the URL that sends the browser to the provider.

    A strong request asks for the provider's higher level (``acr_values``) and a fresh
    authentication (``prompt=login``, ``max_age=0``): an earlier sign-in at the provider does not count.
    """
    extra: dict[str, Any] = {"ui_locales": language}
    acr = provider.acr_strong if strong else provider.acr_normal
    if acr:
        extra["acr_values"] = acr
    if strong:
        extra["prompt"] = "login"
        extra["max_age"] = 0
    with _client(provider, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            metadata(provider)["authorization_endpoint"], state=state, nonce=nonce, code_verifier=code_verifier,
            **extra,
        )
    return url


def exchange_code(provider: OidcProvider, *, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
    """Exchange the authorization code (with its PKCE verifier) for the provider's tokens."""
    try:
        with _client(provider, redirect_uri) as client:
            token = client.fetch_token(
                metadata(provider)["token_endpoint"], code=code, code_verifier=code_verifier,
                timeout=settings.TRYGG_OIDC_TIMEOUT,
            )
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}") from exc
    except Exception as exc:  # noqa: BLE001 - Authlib raises its OAuthError for error answers
        raise TokenRefused("code_refused") from exc
    if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        raise TokenRefused("no_id_token")
    return dict(token)


def _decode(provider: OidcProvider, raw: str) -> Any:
    registry = JWSRegistry(algorithms=list(ALGORITHMS))
    try:
        try:
            return jwt.decode(raw, key_set(provider), registry=registry)
        except InvalidKeyIdError:
            return jwt.decode(raw, key_set(provider, fresh=True), registry=registry)
    except BadSignatureError as exc:
        raise TokenRefused("bad_signature") from exc
    except InvalidKeyIdError as exc:
        raise TokenRefused("unknown_key") from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenRefused("malformed") from exc


_CLAIM_REASONS = {"iss": "wrong_issuer", "aud": "wrong_audience", "nonce": "wrong_nonce", "azp": "wrong_audience",
                  "exp": "expired", "iat": "bad_time", "nbf": "not_yet_valid", "at_hash": "bad_access_token_hash"}


def verify_id_token(
    provider: OidcProvider, raw: str, *, nonce: str, access_token: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """Return the claims of an ID token issued by ``provider`` to Trygg for this ``nonce``; raise
    ``TokenRefused`` for a bad signature, another issuer or audience, an expired token or another nonce.

    That the nonce is used only once is the caller's part: it is consumed with its pending request.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 20_000:
        raise TokenRefused("malformed")
    token = _decode(provider, raw)
    issuer = metadata(provider)["issuer"]
    params: dict[str, Any] = {"nonce": nonce, "client_id": provider.client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(
        token.claims, token.header,
        {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": provider.client_id},
         "sub": {"essential": True}, "nonce": {"essential": True}},
        params,
    )
    try:
        claims.validate(now=int(now if now is not None else time.time()), leeway=LEEWAY_SECONDS)
    except ExpiredTokenError as exc:
        raise TokenRefused("expired") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        raise TokenRefused(_CLAIM_REASONS.get(exc.claim, f"bad_{exc.claim}"[:40])) from exc
    except (ClaimError, JoseError) as exc:
        raise TokenRefused("bad_claims") from exc
    if claims.get("nonce") != nonce:
        # CodeIDToken skips the nonce check when the token carries none; Trygg always sends one.
        raise TokenRefused("wrong_nonce")
    return dict(claims)


def verify_logout_token(provider: OidcProvider, raw: str, now: float | None = None) -> dict[str, Any]:
    """Return the claims of a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, 2.6).

    Checked: signature, ``iss``, ``aud``, ``iat`` (and ``exp`` if present), the logout event, a
    ``sid`` or ``sub``, a ``jti``, and no ``nonce``. That the ``jti`` is new is the caller's part.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 20_000:
        raise TokenRefused("malformed")
    token = _decode(provider, raw)
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()), leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": metadata(provider)["issuer"]},
        aud={"essential": True, "value": provider.client_id},
        iat={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(token.claims)
    except ExpiredTokenError as exc:
        raise TokenRefused("expired") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        raise TokenRefused(_CLAIM_REASONS.get(exc.claim, f"bad_{exc.claim}"[:40])) from exc
    claims = token.claims
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or iat > (now or time.time()) + LEEWAY_SECONDS or \
            iat < (now or time.time()) - 600:
        # A logout token is sent at once; an old one is a replay, whatever its ``exp`` says.
        raise TokenRefused("bad_time")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise TokenRefused("not_a_logout_token")
    if "nonce" in claims:
        raise TokenRefused("not_a_logout_token")
    if not isinstance(claims.get("sid"), str) and not isinstance(claims.get("sub"), str):
        raise TokenRefused("no_subject")
    return dict(claims)


def end_session_url(provider: OidcProvider, *, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """Return the provider's RP-initiated logout URL, or None if it offers none."""
    try:
        endpoint = metadata(provider).get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not isinstance(endpoint, str):
        return None
    from urllib.parse import urlencode

    params = {"client_id": provider.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
