"""The meeting socket, ``/ws/meetings/<id>``: the lobby, the gate, and WebRTC signalling.

Protocol (JSON frames):

* Sign-in: the session cookie, or a first frame ``{"type": "auth", "token": <bearer>}``
  (``trygg.events.sockets``); a socket that has not joined within 10 s is closed (4401).
* ``{"type": "join", "join_token": <from POST /api/v1/meetings/<id>/join>}``. The token must be live
  (not voided by a halt, end or removal, of the meeting's current generation) and belong to the
  signed-in person. The answer is ``{"type": "lobby"}`` until the organiser admits the person,
  then ``{"type": "admitted"}``.
* Admitted sockets exchange ``{"type": "signal", "to": <person id>, "data": {...}}`` (offer,
  answer, ICE candidate). The server relays a signal only from an admitted participant to an
  admitted participant of the same meeting, stamped with the sender: ``{"type": "signal",
  "from", "data"}``. Each peer may send ``TRYGG_SIGNALS_PER_SECOND`` signals a second with a burst
  of ``TRYGG_SIGNALS_BURST``; a signal beyond that is dropped and answered (once a second at most)
  with ``{"type": "error", "error": "rate_limited"}``. ``{"type": "peer_joined", "peer"}`` tells
  the others someone came in, who answer with ``{"type": "peer_here", "peer"}`` so the newcomer offers to each of them.
* ``{"type": "closed", "reason": "ended"|"halted"|"removed"|"replaced"}`` and the socket closes
  (4409, 4410, 4411): the server ends every socket of a meeting that ended or halted (R-MEET-01,
  R-MEET-18). A socket also re-reads its join every ``TRYGG_MEETING_RECHECK_SECONDS``, so a lost push to the
  group cannot leave anyone in.
* The organiser's sockets get ``{"type": "roster"}`` when someone waits, joins or is refused.
* In a meeting on the SFU (issue 16), peers carry ``sfu_id``, the participant id their join may
  publish as in Janus, so a client names each video from Trygg's roster, never from what another
  client claims. ``{"type": "moderated", "audio", "video"}`` tells a participant the teacher turned
  their microphone or camera off. The organiser's socket makes Janus agree with Trygg at each
  re-check (``sfu.reconcile``); when the Janus server lost the room (a restart), every socket gets
  ``{"type": "closed", "reason": "media_restarted"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from trygg.events.sockets import SignedInSocket
from trygg.meetings.rooms import person_room_group, room_group
from trygg.meetings.signalling import is_valid_signal
from trygg.ratelimits import RateLimitItemPerSecond, local_hit

log = logging.getLogger(__name__)

MAX_SIGNAL_BYTES = 64_000
CLOSE_CODES = {"ended": 4409, "halted": 4410, "removed": 4411, "replaced": 4412, "media_restarted": 4413,
               "invalid": 4403}


@database_sync_to_async
def _check_join(raw: Any, meeting_id: int) -> dict[str, Any] | None:
    """Return the join's person, generation and admission, or ``None`` when it is no longer valid."""
    from trygg.meetings.queries import access_join_token
    from trygg.meetings.sfu import credential_for

    found = access_join_token(raw, meeting_id)
    if found is None:
        return None
    token, meeting, invitation = found
    from django.utils import translation

    from trygg.directory.queries import anonymous_word, hidden_from

    # Who of the invited this person may not see (R-LIST-05): their tiles and chat lines show
    # "a pupil" or "a guardian", in this person's language.
    hidden = hidden_from(token.person, meeting.invitations.values_list("person_id", flat=True))
    with translation.override(token.person.language):
        hidden_names = {pid: anonymous_word(pid) for pid in hidden}
    return {
        "person_id": token.person_id,
        "name": token.person.name,
        "sfu_id": credential_for(token.digest)[0],
        "hidden_names": hidden_names,
        "generation": meeting.generation,
        "admitted": invitation.state(meeting.generation) == "admitted",
        "organiser": meeting.organiser_id == token.person_id,
    }


@database_sync_to_async
def _join_refusal(person: Any, meeting_id: int) -> dict[str, Any]:
    """Return the error frame for a join the socket refuses, with the rule and requirement the API's
    join would answer now (removed, ended, not invited), so this door refuses as the others do."""
    from trygg.errors import TryggError
    from trygg.meetings.actions import check_may_join

    frame: dict[str, Any] = {"type": "error", "error": "join_refused"}
    try:
        check_may_join(person, meeting_id)
    except TryggError as exc:
        body = exc.as_dict()
        frame.update(rule=body["rule"], requirement=body["requirement"], message=body["message"])
    return frame


@database_sync_to_async
def _reconcile_sfu(meeting_id: int) -> str | None:
    from trygg.meetings.sfu import JanusRefused, JanusUnavailable, reconcile

    try:
        return reconcile(meeting_id)
    except (JanusUnavailable, JanusRefused):
        log.warning("re-checking a meeting's Janus room failed; retrying")
        return None


@database_sync_to_async
def _void_reason(raw: Any, meeting_id: int) -> str:
    from trygg.meetings.queries import join_void_reason

    return join_void_reason(raw, meeting_id)


class MeetingConsumer(SignedInSocket):
    join: dict[str, Any] | None = None

    async def opened(self) -> None:
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        self.join = None
        self.raw_token: str | None = None
        self.admitted = False
        self.groups_joined: list[str] = []

    def is_ready(self) -> bool:
        # Signed in is not enough: a socket that has not joined within the deadline goes.
        return self.join is not None

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.admitted and self.person is not None:
            await self.channel_layer.group_send(
                room_group(self.meeting_id), {"type": "meeting.peer_left", "person_id": self.person.pk}
            )
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_frame(self, kind: Any, content: dict[str, Any]) -> None:
        if self.join is None:
            if kind != "join":
                await self.error("join_first")
                return
            await self._join(content.get("join_token"))
            return
        if kind == "signal":
            await self._relay(content)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.error("unknown_frame")

    async def _join(self, raw: Any) -> None:
        join = await _check_join(raw, self.meeting_id)
        if join is None or join["person_id"] != self.person.pk:
            await self.send_json(await _join_refusal(self.person, self.meeting_id))
            await self.close(code=CLOSE_CODES["invalid"])
            return
        self.join = join
        self.raw_token = raw
        me = person_room_group(self.meeting_id, self.person.pk)
        # One socket per person in a meeting: an older tab leaves, so the mesh has one peer per person.
        await self.channel_layer.group_send(me, {"type": "meeting.replaced", "channel": self.channel_name})
        for group in (room_group(self.meeting_id), me):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        self.tasks.append(asyncio.ensure_future(self._recheck()))
        if join["admitted"]:
            await self._admitted()
        else:
            await self.send_json({"type": "lobby"})

    async def _admitted(self) -> None:
        if self.admitted:
            return
        self.admitted = True
        await self.send_json({"type": "admitted", "me": self._me()})
        await self.channel_layer.group_send(
            room_group(self.meeting_id),
            {"type": "meeting.peer_joined", "peer": self._me(),
             "channel": self.channel_name},
        )

    def _me(self) -> dict[str, Any]:
        return {"id": self.person.pk, "name": self.join["name"], "sfu_id": self.join["sfu_id"]}

    async def _relay(self, content: dict[str, Any]) -> None:
        to = content.get("to")
        data = content.get("data")
        if not self.admitted:
            await self.error("not_admitted")
            return
        if isinstance(to, bool) or not isinstance(to, int) or not isinstance(data, dict):
            await self.error("bad_signal")
            return
        if len(json.dumps(data)) > MAX_SIGNAL_BYTES:
            await self.error("too_large")
            return
        if not self._signal_allowed():
            if local_hit("signal-refusal", self.channel_name, RateLimitItemPerSecond(1)):
                await self.error("rate_limited")
            return
        if not is_valid_signal(data):
            # R-MEET-17: only SDP offers/answers and ICE candidates pass; the socket is no chat.
            # The log names who and where, never what was sent.
            log.warning("meeting %s: refused a signal of the wrong shape from person %s", self.meeting_id,
                        self.person.pk)
            await self.error("bad_signal")
            return
        await self.channel_layer.group_send(
            person_room_group(self.meeting_id, to),
            {"type": "meeting.signal", "from": self.person.pk, "data": data},
        )

    def _signal_allowed(self) -> bool:
        # Per socket, and one socket per person in a meeting: per peer.
        # A burst within any second, and the sustained rate over ten.
        per_second = max(1, int(settings.TRYGG_SIGNALS_PER_SECOND))
        burst = max(1, int(settings.TRYGG_SIGNALS_BURST))
        return local_hit("signal", self.channel_name, RateLimitItemPerSecond(burst),
                         RateLimitItemPerSecond(per_second * 10, 10))

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(float(settings.TRYGG_MEETING_RECHECK_SECONDS))
            try:
                join = await _check_join(self.raw_token, self.meeting_id)
            except Exception:  # noqa: BLE001 - a failed re-check is retried; the push path still works
                log.warning("re-checking a meeting socket failed; retrying")
                continue
            if join is None:
                await self._closed(await _void_reason(self.raw_token, self.meeting_id))
                return
            if join["admitted"] and not self.admitted:
                await self._admitted()
            if join["organiser"] and await _reconcile_sfu(self.meeting_id) == "restarted":
                await self.channel_layer.group_send(room_group(self.meeting_id),
                                                    {"type": "meeting.closed", "reason": "media_restarted"})

    async def _closed(self, reason: str) -> None:
        self.admitted = False
        await self.send_json({"type": "closed", "reason": reason})
        await self.close(code=CLOSE_CODES.get(reason, 4403))

    # ------------------------------------------------------------------ channel-layer messages

    async def meeting_closed(self, message: dict[str, Any]) -> None:
        await self._closed(message.get("reason", "invalid"))

    async def meeting_replaced(self, message: dict[str, Any]) -> None:
        if message.get("channel") != self.channel_name:
            await self._closed("replaced")

    async def meeting_admitted(self, message: dict[str, Any]) -> None:
        # The push is a hint: admission is read from the database, like every other decision.
        join = await _check_join(self.raw_token, self.meeting_id)
        if join is None:
            await self._closed(await _void_reason(self.raw_token, self.meeting_id))
        elif join["admitted"]:
            await self._admitted()

    def _as_seen(self, peer: Any) -> Any:
        """Return a peer (or a chat sender) as this person may see them: a protected person's name is
        "a pupil" or "a guardian" for other families (R-LIST-05)."""
        hidden = (self.join or {}).get("hidden_names", {})
        if isinstance(peer, dict) and peer.get("id") in hidden:
            return {**peer, "name": hidden[peer["id"]], **({"username": None} if "username" in peer else {})}
        return peer

    async def meeting_peer_joined(self, message: dict[str, Any]) -> None:
        peer = message.get("peer") or {}
        if not self.admitted or peer.get("id") == self.person.pk:
            return
        await self.send_json({"type": "peer_joined", "peer": self._as_seen(peer)})
        await self.channel_layer.group_send(
            person_room_group(self.meeting_id, peer["id"]),
            {"type": "meeting.peer_here", "peer": self._me()},
        )

    async def meeting_peer_here(self, message: dict[str, Any]) -> None:
        if self.admitted:
            await self.send_json({"type": "peer_here", "peer": self._as_seen(message.get("peer"))})

    async def meeting_peer_left(self, message: dict[str, Any]) -> None:
        if self.admitted and message.get("person_id") != self.person.pk:
            await self.send_json({"type": "peer_left", "person_id": message.get("person_id")})

    async def meeting_signal(self, message: dict[str, Any]) -> None:
        # Only an admitted socket receives media negotiation; a lobby socket never learns a peer's SDP.
        if self.admitted:
            await self.send_json({"type": "signal", "from": message.get("from"), "data": message.get("data")})

    async def meeting_roster(self, message: dict[str, Any]) -> None:
        if self.join is not None and self.join.get("organiser"):
            await self.send_json({"type": "roster"})

    async def meeting_chat(self, message: dict[str, Any]) -> None:
        if self.admitted:
            chat = message.get("message") or {}
            sender = chat.get("sender") if isinstance(chat, dict) else None
            if isinstance(sender, dict) and sender.get("id") in (self.join or {}).get("hidden_names", {}):
                chat = {**chat, "sender": {**self._as_seen(sender), "id": None}}
            await self.send_json({"type": "chat", "message": chat})

    async def meeting_moderated(self, message: dict[str, Any]) -> None:
        if self.admitted:
            await self.send_json({"type": "moderated", "audio": message.get("audio"), "video": message.get("video")})
