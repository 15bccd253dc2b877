"""The requests the ASGI server answers beside Django's chain (issue 15), and what their doors share.

Two requests make most of a school's traffic: the long poll (``LongPollDoor``) and a message send
(``SendDoor``). Through Django's chain each cost more than its own work. A door answers only the
plain form of its request, made by a client with a bearer token, and exactly as the chain would:
the same action, the same status and body, the headers the chain sets (``tests/events/
test_long_poll_door.py`` and ``tests/messaging/test_send_door.py`` compare them). Anything else
goes to Django, which answers it as before.

The doors sit beside the entry points (``trygg.asgi``), above the API: they answer for it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.log import log_response
from pydantic import ValidationError

Receive = Callable[[], Awaitable[dict[str, Any]]]


def plain_bearer(scope: dict[str, Any]) -> str | None:
    """Return the bearer token of a request whose only credential it is, for a host Django serves.

    None (Django's to answer) for anything the chain would treat differently: a cookie (a session,
    and with it CSRF), ``Accept-Language`` (the answer's language), a forwarded host, two
    ``Authorization`` headers, a host outside ``ALLOWED_HOSTS`` (Django's 400), and a plain-HTTP
    request where HTTPS redirection is on.
    """
    from django.http.request import split_domain_port, validate_host

    if settings.SECURE_SSL_REDIRECT and scope.get("scheme") != "https":
        return None
    raw = None
    host = None
    for name, value in scope["headers"]:
        if name in (b"cookie", b"accept-language", b"x-forwarded-host"):
            return None
        if name == b"host":
            host = value.decode("latin-1")
        if name == b"authorization":
            if raw is not None:
                return None
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not rest.strip():
                return None
            raw = rest.strip()
    if raw is None or host is None or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
        return None
    return raw


def header(scope: dict[str, Any], name: bytes) -> bytes | None:
    """Return the value of the request's only ``name`` header; None if it has none or several."""
    found = [value for key, value in scope["headers"] if key == name]
    return found[0] if len(found) == 1 else None


_chain: list[tuple[bytes, bytes]] | None = None


def chain_headers(language: str, *, secure: bool) -> list[tuple[bytes, bytes]]:
    """The headers Django's chain sets on an API answer for a bearer request, from the same settings.

    Not the ``Content-Type``, which is the answer's own.
    """
    from csp.utils import build_policy

    global _chain
    if _chain is None:
        _chain = [
            (b"cache-control", b"no-store"),  # SignedInPagesMiddleware, on every API answer
            (b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
            (b"vary", b"Accept-Language, Cookie"),
            (b"content-security-policy", build_policy().encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()),
            (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()),
        ]
    headers = [(b"content-language", (language or settings.LANGUAGE_CODE).encode()), *_chain]
    if secure and settings.SECURE_HSTS_SECONDS:
        # As SecurityMiddleware: on secure requests only.
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append((b"strict-transport-security", hsts.encode()))
    return headers


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool] | None:
    """Read the request's body; return it and whether more of it follows, or None if the client left.

    Stops once it has more than ``limit`` bytes: Django then reads the rest and answers.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        parts.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
        if size > limit or not more:
            return b"".join(parts), more


def replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    """Return a ``receive`` that gives the body a door read first, then the request's own messages
    (``more``: the door stopped before the body's end)."""
    pending = [{"type": "http.request", "body": body, "more_body": more}]

    async def again() -> dict[str, Any]:
        if pending:
            return pending.pop()
        return await receive()

    return again


async def answer(send: Callable[[dict[str, Any]], Awaitable[None]], status: int,
                 headers: list[tuple[bytes, bytes]], body: bytes, *, language: str, secure: bool) -> None:
    """Send the answer: its own headers, then the chain's, which replace any of the same name."""
    chain = chain_headers(language, secure=secure)
    replaced = {name for name, _value in chain}
    own = [(name, value) for name, value in headers if name not in replaced]
    await send({"type": "http.response.start", "status": status,
                "headers": [*own, *chain, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LongPollDoor:
    """``GET /api/v1/events`` with a bearer token, answered beside Django's chain rather than through it.

    The long poll is an async view, and Django runs its middleware around an async view hook by hook,
    each sync hook in a hop to the process's one shared thread (about twenty per request), where
    they queued behind the message sends: a class message wakes 30 long polls, whose answers and
    next polls made 600 hops, and the last of the 30 had the message after about 330 ms
    (``bench/bench_phases.py``, phase b). Here a poll costs at most one read on the long-poll thread
    (``trygg.events.api.on_poll_thread``), of the log, and a read of its token when the process has
    not seen the token lately; a poll whose events the process was handed as pushes
    (``trygg.events.api.kept_answer``) is answered at once, with no read and no wait.

    Only the common case comes this way: a GET of exactly this path for a host Django serves, with a
    bearer token, no cookie, no ``Accept-Language``, no forwarded host, and ``after``/``timeout``
    that are plainly valid. Anything else (a session cookie, a token that finds nobody, a bad
    parameter, another host, HTTPS redirection) goes to Django, which answers it as before. The
    answer's headers are Django's own for this endpoint (``tests/events/test_long_poll_door.py``
    compares them), and the answer is the view's (``trygg.events.api.answer``). A token found live
    is remembered for the next polls until its person's sign-in ends (``trygg.events.hub``).
    """

    PATH = "/api/v1/events"

    def __init__(self, django_app: Any) -> None:
        self.django_app = django_app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = self._plain(scope)
        if request is None:
            await self.django_app(scope, receive, send)
            return
        raw, after, timeout = request
        from trygg.api_auth import token_in_use
        from trygg.events import hub
        from trygg.events.api import answer as answer_poll
        from trygg.events.api import kept_answer, on_poll_thread

        token = hub.remembered_poll_token(raw)
        if token is None:
            try:
                token = await on_poll_thread(token_in_use, raw)
            except Exception:  # noqa: BLE001 - Django answers it, 503 included, as it answers any request
                token = None
            if token is None:
                await self.django_app(scope, receive, send)
                return
            hub.remember_poll_token(raw, token)
        headers = [(b"content-type", b"application/json")]
        kept = kept_answer(token.person_id, after)
        if kept is not None:
            # Most polls under load: answered at once, with no wait to watch the client through.
            await answer(send, 200, headers, kept.encode(), language=token.person.language,
                         secure=scope.get("scheme") == "https")
            return
        waiting = asyncio.ensure_future(answer_poll(token.person_id, after, timeout))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not waiting.done():
            waiting.cancel()  # the client left: stop listening for it
            return
        try:
            body, status = waiting.result().encode(), 200
        except Exception as exc:  # noqa: BLE001 - a dependency that went away mid-wait
            from trygg.api_errors import trygg_error_response
            from trygg.database import is_unavailable
            from trygg.errors import Unavailable

            if not is_unavailable(exc):
                raise
            response = trygg_error_response(Unavailable())
            body, status = response.content, 503
            headers.append((b"retry-after", response["Retry-After"].encode()))
        await answer(send, status, headers, body, language=token.person.language,
                     secure=scope.get("scheme") == "https")

    def _plain(self, scope: dict[str, Any]) -> tuple[str, int, float] | None:
        """Return (token, after, timeout) of a request this door answers, else None."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self.PATH:
            return None
        raw = plain_bearer(scope)
        if raw is None:
            return None
        try:
            query = parse_qs(scope.get("query_string", b"").decode("ascii"), keep_blank_values=True,
                             strict_parsing=False)
        except UnicodeDecodeError:
            return None
        if set(query) - {"after", "timeout"} or any(len(v) != 1 for v in query.values()):
            return None
        after_text = query.get("after", ["0"])[0]
        timeout_text = query.get("timeout", ["25"])[0]
        if not after_text.isascii() or not after_text.isdigit() or len(after_text) > 18:
            return None
        try:
            timeout = float(timeout_text)
        except ValueError:
            return None
        if not 0 <= timeout <= 30:  # also refuses nan
            return None
        return raw, int(after_text), timeout


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


SEND_PATH = re.compile(r"/api/v1/conversations/([1-9][0-9]{0,17})/messages")
_JSON = (b"application/json", b"application/json; charset=utf-8")


class SendDoor:
    """``POST /api/v1/conversations/{id}/messages`` with a bearer token, answered beside Django's chain.

    A send is most of what a school's server does, and Django's chain and Ninja's request handling around
    it cost almost a third of it: of 4.7 ms of CPU per in-process send on SQLite, 1.1 ms went to the
    thirteen middleware and Ninja's parsing, checks and answer, and 0.3 ms on the loop to Django's
    request and response objects (py-spy). With this door a1 of ``bench/bench_phases.py`` (5 senders)
    went from 235 to 290-370 messages a second on SQLite, 4.0-4.5 to 2.7-3.4 ms of server CPU each,
    and from 114 to 136-150 a second on PostgreSQL (6.8 to 4.9-5.5 ms). This door replaces that, for
    the plain request only, with what it amounts to: the token read (``token_in_use``, the read every
    bearer request makes), the body validated by the same schema (``MessageIn``), the same action
    (``actions.check_send``: the policy, the limits, the log), the answer validated by the same schema
    (``SentMessageOut``) and rendered by the API's renderer, in the person's language, with the
    headers the chain adds (``chain_headers``).

    The plain request: exactly this path with a conversation id, no query, one JSON ``Content-Type``,
    a body within the API's limit that is a valid ``MessageIn`` with no NUL, and the rest of
    ``plain_bearer``. Anything else, and a token that finds nobody, goes to Django with the
    body the door read, and Django answers it as before: nothing is done twice, since the door hands on
    only before the token has found its person (a read that failed, too, which Django repeats). From
    there on the door answers whatever is raised, by the action, the answer's making or the closing
    connection check, as the chain would (``api.on_exception``, then ``api_errors.exception_response``,
    then a logged 500).
    ``tests/messaging/test_send_door.py`` compares the door's answers with Django's.

    ``run`` runs a function as a sync view runs (``SharedThreadASGIHandler.run_as_view``).
    """

    def __init__(self, django_app: Any, run: Callable[..., Awaitable[Any]]) -> None:
        self.django_app = django_app
        self.run = run

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        plain = self._plain(scope)
        if plain is None:
            await self.django_app(scope, receive, send)
            return
        raw, conversation_id = plain
        read = await read_body(receive, settings.TRYGG_API_MAX_BODY)
        if read is None:
            return  # the client left before its body came
        body, more = read
        payload = None if more or len(body) > settings.TRYGG_API_MAX_BODY else _payload(body)
        if payload is not None:
            attempt = _Attempt()
            try:
                answered = await self.run(_send, attempt, raw, conversation_id, payload, scope["path"])
            except Exception as exc:  # noqa: BLE001 - see below
                # Raised by the token's read (Django reads it again and answers), or once the send
                # was done, by the closing connection check of ``run``: then it is the door's to answer.
                answered = None if attempt.language is None else _refusal(scope["path"], exc, attempt.language)
            if answered is not None:
                status, headers, content, language = answered
                await answer(send, status, headers, content, language=language,
                             secure=scope.get("scheme") == "https")
                return
        await self.django_app(scope, replaying(body, more, receive), send)

    @staticmethod
    def _plain(scope: dict[str, Any]) -> tuple[str, int] | None:
        """Return (token, conversation id) of a request this door answers, else None."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
            return None
        match = SEND_PATH.fullmatch(scope["path"])
        if match is None or header(scope, b"content-type") not in _JSON:
            return None
        length = header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.TRYGG_API_MAX_BODY):
            return None
        raw = plain_bearer(scope)
        return None if raw is None else (raw, int(match.group(1)))


def _payload(body: bytes) -> Any:
    """Return the body as a valid ``MessageIn``, or None for Django to answer (its 400s)."""
    from trygg.messaging.api import MessageIn

    # The middleware's check: PostgreSQL cannot store a NUL (trygg.api_errors).
    if b"\x00" in body or b"\\u0000" in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return MessageIn.model_validate(data)
    except ValidationError:
        return None


# Status, headers, body and the person's language.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes, str]


class _Attempt:
    """What the door knows of a send it handed to ``run``: the person's language once the token has
    found them, from which point the door answers whatever happens and never hands on."""

    language: str | None = None


def _send(attempt: _Attempt, raw: str, conversation_id: int, payload: Any, path: str) -> Answer | None:
    """Send as the token's person (in a view's thread); None if the token finds nobody."""
    from trygg.api import api
    from trygg.api_auth import token_in_use
    from trygg.messaging import actions, serialise
    from trygg.messaging.api import SentMessageOut

    token = token_in_use(raw)
    if token is None:
        return None
    person = token.person
    attempt.language = person.language
    try:
        with translation.override(person.language):
            result = actions.check_send(person, conversation_id, payload.body, payload.client_txn_id,
                                        payload.reply_to, sensitive=payload.sensitive)
            sent = serialise.serialise_message(result.message)
            sent["nudges"] = result.nudges
            status = 201 if result.created else 200
            data = SentMessageOut.model_validate(sent).model_dump(by_alias=True, exclude_unset=True)
            content = api.renderer.render(None, data, response_status=status).encode()  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - answered as the chain answers it
        return _refusal(path, exc, person.language)
    headers = [(b"content-type", api.get_content_type().encode())]
    return status, headers, content, person.language


def _refusal(path: str, exc: Exception, language: str) -> Answer:
    """The chain's answer to an exception the send raised (Ninja's handlers, the API's, Django's 500),
    in the person's language, logged as Django logs an answer of 400 and above."""
    from trygg.api import api
    from trygg.api_errors import exception_response, server_error

    request = HttpRequest()
    request.method, request.path, request.path_info = "POST", path, path
    uncaught = None
    with translation.override(language):
        try:
            response = api.on_exception(request, exc)
        except Exception as raised:  # noqa: BLE001 - Ninja has no handler for it
            response = exception_response(request, raised)
            if response is None:
                response, uncaught = server_error(request), raised
        log_response("%s: %s", response.reason_phrase, path, response=response, request=request,
                     exception=uncaught)
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    return response.status_code, headers, response.content, language
