"""The checks on tokens from a provider, fed with tokens this test signs itself: a wrong signature,
audience or issuer, an expired token, another or a reused nonce are refused; so are logout tokens
that are not logout tokens, or replayed ones (R-STAFF-02, R-PRIV-01)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from trygg.signin import actions, oidc
from trygg.signin.oidc import BACKCHANNEL_EVENT


def refusal(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises((oidc.TokenRefused, actions.SignInRefused)) as caught:
        fn(*args, **kwargs)
    return caught.value.reason


def test_r_staff_02_a_token_signed_by_the_provider_for_trygg_is_accepted(test_provider, key_server):
    """The provider's key, its issuer, Trygg's client id, a live time and the request's nonce: accepted."""
    provider = test_provider()
    claims = oidc.verify_id_token(provider, key_server.id_token(provider, "n-1", pid="12345678901"), nonce="n-1")
    assert claims["pid"] == "12345678901"


def test_r_staff_02_a_token_signed_with_another_key_is_refused(test_provider, key_server):
    """The same key id, but a key the provider never published: the signature does not hold."""
    provider = test_provider()
    impostor = RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256"})
    now = int(time.time())
    forged = key_server.sign({"iss": key_server.issuer, "aud": provider.client_id, "sub": "s", "iat": now,
                              "exp": now + 300, "nonce": "n"}, key=impostor)
    assert refusal(oidc.verify_id_token, provider, forged, nonce="n") == "bad_signature"


def test_r_staff_02_a_token_signed_with_the_client_secret_or_unsigned_is_refused(test_provider, key_server):
    """HS256 with the client secret (anyone holding the secret could mint one) and alg "none" are refused."""
    provider = test_provider()
    now = int(time.time())
    claims = {"iss": key_server.issuer, "aud": provider.client_id, "sub": "s", "iat": now, "exp": now + 300,
              "nonce": "n"}
    hmac_token = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(provider.client_secret.encode() * 2))
    assert refusal(oidc.verify_id_token, provider, hmac_token, nonce="n") in ("malformed", "bad_signature")
    header, payload, _sig = key_server.id_token(provider, "n").split(".")
    unsigned = "eyJhbGciOiJub25lIn0." + payload + "."
    assert refusal(oidc.verify_id_token, provider, unsigned, nonce="n") in ("malformed", "bad_signature")


@pytest.mark.parametrize(("changes", "reason"), [
    pytest.param({"aud": "someone-else"}, "wrong_audience", id="audience"),
    pytest.param({"iss": "https://idp.example"}, "wrong_issuer", id="issuer"),
    pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, "expired", id="expired"),
    pytest.param({"nonce": "another"}, "wrong_nonce", id="another nonce"),
    pytest.param({"nonce": None}, "wrong_nonce", id="no nonce"),
])
def test_r_staff_02_a_token_for_someone_else_or_too_old_is_refused(test_provider, key_server, changes, reason):
    """Another audience, another issuer, an expired token, or not this request's nonce: refused."""
    provider = test_provider()
    token = key_server.id_token(provider, "n-1", **changes)
    assert refusal(oidc.verify_id_token, provider, token, nonce="n-1") == reason


def test_r_staff_02_a_reused_nonce_is_refused(test_provider, key_server):
    """A request's nonce is good once: the same ID token (a replay) fails the second time."""
    provider = test_provider()
    pending = actions.new_pending(provider)
    token = key_server.id_token(provider, pending.nonce, pid="12345678901")
    _pending, claims = actions.check_id_token(provider, pending.state, token)
    assert claims["nonce"] == pending.nonce
    assert refusal(actions.check_id_token, provider, pending.state, token) == "nonce_reused"


def test_a_token_carrying_another_requests_nonce_is_refused(test_provider, key_server):
    """An ID token minted for one request cannot complete another one."""
    provider = test_provider()
    first, second = actions.new_pending(provider), actions.new_pending(provider)
    token = key_server.id_token(provider, first.nonce)
    assert refusal(actions.check_id_token, provider, second.state, token) == "wrong_nonce"


def test_discovery_naming_another_issuer_is_not_trusted(test_provider, key_server):
    """A discovery document must name the configured issuer, or its keys are not used."""
    provider = test_provider(issuer=key_server.issuer + "/other")
    with pytest.raises(oidc.ProviderUnavailable):
        oidc.metadata(provider)


def _logout_token(key_server: Any, provider: Any, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": key_server.issuer, "aud": provider.client_id, "iat": now, "exp": now + 120,
              "jti": f"jti-{time.time_ns()}", "sub": "subject-1", "sid": "sid-1", "events": {BACKCHANNEL_EVENT: {}}}
    claims.update(changes)
    return key_server.sign({k: v for k, v in claims.items() if v is not None})


@pytest.mark.parametrize(("changes", "reason"), [
    pytest.param({"events": None}, "not_a_logout_token", id="no logout event"),
    pytest.param({"nonce": "n"}, "not_a_logout_token", id="an ID token"),
    pytest.param({"sub": None, "sid": None}, "no_subject", id="nobody named"),
    pytest.param({"aud": "someone-else"}, "wrong_audience", id="audience"),
    pytest.param({"iat": int(time.time()) - 3600}, "bad_time", id="old"),
    pytest.param({"jti": None}, "bad_jti", id="no jti"),
])
def test_a_malformed_logout_token_is_refused(test_provider, key_server, changes, reason):
    """Back-Channel Logout 1.0, 2.6: the event, a sid or sub, a jti, no nonce, for Trygg, recent."""
    provider = test_provider()
    assert refusal(oidc.verify_logout_token, provider, _logout_token(key_server, provider, **changes)) == reason


def test_a_replayed_logout_token_is_refused(test_provider, key_server):
    """Each logout token's jti is accepted once."""
    provider = test_provider()
    token = _logout_token(key_server, provider)
    assert actions.do_backchannel_logout(provider, token) == 0
    assert refusal(actions.do_backchannel_logout, provider, token) == "replayed"
