"""The server pings every socket and lets go of one that stops answering (issue 15: a phone that
vanished without closing holds nothing for long; ``TRYGG_WS_PING_SECONDS``)."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import LiveDatabase, LiveServer


@pytest.fixture(scope="module")
def pinging_server() -> Iterator[LiveServer]:
    database = LiveDatabase("pings")
    # The sign-in deadline far away, so that only the pings can close the socket.
    server = LiveServer({**database.env, "TRYGG_WS_PING_SECONDS": "1", "TRYGG_SOCKET_FIRST_FRAME_SECONDS": "30"})
    yield server
    server.stop()
    database.drop()


def test_issue_15_a_socket_that_stops_answering_pings_is_closed(pinging_server: LiveServer) -> None:
    """A raw client that completes the handshake and then never answers gets a ping within the
    interval and is closed once the same time has passed without a pong."""
    host, port = pinging_server.url.split("//", 1)[1].split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall((f"GET /ws/events HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                     f"Origin: http://{host}:{port}\r\n\r\n").encode())
        handshake = raw.recv(4096)
        assert handshake.startswith(b"HTTP/1.1 101")
        started = time.monotonic()
        received = b""
        while True:
            chunk = raw.recv(4096)
            if not chunk:
                break
            received += chunk
        closed_after = time.monotonic() - started
    # 0x89: a ping frame (FIN + opcode 9); the connection ended without the client closing it.
    assert b"\x89" in received
    assert closed_after < 10
