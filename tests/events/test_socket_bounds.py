"""Sockets cannot exhaust a worker: frame sizes, the first-frame deadline, sockets per person and
per address (issue 12, R-PRIV-01: a revoked or surplus socket hears nothing more)."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from trygg.directory.models import ApiToken, Person
from trygg.events import sockets
from trygg.events.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

APP = URLRouter(websocket_urlpatterns)


@database_sync_to_async
def bearer(username: str) -> str:
    return ApiToken.issue(Person.objects.get(username=username))[1]


def communicator(address: str = "10.0.0.1") -> WebsocketCommunicator:
    ws = WebsocketCommunicator(APP, "/ws/events")
    ws.scope["client"] = (address, 40000)
    return ws


async def signed_in(raw: str, address: str = "10.0.0.1") -> WebsocketCommunicator:
    ws = communicator(address)
    connected, _sub = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": raw})
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    return ws


async def close_code(ws: WebsocketCommunicator, timeout: float = 5.0) -> int | None:
    while True:
        output = await ws.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            await ws.disconnect()
            return output.get("code")


async def test_a_15_mb_first_frame_is_refused_with_1009_before_it_is_decoded(demo) -> None:
    """The first unauthenticated frame of 15 MB closes the socket with 1009; it is never decoded."""
    ws = communicator()
    assert (await ws.connect())[0]
    await ws.send_to(text_data='{"type": "auth", "token": "' + "x" * (15 * 1024 * 1024) + '"}')
    assert await close_code(ws) == sockets.MESSAGE_TOO_BIG


async def test_a_signed_in_socket_may_send_up_to_64_kib_and_no_more(demo) -> None:
    """After sign-in a frame of 64 KiB is read (here: an unknown frame), one byte more closes with 1009."""
    ws = await signed_in(await bearer("mor.emma"))
    pad = 64 * 1024 - len(json.dumps({"type": "x", "pad": ""}))
    await ws.send_to(text_data=json.dumps({"type": "x", "pad": "a" * pad}))
    assert (await ws.receive_json_from(timeout=5))["error"] == "unknown_frame"
    await ws.send_to(text_data=json.dumps({"type": "x", "pad": "a" * (pad + 1)}))
    assert await close_code(ws) == sockets.MESSAGE_TOO_BIG


async def test_a_multibyte_frame_is_measured_in_bytes(demo) -> None:
    """20,000 four-byte characters are 80 KB although only 20,000 characters: refused."""
    ws = await signed_in(await bearer("mor.emma"))
    await ws.send_to(text_data=json.dumps({"type": "x", "pad": "\U0001f600" * 20_000}, ensure_ascii=False))
    assert await close_code(ws) == sockets.MESSAGE_TOO_BIG


async def test_a_binary_frame_closes_with_1003(demo) -> None:
    ws = communicator()
    assert (await ws.connect())[0]
    await ws.send_to(bytes_data=b"\x00" * 10)
    assert await close_code(ws) == sockets.UNSUPPORTED_DATA


async def test_a_socket_silent_for_the_first_frame_deadline_is_closed(demo, settings) -> None:
    """A socket that sends no first frame is closed (4401) after the deadline, 5 s by default."""
    assert settings.TRYGG_SOCKET_FIRST_FRAME_SECONDS == 5
    settings.TRYGG_SOCKET_FIRST_FRAME_SECONDS = 0.3
    ws = communicator()
    assert (await ws.connect())[0]
    assert await close_code(ws, timeout=3) == sockets.NOT_SIGNED_IN


async def test_r_priv_01_the_eleventh_socket_of_a_person_closes_the_oldest(demo) -> None:
    """300 sockets of one person were all accepted; now at most 10 stay, the oldest closes with 4429."""
    assert sockets.settings.TRYGG_SOCKETS_PER_PERSON == 10
    raw = await bearer("mor.emma")
    held = [await signed_in(raw) for _ in range(10)]
    newest = await signed_in(raw)
    assert await close_code(held[0]) == sockets.TOO_MANY_SOCKETS
    for ws in held[1:] + [newest]:
        await ws.send_json_to({"type": "ping"})
        assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
        await ws.disconnect()


async def test_an_address_may_hold_hundreds_of_waiting_sockets_then_is_limited(demo, settings) -> None:
    """A school behind one NAT opens 200 sockets at once and all are accepted; past the limit
    (here lowered to 200 to keep the test short; 256 by default) that address is refused, another
    address is not, and a socket that signs in frees its slot."""
    assert settings.TRYGG_SOCKETS_UNSIGNED_PER_ADDRESS >= 200
    settings.TRYGG_SOCKETS_UNSIGNED_PER_ADDRESS = 200
    waiting = []
    for _ in range(200):
        ws = communicator("192.0.2.7")
        assert (await ws.connect())[0]
        waiting.append(ws)
    assert sockets.unsigned_sockets("192.0.2.7") == 200
    refused = communicator("192.0.2.7")
    assert not (await refused.connect())[0]
    other = communicator("192.0.2.8")
    assert (await other.connect())[0]
    await waiting[0].send_json_to({"type": "auth", "token": await bearer("far.emma")})
    assert (await waiting[0].receive_json_from(timeout=5))["type"] == "hello"
    again = communicator("192.0.2.7")
    assert (await again.connect())[0]
    for ws in [*waiting, other, again]:
        await ws.disconnect()
    await asyncio.sleep(0)
    assert sockets.unsigned_sockets("192.0.2.7") == 0


async def test_rate_limits_off_lifts_the_socket_caps(demo, settings) -> None:
    """TRYGG_RATE_LIMITS=off (benchmarks) lets a person hold more than 10 sockets."""
    settings.TRYGG_RATE_LIMITS = False
    raw = await bearer("mor.emma")
    held = [await signed_in(raw) for _ in range(12)]
    for ws in held:
        await ws.send_json_to({"type": "ping"})
        assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
        await ws.disconnect()


async def test_issue_15_an_event_socket_holds_no_channel_of_its_own_on_the_layer(demo, monkeypatch) -> None:
    """Pushes and closes reach an event socket through the process's hub, so the socket itself does
    not listen on the channel layer. With Redis, a receive per socket cost a pending Redis read each,
    and each closing socket waited up to a second for its cancelled read."""
    from channels.layers import get_channel_layer

    from trygg.events import hub

    layer = get_channel_layer()
    made: list[str] = []
    real_new_channel = layer.new_channel

    async def new_channel(prefix: str = "specific.") -> str:
        made.append(await real_new_channel(prefix))
        return made[-1]

    monkeypatch.setattr(layer, "new_channel", new_channel)
    ws = await signed_in(await bearer("mor.emma"))
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    # With Redis the process's hub has one subscription, shared by all its sockets, and no channel.
    here = hub._hubs.get(asyncio.get_running_loop())
    subscribed = here is not None and here.subscription is not None
    await ws.disconnect()
    assert made == []
    assert subscribed == (not hub.in_process(layer))
