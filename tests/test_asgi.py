"""The ASGI entry point over a real uvicorn server: one middleware chain per kind of view.

Sync views run the sync copy of the middleware chain in one hop to the shared thread; async views
(the long poll) keep the async chain. Either way every answer must carry the same protections.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveDatabase


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


HOLD_SECONDS = 3.0


@contextlib.contextmanager
def _event_log_held(database: LiveDatabase) -> Iterator[None]:
    """Hold the event log's advisory lock (``trygg.events.log``) from outside the server: every
    send waits for it at its last write, inside its transaction."""
    import psycopg

    from trygg.events.log import EVENT_LOG_LOCK

    with psycopg.connect(database.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1),
                         autocommit=True) as pg:
        pg.execute("SELECT pg_advisory_lock(%s)", [EVENT_LOG_LOCK])
        try:
            yield
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s)", [EVENT_LOG_LOCK])


@pytest.mark.postgresql
def test_sends_waiting_on_postgresql_overlap_and_hold_up_no_other_view(
    live_database: LiveDatabase, live_server_url: str
) -> None:
    """Issue 15: on PostgreSQL sync views run on a pool of database threads, so two sends that wait
    for the database wait side by side, and a third request answers meanwhile. On asgiref's one
    shared thread (``TRYGG_DB_THREADS=0``, the code before) the third waited behind the sends."""
    kari_token = _token(live_server_url, "kari.4a")
    kari = httpx.Client(base_url=live_server_url, headers={"Authorization": f"Bearer {kari_token}"}, timeout=60)
    emma = {"Authorization": f"Bearer {_token(live_server_url, 'mor.emma')}"}
    created = kari.post("/api/v1/conversations", json={"kind": "direct", "member_usernames": ["mor.emma"]})
    assert created.status_code in (200, 201), created.text
    conversation = created.json()["id"]
    # Warm up both sign-ins (a token's first use writes when it was used).
    assert httpx.get(f"{live_server_url}/api/v1/me", headers=emma, timeout=30).status_code == 200
    assert kari.get("/api/v1/me").status_code == 200
    spans: dict[int, tuple[float, float, int]] = {}
    answers: dict[int, str] = {}

    def send(n: int) -> None:
        started = time.monotonic()
        response = kari.post(f"/api/v1/conversations/{conversation}/messages",
                             json={"body": f"Venter {n}", "client_txn_id": f"overlap-{time.time_ns()}-{n}"})
        spans[n] = (started, time.monotonic(), response.status_code)
        answers[n] = response.text

    with _event_log_held(live_database):
        held_at = time.monotonic()
        senders = [threading.Thread(target=send, args=(n,)) for n in range(2)]
        for thread in senders:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        me = httpx.get(f"{live_server_url}/api/v1/me", headers=emma, timeout=60)
        waited = time.monotonic() - started
        time.sleep(max(0.0, HOLD_SECONDS - (time.monotonic() - held_at)))
        released_at = time.monotonic()
    for thread in senders:
        thread.join()
    assert me.status_code == 200
    assert [spans[n][2] for n in range(2)] == [201, 201], answers
    # Both sends were held by the lock until it was released: neither got past it earlier.
    assert all(end >= released_at for _start, end, _code in spans.values())
    assert waited < 1.0, f"/api/v1/me waited {waited:.2f} s behind sends waiting on PostgreSQL"


@pytest.mark.django_db
def test_sqlite_keeps_the_one_shared_thread_and_postgresql_gets_the_pool(settings: object) -> None:
    """Issue 15: SQLite lets one writer in at a time, so its sync views stay on asgiref's one
    shared thread (no pool, whatever ``TRYGG_DB_THREADS`` says); PostgreSQL gets a bounded pool of
    ``TRYGG_DB_THREADS`` threads, and 0 turns it off."""
    from django.db import connection

    from trygg import asgi

    pool = asgi._database_pool()
    if connection.vendor == "sqlite":
        assert pool is None
    else:
        assert pool is not None and pool._max_workers == settings.TRYGG_DB_THREADS > 0  # type: ignore[attr-defined]
    saved = asgi._database
    try:
        asgi._database = None
        settings.TRYGG_DB_THREADS = 0  # type: ignore[attr-defined]
        assert asgi._database_pool() is None
        settings.TRYGG_DB_THREADS = 4  # type: ignore[attr-defined]
        made = asgi._database_pool()
        assert (made is None) == (connection.vendor == "sqlite")
        if made is not None:
            made.shutdown()
    finally:
        asgi._database = saved


@pytest.mark.django_db(transaction=True)
async def test_issue_15_a_sync_request_is_resolved_once(demo: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop resolves a request's path to choose its thread; the sync chain reuses that match
    instead of walking every pattern of the API again (``trygg.asgi._ResolvedOnce``)."""
    from channels.db import database_sync_to_async
    from channels.testing import HttpCommunicator
    from django.urls import get_resolver

    from trygg.asgi import application
    from trygg.directory.models import ApiToken, Person

    person = await database_sync_to_async(Person.objects.get)(username="kari.4a")
    _token, raw = await database_sync_to_async(ApiToken.issue)(person)
    resolver = get_resolver()
    resolved: list[str] = []
    real = resolver.resolve

    def counting(p: str) -> object:
        resolved.append(p)
        return real(p)

    monkeypatch.setattr(resolver, "resolve", counting)
    path = "/api/v1/me"
    response = await HttpCommunicator(application, "GET", path, headers=[
        (b"host", b"localhost"), (b"authorization", f"Bearer {raw}".encode())]).get_response(timeout=10)
    assert response["status"] == 200
    assert resolved == [path]


@pytest.mark.django_db(transaction=True)
async def test_issue_15_a_sync_request_checks_its_connection_in_its_own_thread_without_a_second_hop(
    demo: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django's request_started receivers are sync, so every request hopped to the shared thread for
    them before the view's own hop. They are Trygg's to call now: once per request, in the thread
    that runs the view and uses the connection (close_old_connections: a broken or expired one is
    dropped, tests/faults/)."""
    import threading

    from channels.db import database_sync_to_async
    from channels.testing import HttpCommunicator
    from django.core import signals
    from django.db import close_old_connections, reset_queries

    import trygg.api_auth
    import trygg.asgi
    from trygg.directory.models import ApiToken, Person

    # Django's test client and CaptureQueriesContext connect these again after their own use (no
    # server process has either); a new handler leaves request_started with no sync receiver.
    signals.request_started.connect(close_old_connections)
    signals.request_started.connect(reset_queries)
    trygg.asgi.SharedThreadASGIHandler()
    sync_receivers, _async_receivers = signals.request_started._live_receivers(trygg.asgi.SharedThreadASGIHandler)
    assert sync_receivers == []
    person = await database_sync_to_async(Person.objects.get)(username="kari.4a")
    _token, raw = await database_sync_to_async(ApiToken.issue)(person)
    began: list[str] = []
    viewed: list[str] = []
    real_begins, real_token = trygg.asgi._request_begins, trygg.api_auth.token_in_use
    monkeypatch.setattr(trygg.asgi, "_request_begins",
                        lambda: (began.append(threading.current_thread().name), real_begins())[1])
    monkeypatch.setattr(trygg.api_auth, "token_in_use",
                        lambda raw: (viewed.append(threading.current_thread().name), real_token(raw))[1])
    response = await HttpCommunicator(trygg.asgi.application, "GET", "/api/v1/me", headers=[
        (b"host", b"localhost"), (b"authorization", f"Bearer {raw}".encode())]).get_response(timeout=10)
    assert response["status"] == 200
    assert len(began) == 1 and began == viewed
