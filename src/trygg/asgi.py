"""ASGI entry point: Django for HTTP, Channels for WebSockets."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trygg.settings")

import django  # noqa: E402
from asgiref.sync import iscoroutinefunction, sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.base import BaseHandler  # noqa: E402
from django.db import close_old_connections, connection, reset_queries  # noqa: E402
from django.http import HttpRequest, HttpResponseBase  # noqa: E402
from django.urls import Resolver404, ResolverMatch, get_resolver  # noqa: E402

django.setup(set_prefix=False)


class SharedThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler, running every sync view in the process's one shared thread.

    Django gives each request a thread of its own (``__call__`` wraps it in a
    ``ThreadSensitiveContext``), and with it a new database connection: on the message send path,
    starting both cost more than the send itself, and thirty concurrent senders meant thirty
    threads taking turns at the GIL and one SQLite writer. ``__call__`` here calls ``handle``
    without that context, so every ``thread_sensitive`` call (each sync view, and each socket's
    ``database_sync_to_async``) runs in asgiref's one shared thread of the process and reuses its
    connection (``CONN_MAX_AGE``). The price is the one design.md names: a slow sync call delays
    the others in its process, so views stay short and slow work is a job.

    A request for a sync view runs the whole middleware chain, in its sync form, in one hop to that
    thread. In async mode Django runs each hook of its own middleware (``process_request``,
    ``process_response``) through ``sync_to_async``: about fifteen hops per request, which cost
    more than the message send itself (``bench/bench_messaging.py``). Async views (the long poll)
    keep the async chain (``trygg.web.middleware`` is async-capable), so they never hold the thread.

    On PostgreSQL (issue 15) the one thread is the bottleneck instead: every query is a round trip,
    and while the thread waits for PostgreSQL nothing else of the process runs; a second worker
    process gained little. There sync views run on a bounded pool of ``TRYGG_DB_THREADS`` threads,
    each keeping a connection of its own (Django's connections are thread-local), so database
    waits overlap. What makes that safe: the event log's advisory lock makes commit order equal
    id order whatever thread commits (``trygg.events.log``); a push handed to the loop out of order
    by two threads is a gap to the socket, which reads the log and drops the late push (exactly
    once, in order: ``trygg.events.consumers``); asgiref records the server's loop for pool threads
    too (``SyncToAsync.thread_handler``), so pushes reach the loop from any of them; the caches sync
    code shares are locked (``directory.facts``, ``directory.queries``, the policy registry) or
    hold values any thread may recompute (``policy.engine._compiled``). SQLite keeps the one
    thread: one writer at a time, so more threads would only queue on its lock.

    ``handle``, ``get_response_async`` and ``load_middleware(is_async=False)`` are Django's internal
    hooks; ``tests/test_library_contracts.py`` checks them against the Django ``pyproject.toml`` pins.
    """

    def __init__(self) -> None:
        super().__init__()
        self._sync_handler = _ResolvedOnce()
        self._sync_handler.load_middleware(is_async=False)
        # Django's request_started receivers (close_old_connections, reset_queries) are sync, so
        # ``handle`` hopped to the shared thread for them before every request: on SQLite, where
        # the view itself runs there, a second hop per request, about 7 % of a send's CPU
        # (in-process ASGI sends, 3.8 -> 3.5 ms). Each request does the same below, in the thread
        # whose connection it uses.
        signals.request_started.disconnect(close_old_connections)
        signals.request_started.disconnect(reset_queries)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        match = _resolve(request.path_info)
        if match is not None and iscoroutinefunction(match.func):
            await sync_to_async(_request_begins, thread_sensitive=True)()
            return await super().get_response_async(request)
        request._trygg_match = match  # type: ignore[attr-defined] - see _ResolvedOnce
        if request.method == "POST" and request.path_info in SIGN_IN_PATHS:
            # A sign-in hashes a password (tens of milliseconds) and may wait out the throttling
            # delay (seconds): on threads of its own, so the shared thread keeps serving everyone.
            return await sync_to_async(self._own_connection, thread_sensitive=False, executor=_sign_in_pool())(request)
        pool = _database_pool()
        if pool is not None:
            return await sync_to_async(self._own_connection, thread_sensitive=False, executor=pool)(request)
        return await sync_to_async(self._own_connection, thread_sensitive=True)(request)

    def _own_connection(self, request: HttpRequest) -> HttpResponseBase:
        # Django drops a broken or expired connection when a request starts and ends
        # (close_old_connections), in its request signals. Here it is done in the thread that runs
        # the view, for that thread's connection: a sign-in or database-pool thread keeps one of
        # its own (after a PostgreSQL restart every sign-in on such a thread answered 503 for
        # ever, tests/faults/), and the shared thread no longer hears request_started.
        _request_begins()
        try:
            return self._sync_handler.get_response(request)
        finally:
            close_old_connections()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


def _request_begins() -> None:
    """What Django's request_started receivers did, in the calling thread."""
    reset_queries()
    close_old_connections()


# The throttled sign-ins: the login page, the token endpoint, the admin's login, and the page that
# takes a link code.
SIGN_IN_PATHS = frozenset({"/login/", "/api/v1/auth/token", "/admin/login/", "/signin/unknown/"})
SIGN_IN_THREADS = 8
_pool: ThreadPoolExecutor | None = None


def _sign_in_pool() -> ThreadPoolExecutor:
    # Bounded: more sign-ins at once queue here. Hashing itself is bounded further, to the cores
    # (trygg.directory.actions), so waiting out a delay never holds a hash slot.
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=SIGN_IN_THREADS, thread_name_prefix="trygg-sign-in")
    return _pool


_database: ThreadPoolExecutor | None = None
_database_lock = threading.Lock()


def _database_pool() -> ThreadPoolExecutor | None:
    """Return the pool that runs sync views, or None for asgiref's one shared thread.

    Only on PostgreSQL with ``TRYGG_DB_THREADS`` above 0. Bounded: each thread holds a connection,
    so a process holds at most this many for its views (plus the shared thread's, used by the
    sockets, and the sign-in threads'); more requests at once queue here, not in PostgreSQL.
    """
    global _database
    if _database is None:
        threads = settings.TRYGG_DB_THREADS
        if threads <= 0 or connection.vendor != "postgresql":
            return None
        with _database_lock:
            if _database is None:
                _database = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trygg-db")
    return _database


def _resolve(path: str) -> ResolverMatch | None:
    try:
        return get_resolver().resolve(path)
    except Resolver404:
        return None  # the 404 page is a sync view


class _ResolvedOnce(BaseHandler):
    """Django's sync handler, reusing the match the loop made to choose the thread.

    Resolving a path walks every pattern of the API; done on the loop and again on the thread, it
    was 5 % of the loop's time and the same again on the thread under bench/bench_messaging.py
    (py-spy). A middleware that sets ``request.urlconf`` still gets a resolve of its own.
    """

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        match = getattr(request, "_trygg_match", None)
        if match is None or hasattr(request, "urlconf"):
            return super().resolve_request(request)
        request.resolver_match = match
        return match


django_asgi = SharedThreadASGIHandler()


class LongPollDoor:
    """``GET /api/v1/events`` with a bearer token, answered beside Django's chain rather than through it.

    The long poll is an async view, and Django runs its middleware around an async view hook by hook,
    each sync hook in a hop to the process's one shared thread (about twenty per request), where
    they queued behind the message sends: a class message wakes 30 long polls, whose answers and
    next polls made 600 hops, and the last of the 30 had the message after about 330 ms
    (``bench/bench_phases.py``, phase b). Here a poll costs one read on the long-poll thread
    (``trygg.events.api.on_poll_thread``), of the log, and a read of its token when the process has
    not seen the token lately.

    Only the common case comes this way: a GET of exactly this path for a host Django serves, with a
    bearer token, no cookie, no ``Accept-Language``, no forwarded host, and ``after``/``timeout``
    that are plainly valid. Anything else (a session cookie, a token that finds nobody, a bad
    parameter, another host, HTTPS redirection) goes to Django, which answers it as before. The
    answer's headers are Django's own for this endpoint (``tests/events/test_long_poll_door.py``
    compares them), and the answer is the view's (``trygg.events.api.answer``). A token found live
    is remembered for the next polls until its person's sign-in ends (``trygg.events.hub``).
    """

    PATH = "/api/v1/events"

    def __init__(self, django_app: Any) -> None:
        self.django_app = django_app
        self._headers: list[tuple[bytes, bytes]] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = self._plain(scope)
        if request is None:
            await self.django_app(scope, receive, send)
            return
        raw, after, timeout = request
        from trygg.api_auth import token_in_use
        from trygg.events import hub
        from trygg.events.api import answer, on_poll_thread

        token = hub.remembered_poll_token(raw)
        if token is None:
            try:
                token = await on_poll_thread(token_in_use, raw)
            except Exception:  # noqa: BLE001 - Django answers it, 503 included, as it answers any request
                token = None
            if token is None:
                await self.django_app(scope, receive, send)
                return
            hub.remember_poll_token(raw, token)
        waiting = asyncio.ensure_future(answer(token.person_id, after, timeout))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not waiting.done():
            waiting.cancel()  # the client left: stop listening for it
            return
        headers = self._answer_headers(token.person.language, secure=scope.get("scheme") == "https")
        try:
            body, status = waiting.result().encode(), 200
        except Exception as exc:  # noqa: BLE001 - a dependency that went away mid-wait
            from trygg.api_errors import trygg_error_response
            from trygg.database import is_unavailable
            from trygg.errors import Unavailable

            if not is_unavailable(exc):
                raise
            response = trygg_error_response(Unavailable())
            body, status = response.content, 503
            headers.append((b"retry-after", response["Retry-After"].encode()))
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _plain(self, scope: dict[str, Any]) -> tuple[str, int, float] | None:
        """Return (token, after, timeout) of a request this door answers, else None."""
        from django.conf import settings
        from django.http.request import split_domain_port, validate_host

        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self.PATH:
            return None
        if settings.SECURE_SSL_REDIRECT and scope.get("scheme") != "https":
            return None
        raw = None
        host = None
        for name, value in scope["headers"]:
            if name in (b"cookie", b"accept-language", b"x-forwarded-host"):
                return None
            if name == b"host":
                host = value.decode("latin-1")
            if name == b"authorization":
                if raw is not None:
                    return None
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not rest.strip():
                    return None
                raw = rest.strip()
        # The host Django would check (its 400 for a host it does not serve is its own to give).
        if raw is None or host is None or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
            return None
        try:
            query = parse_qs(scope.get("query_string", b"").decode("ascii"), keep_blank_values=True,
                             strict_parsing=False)
        except UnicodeDecodeError:
            return None
        if set(query) - {"after", "timeout"} or any(len(v) != 1 for v in query.values()):
            return None
        after_text = query.get("after", ["0"])[0]
        timeout_text = query.get("timeout", ["25"])[0]
        if not after_text.isascii() or not after_text.isdigit() or len(after_text) > 18:
            return None
        try:
            timeout = float(timeout_text)
        except ValueError:
            return None
        if not 0 <= timeout <= 30:  # also refuses nan
            return None
        return raw, int(after_text), timeout

    def _answer_headers(self, language: str, *, secure: bool) -> list[tuple[bytes, bytes]]:
        from django.conf import settings

        if self._headers is None:
            self._headers = _django_headers()
        headers = [(b"content-language", (language or settings.LANGUAGE_CODE).encode()), *self._headers]
        if secure and settings.SECURE_HSTS_SECONDS:
            # As SecurityMiddleware: on secure requests only.
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                hsts += "; preload"
            headers.append((b"strict-transport-security", hsts.encode()))
        return headers


def _django_headers() -> list[tuple[bytes, bytes]]:
    """The headers Django's chain gives a 200 JSON answer of the API, from the same settings."""
    from csp.utils import build_policy
    from django.conf import settings

    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
        (b"vary", b"Accept-Language, Cookie"),
        (b"content-security-policy", build_policy().encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()),
        (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()),
    ]
    return headers


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from trygg.events.origin import OriginValidator  # noqa: E402
from trygg.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": LongPollDoor(django_asgi),
        # Scheme, host and port of the page are checked; a client without Origin signs in by token.
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Load every view now, then move what start-up made out of the collector's sight: a full
# collection of a Django process scanned all of it and paused the event loop for 40-60 ms, the
# worst latency of a class-channel message (bench/bench_messaging.py). Objects made later are
# collected as usual.
get_resolver().url_patterns  # noqa: B018 - imported for its side effect
# The safety-signal model is built on first use; built here, the first message a process takes
# no longer waits for it (the first announcement to 1,000 guardians took about a second longer
# than the next ones, bench/bench_announcement.py).
from trygg.policy.signals.model import load_model  # noqa: E402

load_model()
gc.freeze()

