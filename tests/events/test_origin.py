"""Only pages of Trygg's own origin open sockets with the person's cookie; native clients without
Origin sign in by token (issue 12, R-PRIV-01)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from trygg.asgi import application
from trygg.directory.models import ApiToken, Person

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def session_cookie(username: str) -> str:
    client = Client()
    client.force_login(Person.objects.get(username=username))
    return client.cookies["sessionid"].value


@database_sync_to_async
def bearer(username: str) -> str:
    return ApiToken.issue(Person.objects.get(username=username))[1]


def socket(origin: str | None, cookie: str | None = None, host: str = "localhost:8000",
           scheme: str = "ws") -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    ws = WebsocketCommunicator(application, "/ws/events", headers=headers)
    ws.scope["scheme"] = scheme
    return ws


@pytest.mark.parametrize("origin", [
    "http://localhost:1", "http://127.0.0.1:9", "https://localhost:8000", "http://localhost",
    "http://evil.example:8000", "null", "file://", "http://localhost:8000.evil.example",
])
async def test_r_priv_01_a_page_of_another_scheme_host_or_port_cannot_open_a_socket(demo, origin) -> None:
    """The socket accepted http://localhost:1, http://127.0.0.1:9 and https:// variants; now each is
    refused in the handshake."""
    ws = socket(origin, await session_cookie("mor.emma"))
    connected, _code = await ws.connect()
    assert not connected


async def test_the_own_origin_opens_a_socket_signed_in_by_its_cookie(demo) -> None:
    ws = socket("http://localhost:8000", await session_cookie("mor.emma"))
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    await ws.disconnect()


async def test_an_https_page_opens_a_wss_socket_and_the_public_url_is_allowed(demo, settings) -> None:
    settings.TRYGG_PUBLIC_URL = "https://trygg.example"
    settings.ALLOWED_HOSTS = ["trygg.example", "localhost"]
    for origin, host, scheme in [("https://localhost:8443", "localhost:8443", "wss"),
                                 ("https://trygg.example", "10.0.0.5:8000", "ws")]:
        ws = socket(origin, await session_cookie("mor.emma"), host=host, scheme=scheme)
        assert (await ws.connect())[0], origin
        assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
        await ws.disconnect()


async def test_a_native_client_without_origin_signs_in_by_token_only(demo) -> None:
    """No Origin: the socket is accepted but the cookie is ignored (a hello never comes by itself);
    the first-frame token signs it in, as design.md offers native apps."""
    ws = socket(None, await session_cookie("mor.emma"))
    assert (await ws.connect())[0]
    assert await ws.receive_nothing(timeout=0.5)
    await ws.send_json_to({"type": "auth", "token": await bearer("mor.emma")})
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    await ws.disconnect()
