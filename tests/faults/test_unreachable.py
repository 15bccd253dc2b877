"""Faults answer honestly (issue 12 §6): an unreachable database or Redis is a 503 JSON with
Retry-After, /healthz says which part is down, /readyz tells a load balancer, and sockets close
with 1012 so clients resume at once.

The dependencies are unreachable for real: a uvicorn of Trygg is started with DATABASE_URL and
REDIS_URL pointing at ports nobody listens on (PostgreSQL and Redis "down"), never touching the
machine's shared servers.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.test import Client
from websockets.asyncio.client import connect

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.once_in_ci


@pytest.fixture(scope="module")
def server_without_dependencies() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "TRYGG_DATA_DIR": tempfile.mkdtemp(prefix="trygg-faults-"),
        "DJANGO_SETTINGS_MODULE": "trygg.settings",
    })
    log = tempfile.NamedTemporaryFile(prefix="trygg-faults-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "trygg.asgi:application", "--port", str(port),
                                "--lifespan", "off"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=5)
            break
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(Path(log.name).read_text()[-3000:]) from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    Path(log.name).unlink(missing_ok=True)


def test_with_the_database_down_the_api_and_pages_answer_503_with_retry_after(server_without_dependencies) -> None:
    """A send with PostgreSQL down answered 500; now 503 {"error": "unavailable"} with Retry-After."""
    url = server_without_dependencies
    answer = httpx.post(f"{url}/api/v1/conversations/1/messages", json={"body": "hei", "client_txn_id": "t1"},
                        headers={"Authorization": "Bearer some-token"}, timeout=30)
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error"] == "unavailable" and body["message"] and "rule" in body
    assert int(answer.headers["Retry-After"]) > 0
    token = httpx.post(f"{url}/api/v1/auth/token", json={"username": "kari.4a", "password": "demo"}, timeout=30)
    assert token.status_code == 503 and token.json()["error"] == "unavailable"
    page = httpx.get(f"{url}/login/", timeout=30)
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0


def test_healthz_says_which_part_is_down_and_readyz_refuses(server_without_dependencies) -> None:
    """/healthz answered 500 with PostgreSQL down; now it names each part, and /readyz is 503."""
    health = httpx.get(f"{server_without_dependencies}/healthz", timeout=30)
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "database": "down", "redis": "down"}
    ready = httpx.get(f"{server_without_dependencies}/readyz", timeout=30)
    assert ready.status_code == 503 and int(ready.headers["Retry-After"]) > 0


def test_a_socket_that_cannot_reach_its_dependencies_closes_with_1012(server_without_dependencies) -> None:
    """A fresh socket was dropped with no close frame; now it is closed with 1012 (service restart)."""
    netloc = server_without_dependencies.removeprefix("http://")

    async def attempt() -> int | None:
        async with connect(f"ws://{netloc}/ws/events", origin=f"http://{netloc}") as ws:
            await ws.send('{"type": "auth", "token": "some-token"}')
            try:
                await asyncio.wait_for(ws.recv(), timeout=15)
            except Exception:  # noqa: BLE001 - the close is what is looked at
                pass
            return ws.close_code

    assert asyncio.run(attempt()) == 1012


@pytest.mark.django_db
def test_healthz_on_a_healthy_server_says_ok_and_names_a_down_redis(settings) -> None:
    healthy = Client().get("/healthz")
    assert healthy.status_code == 200 and healthy.json()["status"] == "ok" and healthy.json()["database"] == "ok"
    assert Client().get("/readyz").status_code == 200
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    redis_down = Client().get("/healthz")
    assert redis_down.status_code == 503
    assert redis_down.json() == {"status": "unavailable", "database": "ok", "redis": "down"}
