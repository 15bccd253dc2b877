"""The ASGI server's door for the long poll (``trygg.doors.LongPollDoor``): the common request is
answered beside Django's chain, with Django's own headers and body; everything else goes to Django
(issue 15, phase b of the peer bench). Runs the real ASGI application on the real database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.db import transaction

from tests.conftest import CountingApp
from trygg.asgi import LongPollDoor, application
from trygg.directory.models import ApiToken, Person
from trygg.events import log as event_log

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def setup(username: str = "mor.emma") -> tuple[int, str, int]:
    person = Person.objects.get(username=username)
    with transaction.atomic():
        event = event_log.emit_event("test.door", [person.pk], {"n": 1, "text": "æøå"})
    return person.pk, ApiToken.issue(person)[1], event.pk


def door() -> LongPollDoor:
    found = application.application_mapping["http"]
    assert isinstance(found, LongPollDoor)
    return found


@pytest.fixture
def django_calls(monkeypatch: pytest.MonkeyPatch) -> CountingApp:
    counting = CountingApp(door().django_app)
    monkeypatch.setattr(door(), "django_app", counting)
    return counting


async def get(path: str, headers: list[tuple[bytes, bytes]], host: bytes = b"localhost") -> dict[str, Any]:
    return await HttpCommunicator(application, "GET", path, headers=[(b"host", host), *headers]).get_response(
        timeout=10)


def header_map(response: dict[str, Any]) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in response["headers"] if k.lower() not in (b"date", b"server", b"content-length")}


async def test_issue_15_a_plain_bearer_poll_is_answered_beside_django_as_django_answers_it(
    demo, django_calls
) -> None:
    _person, raw, event_id = await setup()
    bearer = (b"authorization", f"Bearer {raw}".encode())
    at_door = await get("/api/v1/events?after=0&timeout=0", [bearer])
    assert django_calls.calls == 0
    # A cookie that is not a session sends the same request through Django's chain.
    through_django = await get("/api/v1/events?after=0&timeout=0", [bearer, (b"cookie", b"theme=dark")])
    assert django_calls.calls == 1
    assert at_door["status"] == through_django["status"] == 200
    assert header_map(at_door) == header_map(through_django)
    assert json.loads(at_door["body"]) == json.loads(through_django["body"])
    assert json.loads(at_door["body"])["last"] == event_id


async def test_issue_15_a_poll_the_kept_pushes_answer_is_answered_at_the_door_as_django_answers_it(
    demo, django_calls, monkeypatch
) -> None:
    """A poll a few events behind, whose events this process was handed (``hub.kept_after``), is
    answered at the door at once, without reading the log, with the status, headers and events
    Django's chain gives for it."""
    from trygg.events import api as events_api
    from trygg.events import hub

    person_id, raw, start = await setup()
    held = hub.listen(person_id, lambda *pushed: None)  # a socket of the process, as in a busy one
    await hub.joined()
    _person, _raw, first = await setup()
    _person, _raw, second = await setup()
    for _ in range(50):
        if hub.pushed_head(person_id) == second:
            break
        await asyncio.sleep(0.05)
    reads: list[Any] = []
    monkeypatch.setattr(events_api, "events_after", lambda *args, **kwargs: reads.append(args) or [])
    bearer = (b"authorization", f"Bearer {raw}".encode())
    at_door = await get(f"/api/v1/events?after={start}&timeout=5", [bearer])
    through_django = await get(f"/api/v1/events?after={start}&timeout=5", [bearer, (b"cookie", b"theme=dark")])
    hub.unlisten(person_id, held)
    assert reads == [] and django_calls.calls == 1
    assert at_door["status"] == through_django["status"] == 200
    assert header_map(at_door) == header_map(through_django)
    got = json.loads(at_door["body"])
    assert got == json.loads(through_django["body"])
    assert [e["id"] for e in got["events"]] == [first, second] and got["last"] == second
    assert [e["prev"] for e in got["events"]] == [start, first]


@pytest.mark.parametrize("path, headers, status", [
    ("/api/v1/events?after=-1&timeout=0", "bearer", 400),
    ("/api/v1/events?after=0&timeout=31", "bearer", 400),
    ("/api/v1/events?after=99999999999999999999&timeout=0", "bearer", 400),
    ("/api/v1/events?after=0&timeout=nan", "bearer", 400),
    ("/api/v1/events?after=0&timeout=0", "bad token", 401),
    ("/api/v1/events?after=0&timeout=0", "none", 401),
])
async def test_issue_15_anything_unusual_is_django_s_to_answer(demo, django_calls, path: str, headers: str,
                                                                status: int) -> None:
    """Bad parameters and bad or missing tokens get Django's answers in the API's error format."""
    _person, raw, _event = await setup()
    sent = {"bearer": [(b"authorization", f"Bearer {raw}".encode())],
            "bad token": [(b"authorization", b"Bearer nope")], "none": []}[headers]
    response = await get(path, sent)
    assert django_calls.calls == 1
    assert response["status"] == status
    assert set(json.loads(response["body"])) >= {"error", "message", "rule", "requirement"}


async def test_issue_15_a_host_django_does_not_serve_is_refused_by_django(demo, django_calls) -> None:
    _person, raw, _event = await setup()
    response = await get("/api/v1/events?after=0&timeout=0", [(b"authorization", f"Bearer {raw}".encode())],
                         host=b"evil.example")
    assert django_calls.calls == 1 and response["status"] == 400


async def test_r_priv_01_a_token_of_a_deactivated_person_is_refused_at_the_door(demo, django_calls) -> None:
    person_id, raw, _event = await setup()
    await database_sync_to_async(Person.objects.filter(pk=person_id).update)(is_active=False)
    response = await get("/api/v1/events?after=0&timeout=0", [(b"authorization", f"Bearer {raw}".encode())])
    assert response["status"] == 401 and django_calls.calls == 1


async def post(path: str, raw: str, body: bytes = b"{}") -> dict[str, Any]:
    return await HttpCommunicator(application, "POST", path, body=body, headers=[
        (b"host", b"localhost"), (b"authorization", f"Bearer {raw}".encode()),
        (b"content-type", b"application/json")]).get_response(timeout=10)


async def poll(raw: str) -> dict[str, Any]:
    return await get("/api/v1/events?after=0&timeout=0", [(b"authorization", f"Bearer {raw}".encode())])


async def test_issue_15_the_door_reads_a_token_once_and_not_for_each_poll(demo, django_calls, monkeypatch) -> None:
    """A class message answers 30 long polls and all 30 come straight back: each poll read its token
    again, a database round trip each. A token found live is remembered by the process."""
    import trygg.api_auth

    _person, raw, event_id = await setup()
    reads: list[str] = []
    real = trygg.api_auth.token_in_use

    def counting(token: str) -> Any:
        reads.append(token)
        return real(token)

    monkeypatch.setattr(trygg.api_auth, "token_in_use", counting)
    for _ in range(3):
        response = await poll(raw)
        assert response["status"] == 200 and json.loads(response["body"])["last"] == event_id
    assert len(reads) == 1 and django_calls.calls == 0


@pytest.mark.parametrize("how", ["logout", "revoke", "new_password", "deactivated"])
async def test_r_priv_01_a_remembered_token_stops_at_the_door_when_its_sign_in_ends(
    demo, django_calls, how: str
) -> None:
    """A phone must not keep streaming after its sign-in ended: the process forgets a remembered
    token as its sockets close, whichever way the sign-in ended, and the next poll is refused."""
    person_id, raw, _event = await setup()
    assert (await poll(raw))["status"] == 200
    assert (await poll(raw))["status"] == 200 and django_calls.calls == 0

    @database_sync_to_async
    def end() -> None:
        from trygg.signin.actions import do_revoke_token

        person = Person.objects.get(pk=person_id)
        if how == "revoke":
            do_revoke_token(person, ApiToken.objects.get(digest=ApiToken.digest_of(raw)))
        elif how == "new_password":
            person.set_password("a new and long password 42")
            person.save()
        elif how == "deactivated":
            person.is_active = False
            person.save()

    if how == "logout":
        assert (await post("/api/v1/auth/logout", raw))["status"] == 204
    else:
        await end()
    calls = django_calls.calls
    response = await poll(raw)
    assert response["status"] == 401 and django_calls.calls == calls + 1


async def test_r_priv_01_a_remembered_token_that_expires_is_refused(demo, django_calls) -> None:
    """The expiry of a remembered token is checked at each poll."""
    from datetime import timedelta

    person_id, _raw, _event = await setup()
    person = await database_sync_to_async(Person.objects.get)(pk=person_id)
    _token, raw = await database_sync_to_async(ApiToken.issue)(person, timedelta(seconds=1))
    assert (await poll(raw))["status"] == 200
    await asyncio.sleep(1.1)
    assert (await poll(raw))["status"] == 401
