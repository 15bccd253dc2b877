"""Closing the live sockets of a person whose sign-in was revoked.

Revoking a session or a token makes it authenticate nothing from then on (pages, the API, new
sockets); a socket that is already open was authenticated when it opened, so it is told to close.
Every signed-in socket is watched by the event hub under its person and the sign-in it came in
with (its *credential*, ``trygg.events.sockets``); ``close_sockets_of`` reaches every process's hub
and closes those it concerns with 4401 (``trygg.events.log.close_sockets_of``).
"""

from __future__ import annotations

from trygg.events import log
from trygg.events.sockets import session_credential, token_credential

REVOKED_CLOSE_CODE = log.SIGNED_OUT

__all__ = ["REVOKED_CLOSE_CODE", "close_sockets_of", "session_credential", "token_credential"]


def close_sockets_of(person_id: int, credential: str | None = None, keep: str | None = None) -> None:
    """Close the person's open sockets: all of them, those of one sign-in (``credential``), or all
    but those of one (``keep``).

    Call after the revocation has committed (``transaction.on_commit``), or inside its transaction.
    """
    log.close_sockets_of(person_id, credential=credential, keep=keep)
