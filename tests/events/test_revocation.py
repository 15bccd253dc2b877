"""Closing a person's sockets in every process: by credential, all but one, or all of them.

Runs on whichever channel layer the environment configures: in process on SQLite, through the
hub's Redis group when REDIS_URL is set (as a second worker process would receive it).
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from trygg.directory.models import ApiToken, Person
from trygg.events.log import close_sockets_of
from trygg.events.routing import websocket_urlpatterns
from trygg.events.sockets import session_credential, token_credential

pytestmark = pytest.mark.django_db(transaction=True)

APP = URLRouter(websocket_urlpatterns)


@database_sync_to_async
def issue(username: str) -> tuple[int, str, str]:
    person = Person.objects.get(username=username)
    token, raw = ApiToken.issue(person)
    return person.pk, raw, token_credential(token.pk)


async def signed_in(raw: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(APP, "/ws/events")
    connected, _sub = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": raw})
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return ws


async def closed_code(ws: WebsocketCommunicator, timeout: float = 5.0) -> int | None:
    while True:
        output = await ws.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code")


async def still_open(ws: WebsocketCommunicator) -> bool:
    await ws.send_json_to({"type": "ping"})
    frame: dict[str, Any] = await ws.receive_json_from(timeout=5)
    return frame["type"] == "pong"


async def test_closing_one_credential_closes_only_its_sockets(demo) -> None:
    """A revoked token closes the sockets signed in with it (4401); the person's other device and
    other people stay connected."""
    mor_id, first, first_credential = await issue("mor.emma")
    _mor, second, _second_credential = await issue("mor.emma")
    _far, far_token, _far_credential = await issue("far.emma")
    a, b, far = await signed_in(first), await signed_in(second), await signed_in(far_token)
    await database_sync_to_async(close_sockets_of)(mor_id, credential=first_credential)
    assert await closed_code(a) == 4401
    assert await still_open(b)
    assert await still_open(far)
    for ws in (b, far):
        await ws.disconnect()


async def test_keep_closes_every_other_sign_in(demo) -> None:
    """A password change closes every socket of the person but those of the sign-in that made it."""
    mor_id, first, first_credential = await issue("mor.emma")
    _mor, second, _ = await issue("mor.emma")
    _mor, third, _ = await issue("mor.emma")
    a, b, c = await signed_in(first), await signed_in(second), await signed_in(third)
    await database_sync_to_async(close_sockets_of)(mor_id, keep=first_credential, code=4401)
    assert await closed_code(b) == 4401
    assert await closed_code(c) == 4401
    assert await still_open(a)
    await a.disconnect()


async def test_closing_all_closes_the_meeting_socket_too(demo) -> None:
    """Every signed-in socket is watched, the meeting socket included (it shares the handshake)."""
    from trygg.meetings.routing import websocket_urlpatterns as meeting_routes

    kari_id, raw, _credential = await issue("kari.4a")
    events = await signed_in(raw)
    meeting = WebsocketCommunicator(URLRouter(meeting_routes), "/ws/meetings/1")
    connected, _sub = await meeting.connect()
    assert connected
    await meeting.send_json_to({"type": "auth", "token": raw})
    await meeting.send_json_to({"type": "ping"})
    assert (await meeting.receive_json_from(timeout=5))["error"] == "join_first"
    await database_sync_to_async(close_sockets_of)(kari_id)
    assert await closed_code(events) == 4401
    assert await closed_code(meeting) == 4401


def test_credentials_do_not_carry_the_session_key() -> None:
    """The credential of a session is a hash: it travels through Redis and must not sign anyone in."""
    assert session_credential(None) is None
    credential = session_credential("abcdef0123456789")
    assert credential is not None and credential.startswith("session:")
    assert "abcdef0123456789" not in credential
    assert token_credential(7) == "token:7"


@pytest.mark.django_db(transaction=False)
def test_nothing_closes_before_the_transaction_commits(demo, django_capture_on_commit_callbacks) -> None:
    """Inside an action's transaction the close waits for the commit, like a push."""
    person = Person.objects.get(username="mor.emma")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        close_sockets_of(person.pk)
    assert len(callbacks) == 1
