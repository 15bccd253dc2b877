"""Channel-layer groups of a meeting's sockets, and telling them what an action decided.

Groups: ``meeting.<id>`` holds every socket of the meeting; ``meeting.<id>.person.<pid>`` the
sockets of one person in it. Actions send after commit; a lost message costs nothing lasting,
because every socket also re-reads its join from the database every few seconds
(``consumers.RECHECK_SECONDS``) and closes itself when the join is no longer valid.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def room_group(meeting_id: int) -> str:
    return f"meeting.{meeting_id}"


def person_room_group(meeting_id: int, person_id: int) -> str:
    return f"meeting.{meeting_id}.person.{person_id}"


def send_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - the sockets' own re-check catches what a lost push misses
        log.warning("push to a meeting group failed; its sockets re-check on their own")


def after_commit(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` once the current transaction has committed."""
    transaction.on_commit(lambda: send_to_group(group, message))
