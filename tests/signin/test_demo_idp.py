"""The demo's OpenID provider (``demo-idp/server.mjs``) ends with the process that started it,
however that process ends: a ``trygg demo`` stopped with SIGKILL left its provider running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from trygg.signin.demo_idp import IdpNotAvailable, check_installed

pytestmark = pytest.mark.once_in_ci

REPO = Path(__file__).resolve().parents[2]

# Starts a provider as `trygg demo` does, says its pid and port, and waits to be killed.
STARTER = """
import sys, time
from trygg.signin.demo_idp import DemoIdp, IdpIssuer
issuer = IdpIssuer(name="feide", client_id="trygg", client_secret="s", trygg_url="http://127.0.0.1:1",
                   provider_id=1, accounts={"emma.4a": {"name": "Emma"}})
idp = DemoIdp([issuer]).start()
print(idp.process.pid, issuer.port, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An orphan that has ended may wait as a zombie until it is reaped: that is not running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_demo_provider_stops_when_the_process_that_started_it_is_killed() -> None:
    try:
        check_installed()
    except IdpNotAvailable as exc:
        pytest.fail(f"this test needs the demo provider: {exc} (make idp)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "trygg.settings",
           "TRYGG_DATA_DIR": tempfile.mkdtemp(prefix="trygg-idp-parent-")}
    starter = subprocess.Popen([sys.executable, "-c", STARTER], env=env, cwd=REPO, stdout=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline()
        assert line, "the provider did not start"
        node_pid = int(line.split()[0])
        assert alive(node_pid)
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(node_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(node_pid), "the provider outlived the process that started it"
    finally:
        try:
            os.killpg(starter.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
