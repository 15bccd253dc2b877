"""The demo's own OpenID provider: ``demo-idp/server.mjs`` (oidc-provider on Node.js), started on free
loopback ports by ``trygg demo`` and by the tests.

``IdpIssuer`` describes one issuer (its accounts, claims, acr values and the Trygg client it knows);
``DemoIdp.start`` runs the process and waits until every issuer listens. ``demo_provider_issuer``
is the Feide-like issuer the demo offers as "Feide (demo provider)": its ``eduPersonPrincipalName``
is the demo username, as a school's roster carries the Feide name in OneRoster's ``username``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

FEIDE_EPPN = "https://n.feide.no/claims/eduPersonPrincipalName"
DEMO_PASSWORD = "demo"
DEMO_ACR = ("demo-loa-substantial", "demo-loa-high")


class IdpNotAvailable(Exception):
    """Node.js or the installed provider (``npm ci`` in ``demo-idp/``) is missing, or it did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class IdpIssuer:
    name: str
    client_id: str
    client_secret: str
    trygg_url: str
    provider_id: int
    accounts: dict[str, dict[str, Any]]
    scopes: dict[str, list[str]] = field(default_factory=dict)
    acr_values: tuple[str, ...] = DEMO_ACR
    title: str = ""
    port: int = field(default_factory=free_port)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def as_config(self) -> dict[str, Any]:
        base = self.trygg_url.rstrip("/")
        # A visitor may open the demo as 127.0.0.1 or as localhost; both are registered.
        bases = [base] + [base.replace(a, b) for a, b in (("127.0.0.1", "localhost"), ("localhost", "127.0.0.1"))
                          if a in base]
        return {
            "name": self.name, "title": self.title or self.name, "port": self.port, "password": DEMO_PASSWORD,
            "acr_values": list(self.acr_values), "scopes": self.scopes, "accounts": self.accounts,
            "clients": [{
                "client_id": self.client_id, "client_secret": self.client_secret,
                "redirect_uris": [f"{b}/signin/oidc/{self.provider_id}/callback/" for b in bases],
                "post_logout_redirect_uris": [f"{b}/login/" for b in bases],
                "backchannel_logout_uri": f"{base}/signin/oidc/{self.provider_id}/backchannel-logout/",
            }],
        }


def idp_dir() -> Path:
    return Path(settings.TRYGG_DEMO_IDP_DIR)


def check_installed() -> str:
    """Return the Node.js executable; raise ``IdpNotAvailable`` saying what is missing."""
    node = shutil.which(settings.TRYGG_NODE)
    if node is None:
        raise IdpNotAvailable(f"Node.js ({settings.TRYGG_NODE}) is not installed")
    if not (idp_dir() / "node_modules" / "oidc-provider").is_dir():
        raise IdpNotAvailable(f"the demo provider is not installed: run `npm ci` in {idp_dir()}")
    return node


class DemoIdp:
    """A running ``demo-idp/server.mjs`` with its issuers."""

    def __init__(self, issuers: list[IdpIssuer]) -> None:
        self.issuers = issuers
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._config = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept while the process runs
            "w", prefix="trygg-idp-", suffix=".json", delete=False)

    def start(self, timeout: float = 30.0) -> DemoIdp:
        node = check_installed()
        json.dump({"issuers": [i.as_config() for i in self.issuers]}, self._config)
        self._config.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_OPTIONS")}
        # The provider stops when its stdin ends: the pipe's other end is held by this process only,
        # so it ends however this process ends, SIGKILL included (a killed `trygg demo` left its
        # provider running, and the peer bench nine of them).
        self.process = subprocess.Popen(  # noqa: S603 - our own script with our own config
            [node, str(idp_dir() / "server.mjs"), self._config.name], cwd=idp_dir(), env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        ready: set[str] = set()
        done = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line.rstrip())
                del self.output[:-200]
                if line.startswith("ready "):
                    ready.add(line.split()[1])
                    if len(ready) == len(self.issuers):
                        done.set()
            done.set()

        threading.Thread(target=read, name="demo-idp-output", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not done.wait(0.1):
            if time.monotonic() > deadline:
                break
        if len(ready) != len(self.issuers):
            self.stop()
            raise IdpNotAvailable("the demo provider did not start:\n" + "\n".join(self.output[-30:]))
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
        Path(self._config.name).unlink(missing_ok=True)


def demo_accounts() -> dict[str, dict[str, Any]]:
    """Return the Feide-like accounts of the demo: every fixed demo account, named by its username."""
    from trygg.directory.demo import FIXED_ACCOUNTS

    return {a.username: {FEIDE_EPPN: a.username, "name": a.name} for a in FIXED_ACCOUNTS}
