"""The sign-in handshake every socket of Trygg shares (``/ws/events``, ``/ws/meetings/<id>``).

A socket is signed in by the session cookie it connected with, or by a first frame
``{"type": "auth", "token": <bearer>}``. Until then every other frame closes it with 4401, a token
that finds no live account answers ``{"type": "error", "error": "not_signed_in"}`` and closes with
4401, and a socket that is not ready (``is_ready``) within ``AUTH_TIMEOUT_SECONDS`` is closed with
4401, so an idle connection cannot hold a slot.

Every signed-in socket is watched by the hub under its person and its *credential*: the session
or the token it signed in with (``session_credential``, ``token_credential``). An action that ends
a sign-in calls ``trygg.events.log.close_sockets_of`` with the same credential, and the sockets
signed in with it close with 4401 in every process.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from channels.db import database_sync_to_async

from trygg.events import hub
from trygg.realtime import SocketConsumer

AUTH_TIMEOUT_SECONDS = 10.0
NOT_SIGNED_IN = 4401


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

    async def connect(self) -> None:
        self.person = None
        self.credential = None
        self.watching: int | None = None
        self.tasks: list[asyncio.Task[None]] = []
        await self.opened()
        await self.accept()
        self.tasks.append(asyncio.ensure_future(self._deadline()))
        user = self.scope.get("user")
        if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
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
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if not self.is_ready():
            await self.close(code=NOT_SIGNED_IN)

    async def _sign_in(self, person: Any, credential: str | None) -> None:
        self.person = person
        self.credential = credential
        self.watching = hub.watch(person.pk, credential, self._closed_by_hub)
        await self.signed_in(person)

    def _closed_by_hub(self, code: int) -> None:
        self.tasks.append(asyncio.ensure_future(self.close(code=code)))

    async def disconnect(self, code: int) -> None:
        for task in self.tasks:
            task.cancel()
        if self.watching is not None:
            hub.unwatch(self.person.pk, self.watching)
            self.watching = None

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
