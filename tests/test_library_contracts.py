"""The private parts of asgiref, Channels and Django that Trygg's performance layers lean on.

Each layer says in its docstring why it reaches past a library's public interface. These tests fail
loudly, naming the part, when an upgrade moves one of them; ``pyproject.toml`` pins the libraries to
the versions these tests cover. Behaviour over real servers is tested elsewhere (``test_asgi.py``,
``test_realtime.py``, ``test_sqlite_backend.py``, ``events/``); here is only the contract.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from importlib.metadata import version
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, sync_to_async


def test_the_pinned_versions_are_the_ones_installed() -> None:
    """pyproject.toml pins what these contracts were checked against; an upgrade must re-check them."""
    assert version("django").startswith("5.2.")
    assert version("channels").startswith("4.3.")
    assert version("asgiref").startswith("3.13.")
    assert version("channels_redis").startswith("4.3.")


async def test_asgiref_records_the_servers_loop_for_its_request_threads() -> None:
    """``trygg.events.log._server_loop`` reads ``SyncToAsync.threadlocal.main_event_loop`` (and its
    pid) to hand pushes from a request thread to the server's loop."""
    from trygg.events.log import _server_loop

    loop = asyncio.get_running_loop()

    def inside() -> tuple[object, object, object]:
        local = SyncToAsync.threadlocal
        return getattr(local, "main_event_loop", None), getattr(local, "main_event_loop_pid", None), _server_loop()

    seen_loop, seen_pid, server_loop = await sync_to_async(inside, thread_sensitive=True)()
    assert seen_loop is loop
    assert seen_pid == os.getpid()
    assert server_loop is loop

    # The database pool's threads (trygg.asgi, issue 15) are an executor of our own: asgiref must
    # record the loop there too, or pushes from sends on PostgreSQL would not reach the sockets.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        seen_loop, seen_pid, server_loop = await sync_to_async(inside, thread_sensitive=False, executor=pool)()
    assert seen_loop is loop
    assert seen_pid == os.getpid()
    assert server_loop is loop


def test_channels_in_memory_layer_keeps_the_state_process_layer_uses() -> None:
    """``ProcessChannelLayer`` reuses ``InMemoryChannelLayer``'s ``channels``, ``groups``,
    ``expiry``, ``get_capacity`` and ``_clean_expired``."""
    from channels.layers import InMemoryChannelLayer

    from trygg.realtime import ProcessChannelLayer

    layer = InMemoryChannelLayer()
    assert isinstance(layer.channels, dict)
    assert isinstance(layer.groups, dict)
    assert isinstance(layer.expiry, int | float)
    assert layer.get_capacity("some.channel") > 0
    assert callable(layer._clean_expired)
    assert inspect.signature(layer._clean_expired).parameters == {}

    async def group_roundtrip() -> dict[str, object]:
        ours = ProcessChannelLayer()
        channel = await ours.new_channel()
        await ours.group_add("g", channel)
        assert channel in ours.groups["g"]
        await ours.group_send("g", {"type": "x.y", "n": 1})
        return await ours.receive(channel)

    assert asyncio.run(group_roundtrip()) == {"type": "x.y", "n": 1}


def test_channels_dispatch_contract_is_what_socket_consumer_replaces() -> None:
    """``SocketConsumer.dispatch`` replaces ``AsyncConsumer.dispatch`` (which hops to the database
    thread first) and names handlers with ``channels.consumer.get_handler_name``."""
    from channels.consumer import AsyncConsumer, get_handler_name

    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive"
    source = inspect.getsource(AsyncConsumer.dispatch)
    assert "get_handler_name" in source
    assert inspect.iscoroutinefunction(AsyncConsumer.dispatch)


def test_channels_redis_gives_the_hub_a_redis_client_per_loop_and_its_serializer() -> None:
    """The hub publishes and subscribes through the channel layer's own Redis client
    (``connection(0)``, one per event loop) and encodes with the layer's serializer (``to_hubs``):
    redis-py's ``publish`` and ``pubsub``, and a ``get_message`` that blocks with ``timeout=None``."""
    from channels_redis.core import RedisChannelLayer
    from redis.asyncio.client import PubSub

    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:1"], prefix="contract")
    message = {"type": "hub.event", "id": 7, "body": "{}", "to": [[1, None]], "origin": "x"}
    assert layer.deserialize(layer.serialize(message)) == message
    assert isinstance(layer.prefix, str)

    async def client() -> tuple[Any, Any]:
        redis = layer.connection(0)  # no connection is made until a command runs
        return redis, redis.pubsub()

    redis, subscription = asyncio.run(client())
    assert callable(redis.publish)
    assert isinstance(subscription, PubSub)
    parameters = inspect.signature(PubSub.get_message).parameters
    assert "timeout" in parameters and "ignore_subscribe_messages" in parameters
    assert "block=(timeout is None)" in inspect.getsource(PubSub.get_message)


def test_django_asgi_handler_has_the_hooks_the_shared_thread_handler_overrides() -> None:
    """``SharedThreadASGIHandler`` overrides ``get_response_async`` and calls ``handle(scope,
    receive, send)``; it loads a sync middleware chain with ``load_middleware(is_async=False)``."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.base import BaseHandler

    assert list(inspect.signature(ASGIHandler.handle).parameters) == ["self", "scope", "receive", "send"]
    # What the override leaves out: the per-request thread context that __call__ adds around handle.
    assert "ThreadSensitiveContext" in inspect.getsource(ASGIHandler.__call__)
    assert inspect.iscoroutinefunction(ASGIHandler.handle)
    # handle() runs the request through run_get_response(), which awaits get_response_async().
    import django.core.handlers.asgi as django_asgi

    assert "self.get_response_async(request)" in inspect.getsource(django_asgi)
    assert "is_async" in inspect.signature(BaseHandler.load_middleware).parameters
    # _ResolvedOnce: the sync chain resolves through resolve_request(request), which sets
    # request.resolver_match and honours request.urlconf.
    resolving = inspect.getsource(BaseHandler._get_response)
    assert "self.resolve_request(request)" in resolving
    assert "request.resolver_match = resolver_match" in inspect.getsource(BaseHandler.resolve_request)


def test_django_sqlite_cursor_converts_through_convert_query() -> None:
    """``trygg.sqlite``'s cursor caches ``convert_query``: Django's cursor must still call it for
    every statement, and its backend must make cursors in ``create_cursor``."""
    from django.db.backends.sqlite3 import base

    assert "self.convert_query(query" in inspect.getsource(base.SQLiteCursorWrapper.execute)
    assert "self.convert_query(query" in inspect.getsource(base.SQLiteCursorWrapper.executemany)
    assert "FORMAT_QMARK_REGEX" in inspect.getsource(base.SQLiteCursorWrapper.convert_query)
    assert "create_cursor" in inspect.getsource(base.DatabaseWrapper)


@pytest.mark.parametrize("name", ["_start_transaction_under_autocommit", "_commit", "_rollback", "_close"])
def test_django_sqlite_backend_has_the_methods_trygg_wraps(name: str) -> None:
    """``trygg.sqlite`` takes its write lock in ``_start_transaction_under_autocommit`` and releases
    it in ``_commit``, ``_rollback`` and ``_close``: Django must still call them."""
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.sqlite3 import base

    from trygg.sqlite.base import DatabaseWrapper

    assert callable(getattr(base.DatabaseWrapper, name))
    assert name in DatabaseWrapper.__dict__
    caller = {"_start_transaction_under_autocommit": "set_autocommit", "_commit": "commit",
              "_rollback": "rollback", "_close": "close"}[name]
    assert name in inspect.getsource(getattr(BaseDatabaseWrapper, caller))


def test_uvicorn_s_sans_io_websockets_protocol_waits_while_the_transport_is_paused() -> None:
    """``trygg serve`` runs uvicorn's ``websockets-sansio`` protocol, which writes a frame straight to
    the transport: a socket whose reader does not keep up must still hold its sender back (pushes
    then queue in the socket's inbox, bounded by ``INBOX_LIMIT``), so each send waits while the
    transport is paused."""
    from uvicorn.config import WS_PROTOCOLS
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    assert WS_PROTOCOLS["websockets-sansio"].endswith(":WebSocketsSansIOProtocol")
    send = inspect.getsource(WebSocketsSansIOProtocol.send)
    assert "await self.writable.wait()" in send
    assert "self.writable.clear()" in inspect.getsource(WebSocketsSansIOProtocol.pause_writing)
    assert "self.writable.set()" in inspect.getsource(WebSocketsSansIOProtocol.resume_writing)
    # The options trygg.cli passes are honoured by that protocol too.
    init = inspect.getsource(WebSocketsSansIOProtocol.__init__)
    assert "ws_max_size" in init and "ws_ping_interval" in init and "ws_per_message_deflate" in init
