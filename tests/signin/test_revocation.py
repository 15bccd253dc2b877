"""Revoking a sign-in closes its open sockets (code 4401): one token's sockets for that token, every
socket of the person for "sign out everywhere"; a revoked token opens no new socket (R-PRIV-01)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from trygg.directory.models import ApiToken, Person
from trygg.routing import websocket_urlpatterns
from trygg.signin import actions

pytestmark = pytest.mark.django_db(transaction=True)
APP = URLRouter(websocket_urlpatterns)


@database_sync_to_async
def issue(username: str) -> tuple[ApiToken, str]:
    return ApiToken.issue(Person.objects.get(username=username))


async def events_socket(raw: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(APP, "/ws/events")
    connected, _sub = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": raw})
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return ws


async def closed_with(ws: WebsocketCommunicator, timeout: float = 5) -> Any:
    message = await ws.receive_output(timeout=timeout)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def test_r_priv_01_revoking_one_token_closes_its_socket_and_no_other(demo) -> None:
    """emma.4a has two apps; she revokes one: its socket closes with 4401, the other stays open."""
    first, first_raw = await issue("emma.4a")
    _second, second_raw = await issue("emma.4a")
    revoked, kept = await events_socket(first_raw), await events_socket(second_raw)
    await database_sync_to_async(lambda: actions.do_revoke_token(first.person, first))()
    assert await closed_with(revoked) == 4401
    await kept.send_json_to({"type": "ping"})
    assert (await kept.receive_json_from(timeout=5))["type"] == "pong"
    await kept.disconnect()
    again = WebsocketCommunicator(APP, "/ws/events")
    await again.connect()
    await again.send_json_to({"type": "auth", "token": first_raw})
    assert (await again.receive_json_from(timeout=5)) == {"type": "error", "error": "not_signed_in"}
    await again.disconnect()


async def test_r_priv_01_sign_out_everywhere_closes_every_socket_of_the_person(demo) -> None:
    """"Sign out everywhere" closes the person's event sockets and meeting sockets; others' stay."""
    _a, a_raw = await issue("kari.4a")
    _b, b_raw = await issue("kari.4a")
    _other, other_raw = await issue("mor.emma")
    kari_events, other_events = await events_socket(a_raw), await events_socket(other_raw)
    meeting = WebsocketCommunicator(APP, "/ws/meetings/1")
    connected, _sub = await meeting.connect()
    assert connected
    await meeting.send_json_to({"type": "auth", "token": b_raw})
    await meeting.send_json_to({"type": "ping"})
    assert (await meeting.receive_json_from(timeout=5)) == {"type": "error", "error": "join_first"}

    @database_sync_to_async
    def everywhere() -> dict[str, int]:
        kari = Person.objects.get(username="kari.4a")
        return actions.do_revoke_everywhere(kari, kari, reason="person")

    assert (await everywhere())["tokens"] >= 2
    assert await closed_with(kari_events) == 4401
    assert await closed_with(meeting) == 4401
    await other_events.send_json_to({"type": "ping"})
    assert (await other_events.receive_json_from(timeout=5))["type"] == "pong"
    await other_events.disconnect()
