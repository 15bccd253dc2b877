"""The sign-in handshake every socket of Trygg shares (``/ws/events``, ``/ws/meetings/<id>``).

A socket is signed in by the session cookie it connected with, or by a first frame
``{"type": "auth", "token": <bearer>}``. Until then every other frame closes it with 4401, a token
that finds no live account answers ``{"type": "error", "error": "not_signed_in"}`` and closes with
4401, and a socket that is not ready (``is_ready``) within ``AUTH_TIMEOUT_SECONDS`` is closed with
4401, so an idle connection cannot hold a slot.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async

from trygg.realtime import SocketConsumer

AUTH_TIMEOUT_SECONDS = 10.0
NOT_SIGNED_IN = 4401


@database_sync_to_async
def person_for_token(token: Any) -> Any:
    """Return the active person a bearer token belongs to, or ``None``."""
    from trygg.directory.models import ApiToken

    found = ApiToken.find(token)
    return found.person if found else None


class SignedInSocket(SocketConsumer):
    """A JSON socket that knows who is on the other end before it handles anything else.

    Subclasses implement ``signed_in`` (called once, with the person) and ``receive_frame`` (every
    frame after sign-in, with its ``type``); ``is_ready`` says whether the deadline is met.
    """

    person: Any = None

    async def connect(self) -> None:
        self.person = None
        self.tasks: list[asyncio.Task[None]] = []
        await self.opened()
        await self.accept()
        self.tasks.append(asyncio.ensure_future(self._deadline()))
        user = self.scope.get("user")
        if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
            await self._sign_in(user)

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

    async def _sign_in(self, person: Any) -> None:
        self.person = person
        await self.signed_in(person)

    async def disconnect(self, code: int) -> None:
        for task in self.tasks:
            task.cancel()

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
        person = await person_for_token(content.get("token"))
        if person is None:
            await self.error("not_signed_in")
            await self.close(code=NOT_SIGNED_IN)
            return
        await self._sign_in(person)
