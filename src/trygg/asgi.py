"""ASGI entry point: Django for HTTP (the plain long poll and send through ``trygg.doors``), Channels for WebSockets."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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

from trygg.database import request_begins, request_ends  # noqa: E402

django.setup(set_prefix=False)

T = TypeVar("T")


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
        return await self.run_as_view(self._sync_handler.get_response, request)

    async def run_as_view(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` where a sync view runs (the shared thread, or on PostgreSQL the
        database pool), with the connection checks a request gets (``trygg.doors``' doors use it)."""
        pool = _database_pool()
        if pool is not None:
            return await sync_to_async(_as_request, thread_sensitive=False, executor=pool)(function, *args)
        return await sync_to_async(_as_request, thread_sensitive=True)(function, *args)

    def _own_connection(self, request: HttpRequest) -> HttpResponseBase:
        return _as_request(self._sync_handler.get_response, request)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


def _request_begins() -> None:
    """What Django's request_started receivers did, in the calling thread."""
    reset_queries()
    request_begins()


def _as_request(function: Callable[..., T], *args: Any) -> T:
    # Django drops a broken or expired connection when a request starts and ends
    # (close_old_connections), in its request signals. Here it is done in the thread that runs
    # the view, for that thread's connection: a sign-in or database-pool thread keeps one of
    # its own (after a PostgreSQL restart every sign-in on such a thread answered 503 for
    # ever, tests/faults/), and the shared thread no longer hears request_started.
    _request_begins()
    try:
        return function(*args)
    finally:
        request_ends()


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


from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from trygg.doors import LongPollDoor, SendDoor  # noqa: E402
from trygg.events.origin import OriginValidator  # noqa: E402
from trygg.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": LongPollDoor(SendDoor(django_asgi, run=django_asgi.run_as_view)),
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

