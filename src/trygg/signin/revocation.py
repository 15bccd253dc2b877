"""Closing the live sockets of a person whose sign-in was revoked.

Revoking a session or a token makes it authenticate nothing from then on (pages, the API, new
sockets); a socket that is already open was authenticated when it opened, so it is told to close.
Every event and meeting socket joins the channel-layer group ``person.<id>`` once it knows its
person, remembering which sign-in it came in with (its *credential*); ``close_sockets_of`` sends
that group ``{"type": "session.revoked"}``, and each socket it concerns closes with code 4401.

The message is a hint like every push (design rule 3): a socket that misses it still cannot
reconnect, and the event socket re-reads nothing on its own, so the channel layer's delivery is what
the "within 5 s" of the tests measures.
"""

from __future__ import annotations

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

REVOKED_CLOSE_CODE = 4401


def person_group(person_id: int) -> str:
    return f"person.{int(person_id)}"


def session_credential(session_key: str | None) -> str:
    """Return how a socket opened with this browser session names its sign-in (never the key itself)."""
    return "s:" + hashlib.sha256((session_key or "").encode()).hexdigest()[:32]


def token_credential(token_id: int) -> str:
    return f"t:{int(token_id)}"


def concerns(message: dict[str, object], credential: str | None) -> bool:
    """Return whether a ``session.revoked`` message closes a socket that came in with ``credential``."""
    only = message.get("credential") or ""
    return not only or only == credential


def close_sockets_of(person_id: int, credential: str | None = None) -> None:
    """Close the person's open sockets: all of them, or those of one sign-in (``credential``).

    Call after the revocation has committed (``transaction.on_commit``), from sync code.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            person_group(person_id), {"type": "session.revoked", "credential": credential or ""}
        )
    except Exception:  # noqa: BLE001 - the sign-in is revoked already; only the push was lost
        log.warning("telling the sockets of a revoked sign-in to close failed")
