"""Trygg as the gatekeeper of the Janus SFU (issue 16): rooms, one-time credentials, kicks.

Meetings larger than a talk (the ``media`` obligation of ``core_meetings.class-size-media``) send
their media through Janus' VideoRoom plugin; Trygg keeps every decision:

* When the meeting starts (its first join), Trygg creates the room on the least busy configured
  server with a random 52-bit id and a random secret, ``is_private`` (never listed), an empty
  ``allowed`` list (so Janus checks a token on every publisher join), ``require_pvtid`` (so only a
  publisher who got in can subscribe, and kicking a publisher stops what they receive too), and
  ``record: false`` with ``lock_record: true`` (R-MEET-02, R-MEET-16). Creating needs the VideoRoom
  ``admin_key``, which only Trygg has.
* Every join gets its own credential ``<participant id>-<HMAC of the join token>``. Janus knows it
  only once the organiser has admitted its holder: admission adds it to the room's ``allowed``
  list; it is taken off again as soon as Janus has seen the participant (one-time), and on removal,
  halt, end or expiry. Its participant id is the one the client must publish as: anyone in the
  room with another id is kicked when the organiser's socket next re-checks (every 2 s).
* Removing a person kicks their publisher (Janus then stops their subscriptions too); halting or
  ending destroys the room, which disconnects everyone (R-MEET-01, R-MEET-18).
* The teacher mutes a pupil's microphone or turns off their camera with the room secret
  (``moderate``); pupils never see the secret, so they cannot do it to each other.

Janus is reached over its HTTP API with short timeouts; when it cannot be reached a meeting falls
back to the mesh with a warning to the organiser, and a Janus restart (its rooms gone) ends the
meeting's video with a clear message instead of a frozen picture.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from trygg.meetings.models import Invitation, JoinToken, Meeting, SfuGrant, SfuRoom

log = logging.getLogger(__name__)

# The client publishes its microphone first and its camera second, so their mids are these.
AUDIO_MID = "0"
VIDEO_MID = "1"
MAX_PUBLISHERS = 60
# Janus VideoRoom error codes Trygg reacts to.
NO_SUCH_ROOM = 426
NO_SUCH_FEED = 428


class JanusUnavailable(Exception):
    """No Janus server could be reached (or none is configured)."""


class JanusRefused(Exception):
    """Janus answered with an error."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class JanusServerConfig:
    url: str
    public_url: str
    admin_key: str


def configured_servers() -> list[JanusServerConfig]:
    urls = list(settings.TRYGG_JANUS_URL)
    public = list(settings.TRYGG_JANUS_PUBLIC_URL)
    key = settings.TRYGG_JANUS_ADMIN_KEY
    return [JanusServerConfig(url=u, public_url=public[i] if i < len(public) else u, admin_key=key)
            for i, u in enumerate(urls)]


class JanusApi:
    """The Janus HTTP API as Trygg uses it: one short session with a VideoRoom handle per request."""

    def __init__(self, url: str, timeout: float | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = float(settings.TRYGG_JANUS_TIMEOUT if timeout is None else timeout)

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8)}
        try:
            response = requests.post(url, json=body, timeout=self.timeout)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise JanusUnavailable(f"Janus at {self.url} did not answer") from exc
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusRefused(int(error.get("code") or 0), str(error.get("reason") or ""))
        return answer

    @contextmanager
    def handle(self) -> Iterator[str]:
        session = self._post(self.url, {"janus": "create"})["data"]["id"]
        session_url = f"{self.url}/{session}"
        try:
            attached = self._post(session_url, {"janus": "attach", "plugin": "janus.plugin.videoroom"})
            yield f"{session_url}/{attached['data']['id']}"
        finally:
            try:
                self._post(session_url, {"janus": "destroy"})
            except (JanusUnavailable, JanusRefused):
                pass  # the session times out on its own

    def videoroom(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send one synchronous VideoRoom request and return its data; raise ``JanusRefused`` on error."""
        with self.handle() as handle_url:
            answer = self._post(handle_url, {"janus": "message", "body": body})
        data = (answer.get("plugindata") or {}).get("data") or {}
        if data.get("error_code"):
            raise JanusRefused(int(data["error_code"]), str(data.get("error") or ""))
        return data


# ------------------------------------------------------------------------------ credentials


def credential_for(join_token_digest: str) -> tuple[int, str]:
    """Return the participant id and the Janus credential of one join (derived, never stored)."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"trygg-sfu:{join_token_digest}".encode(), hashlib.sha256).hexdigest()
    # 52 bits: an id JavaScript numbers hold exactly; never 0, which Janus reads as "pick one".
    participant_id = int(mac[:13], 16) or 1
    return participant_id, f"{participant_id}-{mac[13:]}"


def _live_token(meeting: Meeting, person_id: int) -> JoinToken | None:
    return (
        JoinToken.objects.filter(meeting=meeting, person_id=person_id, generation=meeting.generation,
                                 voided_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at").first()
    )


# ------------------------------------------------------------------------------ rooms


def live_room(meeting: Meeting) -> SfuRoom | None:
    return SfuRoom.objects.filter(meeting=meeting, generation=meeting.generation, destroyed_at__isnull=True).first()


def _pick_server() -> JanusServerConfig:
    servers = configured_servers()
    if not servers:
        raise JanusUnavailable("no Janus server is configured")
    load = dict(
        SfuRoom.objects.filter(destroyed_at__isnull=True).values_list("server_url").annotate(n=Count("id"))
    )
    # The least busy first; a server that does not answer is skipped for the next.
    return min(servers, key=lambda s: load.get(s.url, 0))


def ensure_room(meeting: Meeting) -> SfuRoom:
    """Return the meeting's live room of this generation, creating it in Janus if there is none."""
    room = live_room(meeting)
    if room is not None:
        return room
    servers = sorted(configured_servers(), key=lambda s: s != _pick_server())
    last: Exception | None = None
    for server in servers:
        janus_room = secrets.randbelow(2**52 - 1) + 1
        secret = secrets.token_urlsafe(32)
        try:
            JanusApi(server.url).videoroom({
                "request": "create", "admin_key": server.admin_key, "room": janus_room, "secret": secret,
                "description": f"Trygg {meeting.pk}", "is_private": True, "permanent": False,
                "allowed": [], "require_pvtid": True, "publishers": MAX_PUBLISHERS,
                "record": False, "lock_record": True, "audiolevel_event": True, "audio_active_packets": 50,
                "audio_level_average": 40, "videocodec": "vp8", "bitrate": 512_000, "notify_joining": False,
            })
        except (JanusUnavailable, JanusRefused) as exc:
            log.warning("creating a meeting room on a Janus server failed; trying the next")
            last = exc
            continue
        try:
            with transaction.atomic():
                return SfuRoom.objects.create(meeting=meeting, generation=meeting.generation, server_url=server.url,
                                              public_url=server.public_url, janus_room=janus_room, secret=secret)
        except IntegrityError:
            # Someone else started the meeting at the same moment: use their room, drop ours.
            _destroy_in_janus(server.url, janus_room, secret)
            room = live_room(meeting)
            if room is not None:
                return room
    raise JanusUnavailable(str(last) if last else "no Janus server answered")


def _destroy_in_janus(url: str, janus_room: int, secret: str) -> None:
    try:
        JanusApi(url).videoroom({"request": "destroy", "room": janus_room, "secret": secret, "permanent": False})
    except JanusRefused as exc:
        if exc.code != NO_SUCH_ROOM:
            raise


def destroy_rooms(meeting: Meeting, reason: str) -> int:
    """Destroy every live room of the meeting: Janus disconnects everyone in it at once (R-MEET-01,
    R-MEET-18). Return how many were destroyed; a room whose server is down is marked gone all the
    same (its server lost it, or will time its sessions out)."""
    done = 0
    for room in SfuRoom.objects.filter(meeting=meeting, destroyed_at__isnull=True):
        try:
            _destroy_in_janus(room.server_url, room.janus_room, room.secret)
        except (JanusUnavailable, JanusRefused):
            log.warning("destroying a meeting room in Janus failed; marking it gone")
        now = timezone.now()
        SfuRoom.objects.filter(pk=room.pk).update(destroyed_at=now, destroyed_reason=reason)
        SfuGrant.objects.filter(room=room, revoked_at__isnull=True).update(revoked_at=now)
        done += 1
    return done


# ------------------------------------------------------------------------------ people


def grant(meeting: Meeting, person_id: int) -> SfuGrant | None:
    """Let Janus accept the person's current credential: called when they are admitted, or when
    an admitted person joins again. Return the grant, or ``None`` when they hold no live join."""
    room = live_room(meeting)
    token = _live_token(meeting, person_id)
    if room is None or token is None:
        return None
    existing = SfuGrant.objects.filter(join_token=token).first()
    if existing is not None and existing.revoked_at is None:
        return existing
    participant_id, credential = credential_for(token.digest)
    api = JanusApi(room.server_url)
    api.videoroom({"request": "allowed", "room": room.janus_room, "secret": room.secret, "action": "add",
                   "allowed": [credential]})
    # An older credential of the same person (another tab, a reload) stops working.
    for old in SfuGrant.objects.filter(room=room, person_id=person_id, revoked_at__isnull=True):
        _revoke(api, room, old)
    made, _created = SfuGrant.objects.update_or_create(
        join_token=token,
        defaults={"room": room, "person_id": person_id, "participant_id": participant_id,
                  "granted_at": timezone.now(), "revoked_at": None, "used_at": None},
    )
    return made


def _revoke(api: JanusApi, room: SfuRoom, grant_row: SfuGrant) -> None:
    _pid, credential = credential_for(grant_row.join_token.digest)
    try:
        api.videoroom({"request": "allowed", "room": room.janus_room, "secret": room.secret, "action": "remove",
                       "allowed": [credential]})
    except JanusRefused:
        pass  # already off the list
    kick(api, room, grant_row.participant_id)
    SfuGrant.objects.filter(pk=grant_row.pk).update(revoked_at=timezone.now())


def kick(api: JanusApi, room: SfuRoom, participant_id: int) -> bool:
    """Kick a publisher; Janus closes their connection and, with ``require_pvtid``, what they receive."""
    try:
        api.videoroom({"request": "kick", "room": room.janus_room, "secret": room.secret, "id": participant_id})
    except JanusRefused as exc:
        if exc.code in (NO_SUCH_FEED, NO_SUCH_ROOM):
            return False
        raise
    return True


def revoke_person(meeting: Meeting, person_id: int) -> int:
    """Take every credential of the person off every live room of the meeting and kick them out."""
    count = 0
    for room in SfuRoom.objects.filter(meeting=meeting, destroyed_at__isnull=True):
        api = JanusApi(room.server_url)
        for row in SfuGrant.objects.select_related("join_token").filter(room=room, person_id=person_id,
                                                                         revoked_at__isnull=True):
            _revoke(api, room, row)
            count += 1
    return count


def participant_id_of(meeting: Meeting, person_id: int) -> int | None:
    row = (SfuGrant.objects.filter(room__meeting=meeting, room__destroyed_at__isnull=True, person_id=person_id,
                                   revoked_at__isnull=True).order_by("-granted_at").first())
    return row.participant_id if row else None


def moderate(meeting: Meeting, person_id: int, audio: bool | None, video: bool | None) -> bool:
    """Mute (``False``) or allow again (``True``) a participant's microphone and camera in Janus."""
    room = live_room(meeting)
    participant_id = participant_id_of(meeting, person_id)
    if room is None or participant_id is None:
        return False
    api = JanusApi(room.server_url)
    for mid, on in ((AUDIO_MID, audio), (VIDEO_MID, video)):
        if on is None:
            continue
        try:
            api.videoroom({"request": "moderate", "room": room.janus_room, "secret": room.secret,
                           "id": participant_id, "mid": mid, "mute": not on})
        except JanusRefused as exc:
            if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                raise
    return True


def reconcile(meeting_id: int) -> str | None:
    """Make Janus agree with Trygg; return ``"restarted"`` when the server lost the room.

    Credentials Janus has seen used are taken off the allowed list (one-time); credentials whose
    join is no longer valid (expired, voided, not admitted) are revoked; anyone in the room whose
    participant id belongs to no valid grant is kicked. Rooms of an older generation are destroyed.
    """
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        return None
    if meeting.ended:
        destroy_rooms(meeting, "ended")
        return None
    older = SfuRoom.objects.filter(meeting=meeting, destroyed_at__isnull=True).exclude(generation=meeting.generation)
    for old in older:
        _destroy_in_janus(old.server_url, old.janus_room, old.secret)
        SfuRoom.objects.filter(pk=old.pk).update(destroyed_at=timezone.now(), destroyed_reason="halted")
    room = live_room(meeting)
    if room is None:
        return None
    api = JanusApi(room.server_url)
    try:
        present = {int(p["id"]) for p in api.videoroom(
            {"request": "listparticipants", "room": room.janus_room, "secret": room.secret}).get("participants", [])}
    except JanusRefused as exc:
        if exc.code == NO_SUCH_ROOM:
            SfuRoom.objects.filter(pk=room.pk).update(destroyed_at=timezone.now(), destroyed_reason="restarted")
            SfuGrant.objects.filter(room=room, revoked_at__isnull=True).update(revoked_at=timezone.now())
            return "restarted"
        raise
    now = timezone.now()
    admitted = {
        i.person_id for i in Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
        if i.state(meeting.generation) == "admitted"
    }
    valid: set[int] = set()
    for row in SfuGrant.objects.select_related("join_token").filter(room=room, revoked_at__isnull=True):
        token = row.join_token
        if token.voided_at is not None or token.expires_at <= now or row.person_id not in admitted:
            _revoke(api, room, row)
            continue
        valid.add(row.participant_id)
        if row.used_at is None and row.participant_id in present:
            _pid, credential = credential_for(token.digest)
            api.videoroom({"request": "allowed", "room": room.janus_room, "secret": room.secret,
                           "action": "remove", "allowed": [credential]})
            SfuGrant.objects.filter(pk=row.pk).update(used_at=now)
    for stranger in present - valid:
        log.warning("kicking a participant of a meeting room that Trygg did not let in")
        kick(api, room, stranger)
    return None
