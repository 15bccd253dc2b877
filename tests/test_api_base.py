"""The API base of issue 2: login throttling, the JSON error format, and every route walked with bad input.

design.md fixes the error shape ``{"error", "message", "rule", "requirement"}`` and the status codes
400/401/403/404/405/409/413/429, and "never a 500 for bad input".
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from trygg.directory import actions as directory_actions
from trygg.directory.models import ApiToken, Person

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"error", "message", "rule", "requirement"}
HUGE = str(10**30)
BIGINT_PLUS_ONE = str(2**63)


def assert_error_shape(response: Any, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    """Assert the response is a JSON error of design.md and return its body."""
    if status is not None:
        assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert ERROR_KEYS <= set(body), body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["rule"] is None or isinstance(body["rule"], str)
    assert body["requirement"] is None or isinstance(body["requirement"], str)
    if code is not None:
        assert body["error"] == code
    assert response["Cache-Control"] == "no-store"
    return body


def token_attempt(username: str, password: str, address: str = "10.0.0.1") -> Any:
    return Client().post("/api/v1/auth/token", {"username": username, "password": password},
                         content_type="application/json", REMOTE_ADDR=address)


# ---------------------------------------------------------------------------------------------
# Login throttling (issue 2 §4).


def test_failures_slow_an_account_down_but_the_right_password_is_never_refused(demo: object) -> None:
    """Five wrong passwords locked kari.4a out for 15 minutes even with the right one. Now the
    answers to that account wait a delay that grows with its failures (here to 1 s after 5), and
    the right password, from another address, is accepted after that wait."""
    for i in range(5):
        assert_error_shape(token_attempt("kari.4a", "wrong", f"10.0.1.{i}"), 401, "bad_credentials")
    delay = directory_actions.login_delay("kari.4a", "10.0.2.1")
    assert 0.25 <= delay <= 3
    started = time.monotonic()
    assert token_attempt("kari.4a", "demo", "10.0.2.1").status_code == 200
    assert time.monotonic() - started >= delay
    # A success resets the account's delay; other accounts were never slowed.
    assert directory_actions.login_delay("kari.4a", "10.0.2.1") == 0
    assert directory_actions.login_delay("ola.9b", "10.0.2.1") == 0


def test_the_owner_signs_in_within_10_s_from_the_school_nat_after_50_failures_of_an_attacker(demo: object) -> None:
    """20 failures from one address locked every account behind it (a whole school behind one NAT).
    After an attacker's 50 failures against mor.emma from the school's address, mor.emma signs in
    from that same address with the right password, without any device cookie, within 10 s; a
    teacher behind the same NAT too."""
    for _ in range(50):
        directory_actions.note_failure("mor.emma", "10.0.3.3")
    delay = directory_actions.login_delay("mor.emma", "10.0.3.3")
    assert 0 < delay <= 3
    started = time.monotonic()
    assert token_attempt("mor.emma", "demo", "10.0.3.3").status_code == 200
    took = time.monotonic() - started
    assert delay <= took < 10
    assert token_attempt("kari.4a", "demo", "10.0.3.3").status_code == 200


def test_the_delay_is_per_answer_and_at_most_a_few_seconds(demo: object) -> None:
    """A wrong password to a slowed account waits like a right one would (a guesser learns nothing
    from the timing), and no answer waits more than the ceiling of 3 s."""
    for _ in range(200):
        directory_actions.note_failure("far.emma", "10.0.7.7")
    assert directory_actions.login_delay("far.emma", "10.0.7.7") == 3
    started = time.monotonic()
    assert token_attempt("far.emma", "wrong", "10.0.7.7").status_code == 401
    assert 3 <= time.monotonic() - started < 6


def test_a_device_that_signed_in_before_skips_the_delay(demo: object) -> None:
    """An API client that keeps the device token of an earlier sign-in (and a browser with its device
    cookie) is answered at once, however slowed the account and the address are."""
    device = token_attempt("mor.sara", "demo").json()["device_token"]
    for _ in range(60):
        directory_actions.note_failure("mor.sara", "10.0.8.8")
    started = time.monotonic()
    again = Client().post("/api/v1/auth/token", {"username": "mor.sara", "password": "demo", "device_token": device},
                          content_type="application/json", REMOTE_ADDR="10.0.8.8")
    assert again.status_code == 200
    assert time.monotonic() - started < 1
    # A device token of another account does not count for this one.
    assert not directory_actions.is_known_device("far.jonas", device)
    browser = Client(REMOTE_ADDR="10.0.8.8")
    assert browser.post("/login/", {"username": "far.jonas", "password": "demo"}).status_code == 302
    assert browser.cookies["trygg_device"]["httponly"]
    for _ in range(60):
        directory_actions.note_failure("far.jonas", "10.0.8.8")
    started = time.monotonic()
    assert browser.post("/login/", {"username": "far.jonas", "password": "demo"}).status_code == 302
    assert time.monotonic() - started < 1


def test_past_the_daily_ceiling_an_unknown_device_needs_the_second_factor(demo: object, settings: Any) -> None:
    """Past the account's daily ceiling of failures, the right password from a new device answers
    401 second_factor_required (neutral: the same for a wrong password's next try would be 401 too),
    while a device that signed in before still gets in; the owner gets a neutral notice."""
    device = token_attempt("ola.9b", "demo").json()["device_token"]
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, "daily_ceiling": 4, "max_delay": 0.1}
    for i in range(4):
        assert token_attempt("ola.9b", "wrong", f"10.0.9.{i}").status_code == 401
    body = assert_error_shape(token_attempt("ola.9b", "demo", "10.0.9.9"), 401, "second_factor_required")
    assert "ola" not in body["message"]
    known = Client().post("/api/v1/auth/token", {"username": "ola.9b", "password": "demo", "device_token": device},
                          content_type="application/json", REMOTE_ADDR="10.0.9.9")
    assert known.status_code == 200
    # The owner is told once, out of the app, in words that name nothing (the notice's text).
    from trygg.notifications.models import Notice
    from trygg.notifications.texts import notice_text

    told = Notice.objects.filter(person__username="ola.9b", kind="signin_attempts")
    assert told.exists()
    token_attempt("ola.9b", "demo", "10.0.9.9")
    assert told.count() == Notice.objects.filter(person__username="ola.9b", kind="signin_attempts").count()
    subject, body = notice_text("nb", ["signin_attempts"], 0, False)
    assert "feil passord" in body and "ola" not in body.lower() and "10.0.9" not in body


def test_unknown_and_known_usernames_get_the_same_answers(demo: object) -> None:
    """A wrong password for a real account and any password for an unknown one are answered identically,
    and slowed down after the same number of tries, so usernames cannot be discovered."""
    known = [token_attempt("kari.4a", "wrong", f"10.0.4.{i}") for i in range(6)]
    unknown = [token_attempt("nobody.here", "wrong", f"10.0.5.{i}") for i in range(6)]
    for a, b in zip(known, unknown, strict=True):
        assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert [r.status_code for r in known] == [401] * 6
    assert directory_actions.login_delay("kari.4a", "x") == directory_actions.login_delay("nobody.here", "x") > 0


def test_the_login_page_slows_down_but_lets_the_owner_in(demo: object) -> None:
    """The web login form counts failures against the same account; the right password still signs in."""
    client = Client(REMOTE_ADDR="10.0.6.1")
    for _ in range(5):
        assert client.post("/login/", {"username": "mor.emma", "password": "wrong"}).status_code == 401
    assert directory_actions.login_delay("mor.emma", "10.0.6.1") > 0
    page = client.post("/login/", {"username": "mor.emma", "password": "demo"})
    assert page.status_code == 302
    assert "_auth_user_id" in client.session


# ---------------------------------------------------------------------------------------------
# The error format for each status (design.md "Public API contract").


def test_each_error_status_has_the_json_error_shape(api_client: Callable[..., Client], person: Callable) -> None:
    """400, 401, 403, 404, 405 and 413 all answer the same JSON shape, with a stable code."""
    kari = api_client("kari.4a")
    assert_error_shape(Client().get("/api/v1/me"), 401, "not_signed_in")
    assert_error_shape(Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token"), 401)
    assert_error_shape(kari.get("/api/v1/no-such-route"), 404, "not_found")
    class_9b = person("sara.9b").enrollments.get().school_class_id
    assert_error_shape(kari.get(f"/api/v1/classes/{class_9b}/members"), 404, "not_found")
    assert_error_shape(kari.delete("/api/v1/me"), 405, "method_not_allowed")
    body = assert_error_shape(Client().post("/api/v1/auth/token", {"username": "kari.4a"},
                                            content_type="application/json"), 400, "bad_input")
    assert {"field": "password", "problem": "Field required"} in body["fields"]
    assert_error_shape(Client().post("/api/v1/auth/token", "{not json", content_type="application/json"), 400)
    assert_error_shape(kari.post("/api/v1/conversations", "x" * (1024 * 1024 + 1),
                                 content_type="application/json"), 413, "too_large")


def test_r_chat_02_a_policy_denial_is_403_naming_the_rule_and_requirement(api_client: Callable[..., Client]) -> None:
    """A refusal by the policy names the rule that fired and the requirement it serves."""
    response = api_client("emma.4a").post(
        "/api/v1/conversations", {"kind": "direct", "title": "hei", "member_usernames": ["noah.4a"]},
        content_type="application/json")
    body = assert_error_shape(response, 403)
    assert body["rule"] and body["requirement"] == "R-CHAT-02"


def test_r_i18n_01_errors_speak_the_persons_language(api_client: Callable[..., Client]) -> None:
    """Error messages follow Accept-Language (nb, da, en), with the same code."""
    messages = {}
    for lang in ("nb", "da", "en"):
        response = Client().get("/api/v1/me", HTTP_ACCEPT_LANGUAGE=lang)
        messages[lang] = assert_error_shape(response, 401, "not_signed_in")["message"]
    assert messages["en"] == "You need to sign in."
    assert len(set(messages.values())) == 3, messages


# ---------------------------------------------------------------------------------------------
# Every route, walked with bad input: no 500, always the JSON error shape.


def _schema() -> dict[str, Any]:
    from trygg.api import api

    return api.get_openapi_schema()


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in _schema()["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _wrong_value(prop: dict[str, Any]) -> Any:
    """Return a value of the wrong type for a property of the given JSON schema."""
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return "not a number"
    if kind == "boolean":
        return {"no": "bool"}
    if kind == "array":
        return "not a list"
    if kind == "object":
        return ["not", "an", "object"]
    return {"not": "a string"}


def _bodies(schema: dict[str, Any], op: dict[str, Any]) -> list[tuple[bytes, str]]:
    if "requestBody" not in op:
        return [(b"", "application/json")]
    content = op["requestBody"]["content"]
    if "application/json" not in content:
        return [(b"--x\r\nbroken multipart", "multipart/form-data; boundary=x"), (b"{}", "application/json")]
    body_schema = _resolve(schema, content["application/json"]["schema"])
    props = {name: _resolve(schema, p) for name, p in body_schema.get("properties", {}).items()}
    wrong_types = {name: _wrong_value(p) for name, p in props.items()}
    huge = {name: 10**30 if p.get("type") in ("integer", "number") else "x" * 100_000 for name, p in props.items()}
    nested = {name: [[[[{"a": [None]}]]]] for name in props}
    nul = {name: "nul\x00byte" if p.get("type") == "string" else wrong_types[name] for name, p in props.items()}
    return [
        (b"", "application/json"),
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"{}", "application/json"),
        (b"name=value", "application/x-www-form-urlencoded"),
        (json.dumps(wrong_types).encode(), "application/json"),
        (json.dumps(huge).encode(), "application/json"),
        (json.dumps(nested).encode(), "application/json"),
        (json.dumps(nul).encode(), "application/json"),
    ]


def _paths(path: str, op: dict[str, Any]) -> list[str]:
    params = [p for p in op.get("parameters", []) if p["in"] == "path"]
    if not params:
        return [path]
    variants = []
    for value_of in (
        lambda p: BIGINT_PLUS_ONE if p.get("schema", {}).get("type") == "integer" else "nobody",
        lambda p: HUGE if p.get("schema", {}).get("type") == "integer" else "x" * 300,
        lambda p: "0" if p.get("schema", {}).get("type") == "integer" else "%00",
        lambda p: "999999999" if p.get("schema", {}).get("type") == "integer" else "kari.4a",
    ):
        filled = path
        for p in params:
            filled = filled.replace("{" + p["name"] + "}", value_of(p))
        variants.append(filled)
    return variants


def _queries(op: dict[str, Any]) -> list[dict[str, str]]:
    params = [p for p in op.get("parameters", []) if p["in"] == "query"]
    # The long poll must not wait in a test that sends hundreds of requests.
    base = {"timeout": "0"} if any(p["name"] == "timeout" for p in params) else {}
    queries = [base]
    for p in params:
        for bad in ("not-a-number", HUGE, "-1", "", "x" * 2000):
            queries.append({**base, p["name"]: bad})
    return queries


def _send(client: Client, method: str, url: str, body: bytes, content_type: str, query: dict[str, str]) -> Any:
    if query:
        from urllib.parse import urlencode

        url = f"{url}?{urlencode(query)}"
    return client.generic(method, url, data=body, content_type=content_type)


def test_openapi_lists_the_directory_routes(demo: object) -> None:
    """/api/v1/openapi.json is served and names the routes of design.md's contract."""
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/classes", "/api/v1/classes/{class_id}/members"):
        assert path in paths


def test_every_route_refuses_anonymous_callers_with_401(demo: object) -> None:
    """Every route that declares sign-in (all but the token endpoint and secret-link feeds) answers 401 in
    the error format."""
    client = Client()
    public = set()
    for method, path, op in _operations():
        url = _paths(path, op)[-1]
        response = _send(client, method, url, b"{}", "application/json", {})
        if not op.get("security"):
            public.add(path)
            if response.status_code >= 400:
                assert_error_shape(response)
            continue
        assert_error_shape(response, 401)
    assert "/api/v1/auth/token" in public
    assert "/api/v1/me" not in public


def _is_async(path: str) -> bool:
    """Return whether the route's view is async (it then runs outside the test's transaction)."""
    url = path.replace("{", "").replace("}", "")
    for name in re.findall(r"\{(\w+)\}", path):
        url = url.replace(name, "1")
    return inspect.iscoroutinefunction(resolve(url).func)


def _walk(send: Callable[[str, str, bytes, str, dict[str, str]], tuple[int, str, Any]],
          want_async: bool) -> tuple[int, list[str]]:
    """Send every bad request to every route (sync or async ones); return the count and the failures."""
    schema = _schema()
    failures: list[str] = []
    walked = 0
    for method, path, op in _operations():
        if _is_async(path) != want_async:
            continue
        for url in _paths(path, op):
            for query in _queries(op):
                for body, content_type in _bodies(schema, op):
                    status, response_type, response = send(method, url, body, content_type, query)
                    walked += 1
                    where = f"{method} {url} {query} {body[:40]!r}"
                    if status >= 500:
                        failures.append(f"{status} {where}")
                    elif status >= 400:
                        try:
                            assert response_type.startswith("application/json"), response_type
                            assert ERROR_KEYS <= set(response.json())
                        except (AssertionError, ValueError) as exc:
                            failures.append(f"bad error shape {where}: {exc}")
    return walked, failures


def test_every_route_walked_with_bad_input_never_answers_500(demo: object) -> None:
    """Each route, called by a signed-in teacher with huge or absurd ids, wrong types, missing fields,
    non-JSON and broken bodies, answers a 2xx or a JSON error of design.md, and never a 500."""
    kari = Person.objects.get(username="kari.4a")

    def send(method: str, url: str, body: bytes, content_type: str, query: dict[str, str]) -> tuple[int, str, Any]:
        # A fresh token per request: the walk may call logout.
        _token, raw = ApiToken.issue(kari)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False)
        response = _send(client, method, url, body, content_type, query)
        return response.status_code, response.get("Content-Type", ""), response

    walked, failures = _walk(send, want_async=False)
    assert walked > 200
    assert not failures, "\n".join(failures[:40])


def test_async_routes_walked_with_bad_input_over_a_live_server(live_server_url: str) -> None:
    """The async routes (the long poll) get the same walk through real uvicorn, where they run as in
    production (in-process they would leave the test's transaction)."""
    import httpx

    def token() -> str:
        response = httpx.post(f"{live_server_url}/api/v1/auth/token", json={"username": "kari.4a", "password": "demo"})
        return response.json()["token"]

    def send(method: str, url: str, body: bytes, content_type: str, query: dict[str, str]) -> tuple[int, str, Any]:
        response = httpx.request(method, live_server_url + url, params=query, content=body, timeout=30,
                                 headers={"Content-Type": content_type, "Authorization": f"Bearer {raw}"})
        return response.status_code, response.headers.get("content-type", ""), response

    raw = token()
    walked, failures = _walk(send, want_async=True)
    assert walked > 0
    assert not failures, "\n".join(failures[:40])


def _input_schemas() -> list[type]:
    """Every request-body schema of the API (the ``*In`` classes of the apps' api modules)."""
    from ninja import Schema

    from trygg.api import api  # noqa: F401 - loads every router and so every schema

    found, todo = [], [Schema]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("trygg.") and cls.__name__.endswith("In"):
            found.append(cls)
    return found


def test_a_boolean_field_refuses_a_number_at_every_api_body() -> None:
    """The document says ``"type": "boolean"``; pydantic's lax mode took 0 and 1 for false and true,
    and a repeated send with ``"sensitive": 0`` answered 200 (schemathesis, coverage phase). Every
    boolean of every body is strict, so 0 gets the 400 of a schema-violating body."""
    checked = []
    for schema in _input_schemas():
        for name, documented in schema.model_json_schema()["properties"].items():
            if "boolean" not in [d.get("type") for d in (documented, *documented.get("anyOf", []))]:
                continue
            checked.append(f"{schema.__name__}.{name}")
            try:
                schema.model_validate({name: 0})
            except Exception as exc:  # noqa: BLE001 - a ValidationError is what is wanted
                errors = [e for e in exc.errors() if e["loc"][:1] == (name,)]  # type: ignore[attr-defined]
                assert errors and errors[0]["type"] == "bool_type", (schema.__name__, name, errors)
            else:
                pytest.fail(f"{schema.__name__}.{name} took 0 for a boolean")
    assert {"MessageIn.sensitive", "FieldsIn.email", "StepIn.done", "PreferencesIn.sms_other"} <= set(checked)
