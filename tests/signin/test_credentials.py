"""Live credentials die with their owner's intent (issue 12 §1, R-PRIV-01, R-STAFF-02): a password
change by any route ends every older token, session and socket; deactivation ends them all; a
guardian who loses parental responsibility leaves the guardians' channel in the same transaction."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command
from django.test import Client

from trygg.directory.models import ApiToken, Guardianship, Person
from trygg.messaging.actions import ensure_class_channels
from trygg.messaging.models import Conversation, ConversationKind, Membership
from trygg.routing import websocket_urlpatterns

APP = URLRouter(websocket_urlpatterns)


def me(raw: str) -> int:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


def browser(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": "demo"}).status_code == 302
    return client


@pytest.mark.django_db
def test_r_priv_01_set_password_and_save_in_a_shell_ends_every_older_token_and_session(demo) -> None:
    """A bearer token stayed valid for 30 days after a password change; now set_password() and save()
    end it at once, and the browser session with it."""
    mor = Person.objects.get(username="mor.emma")
    _token, raw = ApiToken.issue(mor)
    session = browser("mor.emma")
    assert me(raw) == 200 and session.get("/messages/").status_code == 200
    mor.set_password("a brand new passphrase")
    mor.save()
    assert me(raw) == 401
    assert session.get("/messages/").status_code == 302
    fresh = Client().post("/api/v1/auth/token", {"username": "mor.emma", "password": "a brand new passphrase"},
                          content_type="application/json")
    assert fresh.status_code == 200 and me(fresh.json()["token"]) == 200


@pytest.mark.django_db
def test_r_staff_02_manage_changepassword_ends_older_tokens(demo, monkeypatch) -> None:
    """`trygg manage changepassword kari.4a` (the operator's route) ends her tokens too."""
    _token, raw = ApiToken.issue(Person.objects.get(username="kari.4a"))
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": "Another long passphrase 9")
    call_command("changepassword", "kari.4a", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert me(raw) == 401


@pytest.mark.django_db
def test_saving_a_person_without_a_new_password_ends_nothing(demo) -> None:
    mor = Person.objects.get(username="mor.emma")
    _token, raw = ApiToken.issue(mor)
    mor.phone = "+47 400 00 000"
    mor.save()
    assert me(raw) == 200


@pytest.mark.django_db
def test_r_priv_01_deactivation_ends_tokens_and_sessions(demo) -> None:
    far = Person.objects.get(username="far.emma")
    _token, raw = ApiToken.issue(far)
    session = browser("far.emma")
    far.is_active = False
    far.save()
    assert me(raw) == 401
    assert session.get("/messages/").status_code == 302


@database_sync_to_async
def issue(username: str) -> str:
    return ApiToken.issue(Person.objects.get(username=username))[1]


async def events_socket(raw: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(APP, "/ws/events")
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "auth", "token": raw})
    assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
    await ws.send_json_to({"type": "resume", "after": None})
    return ws


async def close_code(ws: WebsocketCommunicator, timeout: float = 5) -> Any:
    while True:
        output = await ws.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            await ws.disconnect()
            return output.get("code")


@database_sync_to_async
def change_password(username: str, password: str) -> None:
    person = Person.objects.get(username=username)
    person.set_password(password)
    person.save()


@database_sync_to_async
def deactivate(username: str) -> None:
    person = Person.objects.get(username=username)
    person.is_active = False
    person.save()


@pytest.mark.django_db(transaction=True)
async def test_r_priv_01_a_password_change_closes_the_open_sockets_within_5_s(demo) -> None:
    """An open /ws/events socket kept receiving new messages after a password change; now it closes
    with 4401 within 5 s, as do the sockets of a deactivated person."""
    ws = await events_socket(await issue("mor.emma"))
    started = time.monotonic()
    await change_password("mor.emma", "yet another passphrase")
    assert await close_code(ws) == 4401
    assert time.monotonic() - started < 5
    other = await events_socket(await issue("far.emma"))
    await deactivate("far.emma")
    assert await close_code(other) == 4401


@pytest.mark.django_db(transaction=True)
async def test_r_priv_01_a_guardian_who_loses_parental_responsibility_leaves_the_channel_at_once(demo) -> None:
    """far.emma stayed in 'Foresatte 4A' and kept its live feed until a 5-minute job ran; now the
    change of the guardianship takes him out in the same transaction, and his open socket hears
    nothing more of the channel."""
    @database_sync_to_async
    def channel() -> int:
        far = Person.objects.get(username="far.emma")
        link = Guardianship.objects.get(guardian=far, pupil__username="emma.4a")
        ensure_class_channels(link.pupil.enrollments.get().school_class)
        return Conversation.objects.get(kind=ConversationKind.GUARDIANS,
                                        school_class=link.pupil.enrollments.get().school_class).pk

    conversation_id = await channel()
    ws = await events_socket(await issue("far.emma"))

    @database_sync_to_async
    def lose_responsibility() -> bool:
        link = Guardianship.objects.get(guardian__username="far.emma", pupil__username="emma.4a")
        link.parental_responsibility = False
        link.save()
        return Membership.objects.filter(conversation_id=conversation_id, person=link.guardian).exists()

    assert not await lose_responsibility()
    while True:
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] == "conversation.member_removed" or frame.get("conversation_id") == conversation_id:
            break

    @database_sync_to_async
    def teacher_posts() -> None:
        from trygg.messaging.actions import check_send

        check_send(Person.objects.get(username="kari.4a"), conversation_id, "Foreldremøte torsdag", "t-after")

    await teacher_posts()
    await asyncio.sleep(0.5)
    assert await ws.receive_nothing(timeout=1)
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_r_priv_01_the_password_page_ends_every_other_sign_in_but_its_own(demo) -> None:
    """The page route: mor.emma changes her password in one browser; her token, her other browser and
    its socket are ended, while the browser that changed it stays signed in, socket included."""
    @database_sync_to_async
    def setup() -> tuple[Client, Client, str]:
        return browser("mor.emma"), browser("mor.emma"), ApiToken.issue(Person.objects.get(username="mor.emma"))[1]

    here, other, raw = await setup()
    token_socket = await events_socket(raw)

    def cookie_socket(client: Client) -> WebsocketCommunicator:
        from trygg.asgi import application

        return WebsocketCommunicator(application, "/ws/events", headers=[
            (b"host", b"testserver"), (b"origin", b"http://testserver"),
            (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())])

    mine, theirs = cookie_socket(here), cookie_socket(other)
    for ws in (mine, theirs):
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "hello"

    @database_sync_to_async
    def change() -> int:
        return here.post("/signin/password/", {"old_password": "demo", "new_password1": "Fjord-kveld-2026",
                                                "new_password2": "Fjord-kveld-2026"}).status_code

    assert await change() == 200
    assert await close_code(token_socket) == 4401
    assert await close_code(theirs) == 4401
    await mine.send_json_to({"type": "ping"})
    assert (await mine.receive_json_from(timeout=5))["type"] == "pong"
    await mine.disconnect()

    @database_sync_to_async
    def after() -> tuple[int, int, int]:
        return here.get("/messages/").status_code, other.get("/messages/").status_code, me(raw)

    assert await after() == (200, 302, 401)
