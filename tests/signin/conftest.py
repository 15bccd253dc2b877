"""Fixtures for sign-in tests: a small real HTTP server publishing a provider's discovery document
and keys (JWKS), with our own signing key, so tokens can be crafted and fed to the verification path."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey


class KeyServer:
    """An issuer that publishes ``/.well-known/openid-configuration`` and ``/jwks`` and signs tokens."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256", "use": "sig"})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": outer.issuer, "authorization_endpoint": f"{outer.issuer}/auth",
                        "token_endpoint": f"{outer.issuer}/token", "jwks_uri": f"{outer.issuer}/jwks",
                        "end_session_endpoint": f"{outer.issuer}/session/end",
                    }
                elif self.path == "/jwks":
                    body = {"keys": [outer.key.as_dict(private=False)]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None, alg: str = "RS256") -> str:
        signer = key or self.key
        return jwt.encode({"alg": alg, "kid": signer.kid}, claims, signer)

    def id_token(self, provider: Any, for_nonce: str, /, **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": provider.client_id, "sub": "subject-1", "iat": now, "exp": now + 300,
                  "nonce": for_nonce, "auth_time": now}
        claims.update(changes)
        return self.sign({k: v for k, v in claims.items() if v is not None})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture
def test_provider(demo: Any, key_server: KeyServer) -> Callable[..., Any]:
    """Return a factory of providers at the key server's issuer (in the demo municipality)."""
    from trygg.signin.models import OidcProvider

    def make(**fields: Any) -> OidcProvider:
        values = {"municipality": demo, "name": "Test ID", "issuer": key_server.issuer, "client_id": "trygg-test",
                  "client_secret": "s3cret-for-tests", "link_claim": "pid", "link_by": "code",
                  "acr_normal": "idporten-loa-substantial", "acr_strong": "idporten-loa-high"}
        values.update(fields)
        return OidcProvider.objects.create(**values)

    return make
