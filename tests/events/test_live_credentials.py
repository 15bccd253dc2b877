"""The first bullet of issue 12's "Why", by the two routes no other test takes over a socket: after
a web logout, and after an API logout, an open ``/ws/events`` socket of that sign-in kept
receiving new messages. Now it closes with 4401 and hears nothing more; the person's other
sign-ins keep their sockets (R-PRIV-01)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from trygg.asgi import application
from trygg.directory.models import ApiToken, Person

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "localhost:8000"


def events_socket(cookie: str | None = None) -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", f"http://{HOST}".encode())]
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/events", headers=headers)


async def signed_in_by_token(raw: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, "/ws/events", headers=[(b"host", HOST.encode())])
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "auth", "token": raw})
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    return ws


async def closed_with(ws: WebsocketCommunicator) -> int | None:
    while True:
        message = await ws.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return message.get("code")


async def still_open(ws: WebsocketCommunicator) -> bool:
    await ws.send_json_to({"type": "ping"})
    while True:
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] == "pong":
            return True


async def test_r_priv_01_a_web_logout_closes_the_socket_its_cookie_opened(demo) -> None:
    browser = Client()
    await database_sync_to_async(browser.force_login)(await database_sync_to_async(Person.objects.get)(
        username="mor.emma"))
    by_cookie = events_socket(browser.cookies["sessionid"].value)
    assert (await by_cookie.connect())[0]
    assert (await by_cookie.receive_json_from(timeout=5))["type"] == "hello"
    _token, raw = await database_sync_to_async(ApiToken.issue)(
        await database_sync_to_async(Person.objects.get)(username="mor.emma"))
    app = await signed_in_by_token(raw)
    answer = await database_sync_to_async(browser.post)("/logout/")
    assert answer.status_code == 302
    assert await closed_with(by_cookie) == 4401
    assert await still_open(app)
    await app.disconnect()


async def test_r_priv_01_an_api_logout_closes_the_socket_of_that_token(demo) -> None:
    person = await database_sync_to_async(Person.objects.get)(username="far.emma")
    _first, first_raw = await database_sync_to_async(ApiToken.issue)(person)
    _second, second_raw = await database_sync_to_async(ApiToken.issue)(person)
    leaving, staying = await signed_in_by_token(first_raw), await signed_in_by_token(second_raw)
    answer = await database_sync_to_async(Client(HTTP_AUTHORIZATION=f"Bearer {first_raw}").post)(
        "/api/v1/auth/logout", content_type="application/json")
    assert answer.status_code == 204
    assert await closed_with(leaving) == 4401
    assert await still_open(staying)
    await staying.disconnect()
