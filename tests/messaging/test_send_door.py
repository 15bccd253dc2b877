"""The ASGI server's door for a message send (``trygg.doors.SendDoor``): the plain send is
answered beside Django's chain, with Django's own status, headers and body, refusals included;
everything else goes to Django with the body the door read (issue 15, phase a1 of the peer bench).
Runs the real ASGI application on the real database."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.db import DataError, OperationalError
from django.http import Http404

from tests.conftest import CountingApp
from trygg.asgi import LongPollDoor, application
from trygg.directory.models import ApiToken, Person
from trygg.doors import SendDoor
from trygg.errors import TooManyRequests
from trygg.messaging.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

# A cookie that is no session sends a request through Django's chain, and changes nothing else.
THROUGH_DJANGO = (b"cookie", b"theme=dark")


def send_door() -> SendDoor:
    long_poll = application.application_mapping["http"]
    assert isinstance(long_poll, LongPollDoor) and isinstance(long_poll.django_app, SendDoor)
    return long_poll.django_app


@pytest.fixture
def django_calls(monkeypatch: pytest.MonkeyPatch) -> CountingApp:
    counting = CountingApp(send_door().django_app)
    monkeypatch.setattr(send_door(), "django_app", counting)
    return counting


@database_sync_to_async
def token_of(username: str) -> str:
    return ApiToken.issue(Person.objects.get(username=username))[1]


async def request(method: str, path: str, raw: str, body: bytes | dict[str, Any] = b"",
                  *extra: tuple[bytes, bytes]) -> dict[str, Any]:
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = [(b"host", b"localhost"), (b"authorization", f"Bearer {raw}".encode()),
               (b"content-type", b"application/json"), *extra]
    return await HttpCommunicator(application, method, path, body=content, headers=headers).get_response(timeout=10)


async def conversation(raw: str, *usernames: str, kind: str = "group") -> int:
    created = await request("POST", "/api/v1/conversations", raw, {
        "kind": kind, "title": "Fag", "member_usernames": list(usernames), "school_owned": True})
    assert created["status"] == 201, created["body"]
    return json.loads(created["body"])["id"]


def header_map(response: dict[str, Any]) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in response["headers"] if k.lower() not in (b"date", b"server", b"content-length")}


def messages(path: str) -> str:
    return path + "/messages"


async def both_doors(caplog: pytest.LogCaptureFixture, path: str, raw: str, at_door: dict[str, Any],
                     through_django: dict[str, Any]) -> tuple[dict[str, Any], list[Any], dict[str, Any], list[Any]]:
    """Send ``at_door`` through the door, then ``through_django`` through Django's chain: each answer
    with the lines ``django.request`` logged for it."""
    with caplog.at_level(logging.WARNING, logger="django.request"):
        door = await request("POST", path, raw, at_door)
        door_logged = [r for r in caplog.records if r.name == "django.request"]
        caplog.clear()
        django = await request("POST", path, raw, through_django, THROUGH_DJANGO)
        django_logged = [r for r in caplog.records if r.name == "django.request"]
    return door, door_logged, django, django_logged


@database_sync_to_async
def count_messages(conversation_id: int) -> int:
    return Message.objects.filter(conversation_id=conversation_id).count()


async def test_issue_15_a_plain_bearer_send_is_answered_beside_django_as_django_answers_it(
    demo, django_calls
) -> None:
    """The door's 201, nudges included, is Django's: same status, headers and fields; a repeated
    ``client_txn_id`` answers 200 with the first message, as design.md fixes it."""
    ola = await token_of("ola.9b")
    # R-STAFF-05: praise of one pupil in a group nudges the teacher.
    group = await conversation(ola, "sara.9b", "jonas.9b", "nils.9b")
    django_calls.calls = 0
    path = f"/api/v1/conversations/{group}/messages"
    text = {"body": "Sara var veldig flink i dag!"}
    at_door = await request("POST", path, ola, {**text, "client_txn_id": "door-1"})
    assert django_calls.calls == 0
    through_django = await request("POST", path, ola, {**text, "client_txn_id": "django-1"}, THROUGH_DJANGO)
    assert django_calls.calls == 1
    assert at_door["status"] == through_django["status"] == 201
    assert header_map(at_door) == header_map(through_django)
    door_body, django_body = json.loads(at_door["body"]), json.loads(through_django["body"])
    assert door_body["nudges"] and door_body["nudges"] == django_body["nudges"]
    differ = {"id", "event_id", "created_at", "client_txn_id"}
    assert {k: v for k, v in door_body.items() if k not in differ} == \
        {k: v for k, v in django_body.items() if k not in differ}
    assert door_body["client_txn_id"] == "door-1" and door_body["sender"]["username"] == "ola.9b"

    again = await request("POST", path, ola, {**text, "client_txn_id": "door-1"})
    assert again["status"] == 200 and json.loads(again["body"])["id"] == door_body["id"]
    assert django_calls.calls == 1
    # A repeat is still a request, and one its schema refuses is refused, not taken for the first.
    malformed = await request("POST", path, ola, {**text, "client_txn_id": "door-1", "sensitive": 0})
    assert malformed["status"] == 400, malformed["body"]
    assert await count_messages(group) == 2


@pytest.mark.parametrize("username", ["sara.9b", "ola.9b"])
async def test_r_staff_07_a_send_the_policy_refuses_at_the_door_is_django_s_refusal_in_the_person_s_words(
    demo, django_calls, username: str
) -> None:
    """R-STAFF-07 at the door: the frozen group refuses sara.9b and ola.9b each in their own words,
    with the rule, exactly as through Django, and nothing is saved."""
    group = await conversation(await token_of("ola.9b"), "sara.9b", "jonas.9b", "nils.9b")
    await database_sync_to_async(Person.objects.filter(username="nils.9b").update)(is_active=False)
    raw = await token_of(username)
    django_calls.calls = 0
    path = f"/api/v1/conversations/{group}/messages"
    at_door = await request("POST", path, raw, {"body": "Hei", "client_txn_id": "a"})
    assert django_calls.calls == 0
    through_django = await request("POST", path, raw, {"body": "Hei", "client_txn_id": "b"}, THROUGH_DJANGO)
    assert at_door["status"] == through_django["status"] == 403
    assert header_map(at_door) == header_map(through_django)
    assert at_door["body"] == through_django["body"]
    refusal = json.loads(at_door["body"])
    assert refusal["requirement"] == "R-STAFF-07" and refusal["rule"] == "kolding.group-frozen-without-adults"
    assert await count_messages(group) == 0


async def test_r_list_05_a_conversation_the_sender_cannot_see_is_not_found_at_the_door(demo, django_calls) -> None:
    """Every read is scoped: a stranger's send into someone else's conversation is a 404, as through Django."""
    group = await conversation(await token_of("ola.9b"), "sara.9b", "jonas.9b", "nils.9b")
    stranger = await token_of("emma.4a")
    django_calls.calls = 0
    path = f"/api/v1/conversations/{group}/messages"
    at_door = await request("POST", path, stranger, {"body": "Hei", "client_txn_id": "a"})
    through_django = await request("POST", path, stranger, {"body": "Hei", "client_txn_id": "b"}, THROUGH_DJANGO)
    assert django_calls.calls == 1
    assert at_door["status"] == through_django["status"] == 404
    assert (header_map(at_door), at_door["body"]) == (header_map(through_django), through_django["body"])
    assert await count_messages(group) == 0


VALID = {"body": "Hei", "client_txn_id": "x"}


@pytest.mark.parametrize("body, extra, query, status", [
    (b'{"body": "Hei", "client_txn_id": ', [], "", 400),
    ({"body": "Hei"}, [], "", 400),
    ({**VALID, "colour": "red"}, [], "", 400),
    ({**VALID, "body": "Hei\x00"}, [], "", 400),
    ({**VALID, "reply_to": 2**64}, [], "", 400),
    # JSON's false is a boolean; 0 is a number (schemathesis, coverage phase).
    ({**VALID, "sensitive": 0}, [], "", 400),
    (b"[]", [], "", 400),
    (VALID, [(b"accept-language", b"en")], "", 201),
    (VALID, [], "draft=1", 201),
    (VALID, [(b"x-forwarded-host", b"localhost")], "", 201),
])
async def test_issue_15_anything_unusual_is_django_s_to_answer_with_the_body_the_door_read(
    demo, django_calls, body: Any, extra: list[tuple[bytes, bytes]], query: str, status: int
) -> None:
    """Bad bodies get Django's 400s; a request the door does not take whole still sends, once,
    through Django, which reads the body the door read before it."""
    ola = await token_of("ola.9b")
    direct = await conversation(ola, "sara.9b", kind="direct")
    django_calls.calls = 0
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = [(b"host", b"localhost"), (b"authorization", f"Bearer {ola}".encode()),
               (b"content-type", b"application/json"), *extra]
    path = f"/api/v1/conversations/{direct}/messages" + (f"?{query}" if query else "")
    response = await HttpCommunicator(application, "POST", path, body=content, headers=headers).get_response(
        timeout=10)
    assert django_calls.calls == 1
    assert response["status"] == status, response["body"]
    assert set(json.loads(response["body"])) >= ({"id", "nudges"} if status == 201 else {"error", "rule"})
    assert await count_messages(direct) == (1 if status == 201 else 0)


async def test_issue_15_a_bad_token_a_big_body_and_another_type_are_django_s(demo, django_calls) -> None:
    ola = await token_of("ola.9b")
    direct = await conversation(ola, "sara.9b", kind="direct")
    django_calls.calls = 0
    path = f"/api/v1/conversations/{direct}/messages"
    assert (await request("POST", path, "nope", VALID))["status"] == 401
    from django.conf import settings

    big = json.dumps({**VALID, "body": "x" * settings.TRYGG_API_MAX_BODY}).encode()
    assert (await request("POST", path, ola, big))["status"] == 413
    plain = await HttpCommunicator(application, "POST", path, body=json.dumps(VALID).encode(), headers=[
        (b"host", b"localhost"), (b"authorization", f"Bearer {ola}".encode()),
        (b"content-type", b"text/plain")]).get_response(timeout=10)
    assert plain["status"] == 201  # Ninja reads the body as JSON whatever its type
    assert django_calls.calls == 3
    assert await count_messages(direct) == 1


async def test_issue_15_a_body_in_parts_is_read_whole_and_a_client_that_leaves_gets_nothing_done(
    demo, django_calls
) -> None:
    ola = await token_of("ola.9b")
    direct = await conversation(ola, "sara.9b", kind="direct")
    django_calls.calls = 0
    path = f"/api/v1/conversations/{direct}/messages"
    content = json.dumps(VALID).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"localhost"), (b"authorization", f"Bearer {ola}".encode()),
                         (b"content-type", b"application/json")],
             "client": ("127.0.0.1", 5000), "server": ("localhost", 80)}

    async def run(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return parts.pop(0) if parts else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await application(scope, receive, send)
        return sent

    chunks = [content[:5], content[5:12], content[12:]]
    answered = await run([{"type": "http.request", "body": c, "more_body": i < 2} for i, c in enumerate(chunks)])
    assert answered[0]["status"] == 201 and json.loads(answered[1]["body"])["body"] == "Hei"
    left = await run([{"type": "http.request", "body": content[:5], "more_body": True}])
    assert left == [] and django_calls.calls == 0
    assert await count_messages(direct) == 1


@pytest.mark.parametrize("raised, status", [
    (RuntimeError("a bug"), 500),
    (Http404(), 404),
    (DataError("value too long"), 400),
    (OperationalError("database is locked"), 503),
    (TooManyRequests(retry_after=30), 429),
])
async def test_issue_15_what_a_send_raises_is_answered_at_the_door_as_the_chain_answers_it(
    demo, django_calls, monkeypatch, caplog, raised: Exception, status: int
) -> None:
    """Past the token, the door never hands on (the action may have run): it answers an exception as
    Ninja's handlers, the API's middleware and Django's 500 do, and logs a bug as Django does."""
    from trygg.messaging import actions

    ola = await token_of("ola.9b")
    direct = await conversation(ola, "sara.9b", kind="direct")

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(actions, "check_send", failing)
    django_calls.calls = 0
    path = f"/api/v1/conversations/{direct}/messages"
    at_door, door_logged, through_django, django_logged = await both_doors(caplog, path, ola, VALID, VALID)
    assert django_calls.calls == 1
    assert at_door["status"] == through_django["status"] == status
    assert (header_map(at_door), at_door["body"]) == (header_map(through_django), through_django["body"])
    assert [(r.levelno, r.getMessage()) for r in door_logged] == [(r.levelno, r.getMessage()) for r in django_logged]
    assert len(door_logged) == 1
    assert (door_logged[0].exc_info or (None, None))[1] is (raised if status == 500 else None)
    if status in (429, 503):
        assert dict(header_map(at_door))[b"Retry-After".lower()] in (b"30", b"5")


async def test_issue_15_a_failure_after_the_send_is_answered_at_the_door_and_never_sends_again(
    demo, django_calls, monkeypatch, caplog
) -> None:
    """Once the send is saved, a failure in making its answer is the door's to answer (the chain's 500,
    logged): handing on would have Django find the saved message and answer 200, not the failure."""
    from trygg.messaging import serialise

    ola = await token_of("ola.9b")
    direct = await conversation(ola, "sara.9b", kind="direct")
    broken = RuntimeError("the answer could not be made")

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise broken

    monkeypatch.setattr(serialise, "serialise_message", failing)
    django_calls.calls = 0
    path = f"/api/v1/conversations/{direct}/messages"
    at_door, door_logged, through_django, django_logged = await both_doors(
        caplog, path, ola, {"body": "Hei", "client_txn_id": "after-1"}, {"body": "Hei", "client_txn_id": "after-2"})
    assert django_calls.calls == 1  # only the request sent through Django
    assert at_door["status"] == through_django["status"] == 500
    assert (header_map(at_door), at_door["body"]) == (header_map(through_django), through_django["body"])
    assert [(r.levelno, r.getMessage()) for r in door_logged] == [(r.levelno, r.getMessage()) for r in django_logged]
    assert len(door_logged) == 1 and (door_logged[0].exc_info or (None, None))[1] is broken
    assert await count_messages(direct) == 2


async def test_issue_15_a_failing_connection_check_after_the_send_is_answered_at_the_door(
    demo, django_calls, monkeypatch
) -> None:
    """The connection check that ends ``run`` comes after the send was saved: what it raises is
    answered at the door as the chain answers it, and the send is not handed on to Django."""
    import trygg.asgi
    from trygg.messaging import actions

    ola = await token_of("ola.9b")
    direct = await conversation(ola, "sara.9b", kind="direct")
    sent = actions.check_send
    done: list[bool] = []
    closing = trygg.asgi.request_ends

    def sending(*args: Any, **kwargs: Any) -> Any:
        result = sent(*args, **kwargs)
        done.append(True)
        return result

    def close() -> None:
        if done:
            raise RuntimeError("the connection check failed")
        closing()

    monkeypatch.setattr(actions, "check_send", sending)
    monkeypatch.setattr(trygg.asgi, "request_ends", close)
    django_calls.calls = 0
    at_door = await request("POST", f"/api/v1/conversations/{direct}/messages", ola, VALID)
    monkeypatch.setattr(trygg.asgi, "request_ends", closing)
    assert django_calls.calls == 0
    assert at_door["status"] == 500
    assert json.loads(at_door["body"])["error"] == "server_error"
    assert await count_messages(direct) == 1
