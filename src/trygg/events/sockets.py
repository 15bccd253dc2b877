"""The sign-in handshake every socket of Trygg shares (``/ws/events``, ``/ws/meetings/<id>``).

A socket is signed in by the session cookie it connected with, or by a first frame
``{"type": "auth", "token": <bearer>}``. Until then every other frame closes it with 4401, a token
that finds no live account answers ``{"type": "error", "error": "not_signed_in"}`` and closes with
4401, and a socket that is not ready (``is_ready``) within ``TRYGG_SOCKET_FIRST_FRAME_SECONDS`` (5 s)
is closed with 4401, so an idle connection cannot hold a slot.

Bounds, so that sockets cannot exhaust a worker's memory (docs/security.md):

* A frame above ``TRYGG_SOCKET_MAX_FRAME_BYTES`` (64 KiB) closes the socket with 1009 before it
  is decoded; before sign-in the limit is ``TRYGG_SOCKET_FIRST_FRAME_BYTES`` (4 KiB: a token fits).
  ``trygg serve`` also tells uvicorn the limit, so a bigger frame is never even buffered.
* A binary frame closes the socket with 1003: every frame of Trygg is JSON text.
* At most ``TRYGG_SOCKETS_PER_PERSON`` sockets per person: the oldest closes with 4429 when one
  more signs in. With Redis they are counted there, across every process (``trygg.events.cap``);
  without it, in the one process.
* At most ``TRYGG_SOCKETS_UNSIGNED_PER_ADDRESS`` sockets per client address that have not signed
  in yet; past that the handshake is refused. The default is high, as a whole school signs in
  behind one address.

``TRYGG_RATE_LIMITS=off`` lifts the last two, for benchmarks only.

A database or Redis that cannot be reached while a socket opens or handles a frame closes it
with 1012 ("service restart"), so the client comes back at once and resumes from its last event,
instead of being dropped without a close frame.

Every signed-in socket is watched by the hub under its person and its *credential*: the session
or the token it signed in with (``session_credential``, ``token_credential``). An action that ends
a sign-in calls ``trygg.events.log.close_sockets_of`` with the same credential, and the sockets
signed in with it close with 4401 in every process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from trygg.database import is_unavailable
from trygg.events import cap, hub
from trygg.realtime import SocketConsumer

log = logging.getLogger(__name__)

NOT_SIGNED_IN = 4401
SERVICE_RESTART = 1012
# A newer socket of the same person took this one's place (TRYGG_SOCKETS_PER_PERSON).
TOO_MANY_SOCKETS = 4429
UNSUPPORTED_DATA = 1003
MESSAGE_TOO_BIG = 1009

# Sockets of this process not signed in yet, per client address.
_unsigned: Counter[str] = Counter()


def unsigned_sockets(address: str) -> int:
    """Return how many sockets from ``address`` wait to sign in, in this process."""
    return _unsigned.get(address, 0)


def session_credential(session_key: str | None) -> str | None:
    """Return the credential of a browser session, as sockets and ``close_sockets_of`` name it."""
    if not session_key:
        return None
    # Hashed: the name travels through Redis and must not be a usable session key.
    return "session:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def token_credential(token_id: int) -> str:
    """Return the credential of an API token (by its id), as sockets and ``close_sockets_of`` name it."""
    return f"token:{token_id}"


@database_sync_to_async
def person_for_token(token: Any) -> tuple[Any, str | None]:
    """Return the active person a bearer token belongs to and its credential, or ``(None, None)``."""
    from trygg.directory.models import ApiToken

    found = ApiToken.find(token)
    return (found.person, token_credential(found.pk)) if found else (None, None)


class SignedInSocket(SocketConsumer):
    """A JSON socket that knows who is on the other end before it handles anything else.

    Subclasses implement ``signed_in`` (called once, with the person) and ``receive_frame`` (every
    frame after sign-in, with its ``type``); ``is_ready`` says whether the deadline is met.
    """

    person: Any = None
    credential: str | None = None
    counted: str | None = None

    async def connect(self) -> None:
        self.person = None
        self.credential = None
        self.watching: int | None = None
        # The socket's name in the cross-process count (trygg.events.cap), when it is counted there.
        self.counted: str | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.address: str | None = None
        await self.opened()
        client = self.scope.get("client") or ("unknown", 0)
        user = self.scope.get("user")
        by_cookie = user is not None and getattr(user, "is_authenticated", False) and user.is_active
        if not by_cookie and settings.TRYGG_RATE_LIMITS:
            if _unsigned[client[0]] >= settings.TRYGG_SOCKETS_UNSIGNED_PER_ADDRESS:
                # Refused before the handshake completes (HTTP 403): nothing of it is kept.
                await self.close()
                return
            self.address = client[0]
            _unsigned[self.address] += 1
        await self.accept()
        self.tasks.append(asyncio.ensure_future(self._deadline()))
        if by_cookie:
            session = self.scope.get("session")
            await self._sign_in(user, session_credential(getattr(session, "session_key", None)))

    async def opened(self) -> None:
        """Set up per-socket state before the socket is accepted."""

    def is_ready(self) -> bool:
        """Return whether the socket has done what it must within the deadline (default: signed in)."""
        return self.person is not None

    async def signed_in(self, person: Any) -> None:
        """Start serving ``person``."""

    async def receive_frame(self, kind: Any, content: dict[str, Any]) -> None:
        """Handle one frame of a signed-in socket."""
        raise NotImplementedError

    async def _deadline(self) -> None:
        await asyncio.sleep(float(settings.TRYGG_SOCKET_FIRST_FRAME_SECONDS))
        if not self.is_ready():
            await self.close(code=NOT_SIGNED_IN)

    def _uncount(self) -> None:
        if self.address is not None:
            _unsigned[self.address] -= 1
            if _unsigned[self.address] <= 0:
                del _unsigned[self.address]
            self.address = None

    async def _sign_in(self, person: Any, credential: str | None) -> None:
        self._uncount()
        self.person = person
        self.credential = credential
        self.watching = hub.watch(person.pk, credential, self._closed_by_hub)
        if settings.TRYGG_RATE_LIMITS:
            keep = settings.TRYGG_SOCKETS_PER_PERSON
            surplus: list[str] = []
            if cap.counts_in_redis():
                self.counted, surplus = await cap.admit(person.pk, self.watching, keep)
            if self.counted is None:
                hub.close_oldest(person.pk, keep, TOO_MANY_SOCKETS)
            elif surplus:
                await hub.close_named(person.pk, surplus, TOO_MANY_SOCKETS)
        await self.signed_in(person)

    def _closed_by_hub(self, code: int) -> None:
        self.tasks.append(asyncio.ensure_future(self.close(code=code)))

    def release(self) -> None:
        """Stop hearing from the hub (idempotent): on close, before the client has gone."""
        self._uncount()
        cap.forget(self.counted)
        self.counted = None
        if self.watching is not None:
            hub.unwatch(self.person.pk, self.watching)
            self.watching = None

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # A socket the server closes hears nothing more at once, not only once the client has
        # answered the close (which a client that went away never does).
        self.release()
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        for task in self.tasks or ():
            task.cancel()
        self.release()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # The channel layer (Redis) is read beside the client for the socket's whole life; if it
        # goes away, Channels' loop raises and the server would drop the socket with no close frame.
        self.accepted = False
        self.tasks = None
        try:
            await super().__call__(scope, receive, send)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning("socket closed with 1012: %s unavailable", type(exc).__name__)
            try:
                if not self.accepted:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": SERVICE_RESTART})
            except Exception:  # noqa: BLE001 - the client is gone already
                log.debug("could not send 1012 to a socket that went away")
            if getattr(self, "tasks", None) is not None:
                await self.disconnect(SERVICE_RESTART)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        try:
            await super().websocket_connect(message)
        except Exception as exc:
            await self._unavailable(exc)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def _unavailable(self, exc: Exception) -> None:
        if not is_unavailable(exc):
            raise exc
        log.warning("socket closed with 1012: %s unavailable", type(exc).__name__)
        if not self.accepted:
            await self.accept()
        await self.close(code=SERVICE_RESTART)

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        try:
            await self._receive(message)
        except Exception as exc:
            await self._unavailable(exc)

    async def _receive(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        if text is None:
            await self.close(code=UNSUPPORTED_DATA)
            return
        limit = settings.TRYGG_SOCKET_MAX_FRAME_BYTES if self.person is not None \
            else settings.TRYGG_SOCKET_FIRST_FRAME_BYTES
        # Measured before decoding: a UTF-8 character is at most 4 bytes, so short text needs no
        # encoding to be known small.
        if len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8", "replace")) > limit):
            await self.close(code=MESSAGE_TOO_BIG)
            return
        await super().websocket_receive(message)

    async def decode_json(self, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def error(self, code: str) -> None:
        await self.send_json({"type": "error", "error": code})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.error("bad_frame")
            return
        kind = content.get("type")
        if self.person is not None:
            await self.receive_frame(kind, content)
            return
        if kind != "auth":
            await self.close(code=NOT_SIGNED_IN)
            return
        person, credential = await person_for_token(content.get("token"))
        if person is None:
            await self.error("not_signed_in")
            await self.close(code=NOT_SIGNED_IN)
            return
        await self._sign_in(person, credential)
