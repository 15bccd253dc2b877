"""The ASGI entry point over a real uvicorn server: one middleware chain per kind of view.

Sync views run the sync copy of the middleware chain in one hop to the shared thread; async views
(the long poll) keep the async chain. Either way every answer must carry the same protections.
"""

from __future__ import annotations

import threading
import time

import httpx


def _token(url: str, username: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/token", json={"username": username, "password": "demo"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_r_priv_01_sync_pages_and_api_answers_carry_every_protection(live_server_url: str) -> None:
    """The login page, a signed-in API answer and an API refusal all pass the whole chain."""
    page = httpx.get(f"{live_server_url}/login/", timeout=30)
    assert page.status_code == 200
    assert "script-src" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"]
    assert "csrftoken" in page.cookies

    token = _token(live_server_url, "kari.4a")
    me = httpx.get(f"{live_server_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.status_code == 200 and me.json()["username"] == "kari.4a"
    assert me.headers["Cache-Control"] == "no-store"
    assert me.headers["X-Content-Type-Options"] == "nosniff"

    refused = httpx.get(f"{live_server_url}/api/v1/me", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert refused.status_code == 401
    assert refused.json()["error"] and refused.json()["message"]
    missing = httpx.get(f"{live_server_url}/api/v1/no-such-route", timeout=30)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")
    assert missing.json()["error"]


def test_a_waiting_long_poll_holds_no_thread_from_sync_views(live_server_url: str) -> None:
    """While a long poll waits (async view, async chain), sync views in the same process still
    answer at once: the poll does not occupy the shared thread they run in."""
    token = _token(live_server_url, "mor.emma")
    headers = {"Authorization": f"Bearer {token}"}
    last = httpx.get(f"{live_server_url}/api/v1/events", params={"after": 0, "timeout": 0}, headers=headers,
                     timeout=30).json()["last"]
    polled: dict[str, object] = {}

    def poll() -> None:
        started = time.monotonic()
        response = httpx.get(f"{live_server_url}/api/v1/events", params={"after": last, "timeout": 3},
                             headers=headers, timeout=30)
        polled["seconds"] = time.monotonic() - started
        polled["response"] = response

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.5)
    started = time.monotonic()
    for _ in range(5):
        assert httpx.get(f"{live_server_url}/api/v1/me", headers=headers, timeout=30).status_code == 200
    assert time.monotonic() - started < 2.0
    assert waiter.is_alive(), "the long poll should still be waiting"
    waiter.join()
    response = polled["response"]
    assert response.status_code == 200  # type: ignore[union-attr]
    assert response.headers["Cache-Control"] == "no-store"  # type: ignore[union-attr]
    assert polled["seconds"] >= 2.5  # type: ignore[operator]


def test_a_slowed_sign_in_waits_and_hashes_off_the_shared_thread(live_server_url: str) -> None:
    """A sign-in that waits out the throttling delay (seconds) holds up no other request: the
    shared thread keeps answering API calls meanwhile (issue 12 §4, issue 15 §4). `vo` is slowed
    here: no other test signs in as her on the session's server."""
    for _ in range(8):
        httpx.post(f"{live_server_url}/api/v1/auth/token", json={"username": "vo", "password": "wrong"},
                   timeout=30)
    token = _token(live_server_url, "kari.4a")
    done: dict[str, float] = {}

    def slowed() -> None:
        started = time.monotonic()
        httpx.post(f"{live_server_url}/api/v1/auth/token", json={"username": "vo", "password": "demo"},
                   timeout=30)
        done["sign_in"] = time.monotonic() - started

    thread = threading.Thread(target=slowed)
    thread.start()
    time.sleep(0.3)
    answered = []
    while thread.is_alive():
        started = time.monotonic()
        me = httpx.get(f"{live_server_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert me.status_code == 200
        answered.append(time.monotonic() - started)
    thread.join()
    assert done["sign_in"] >= 2
    assert answered and max(answered) < 1.0
