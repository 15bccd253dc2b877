"""Appending to the event log and pushing after commit (design rule 3: the log is the truth).

Ordering: an event's id is its place in every recipient's stream, so ids must become visible in
id order. SQLite already runs one writer at a time (``transaction_mode: IMMEDIATE``); on
PostgreSQL two transactions could take ids 9 and 10 and commit 10 first, and a client that saw 10
would resume after it and lose 9 for ever. ``emit_event`` therefore takes a transaction-scoped
advisory lock before it takes an id, which makes commit order equal id order; the lock is held
only from the emit to the commit, so actions emit last.

Gaps: each pushed frame carries ``prev``, the recipient's previous event id. A socket that has
delivered up to ``prev`` can deliver the frame at once; one that has not (a push was lost: full
channel, other process without Redis) reads the missing events from the log first.

Delivery: the pusher hands each committed event, encoded once, to every process's hub
(``trygg.events.hub``), which passes it to the sockets and long polls of its recipients.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from trygg.database import RowReader, among, insert_row, insert_statement, mark_saved
from trygg.events import hub
from trygg.events.models import Event, EventRecipient, StreamHead
from trygg.events.payloads import validate_payload

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every process that appends events.
EVENT_LOG_LOCK = 7_405_112


class _NewEventId:
    """Stands for the event's id among a ``then`` statement's parameters, where the id is given in
    the same statement (PostgreSQL): the statement reads it from the event's insert instead."""

    def __repr__(self) -> str:
        return "NEW_EVENT_ID"


NEW_EVENT_ID = _NewEventId()
EventId = int | _NewEventId

# Statements an action makes after its event, given the event's id: (SQL, parameters) each.
Then = Callable[[EventId], Sequence[tuple[str, Sequence[Any]]]]


def emit_event(event_type: str, recipient_ids: Iterable[int], payload: dict[str, Any], *,
               then: Then | None = None) -> Event:
    """Append an event for ``recipient_ids`` to the log; push it to their sockets after commit.

    Call inside the action's transaction, as its last write: if it rolls back, the event never
    existed and no client is told about it. A payload of a registered type is validated first.

    ``then``: the writes the action must make after the event (a message keeps its event's id),
    given the id, or on PostgreSQL ``NEW_EVENT_ID`` to pass as a parameter where the id goes. They
    run with the stream's rows, in the same statement on PostgreSQL: from the moment the event
    takes the log's lock to the commit every send waits, and each round trip in that stretch counts
    for every sender.
    """
    payload = validate_payload(event_type, payload)
    recipients = sorted(set(recipient_ids))
    # No savepoint: an emit that fails fails its action, whose transaction rolls back whole.
    with transaction.atomic(savepoint=False):
        event = Event(type=event_type, payload=payload)
        prev = _append(event, recipients, then)
    prev_of = {pid: prev.get(pid, 0) for pid in recipients}
    transaction.on_commit(lambda: push_event(event, recipients, prev_of))
    return event


# Rows per statement: well under SQLite's oldest limit of 999 parameters.
_CHUNK = 400


def _append(event: Event, recipients: list[int], then: Then | None = None) -> dict[int, int]:
    """Insert the event, add it to each recipient's stream and make the ``then`` writes; return
    each recipient's previous head (none for a stream that starts here).

    Plain SQL: these rows are the hottest writes in Trygg (one per member of a class channel, per
    message), and the ORM spent more building the statements than the database spent running them.
    """
    if connection.vendor == "postgresql":
        return _append_in_one_statement(event, recipients, then)
    insert_row(event)
    heads = connection.ops.quote_name(StreamHead._meta.db_table)
    rows = connection.ops.quote_name(EventRecipient._meta.db_table)
    prev: dict[int, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(recipients), _CHUNK):
            chunk = recipients[start:start + _CHUNK]
            cursor.execute(
                f"INSERT INTO {rows} (event_id, person_id) VALUES {', '.join(['(%s, %s)'] * len(chunk))}",  # noqa: S608
                [value for pid in chunk for value in (event.pk, pid)],
            )
            # Each head moves and gives its old value back in the same statement (SQLite
            # evaluates ``SET`` against the row as it was).
            cursor.execute(
                f"INSERT INTO {heads} (person_id, last_event_id, previous_event_id) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, 0)'] * len(chunk))} "
                "ON CONFLICT (person_id) DO UPDATE SET previous_event_id = last_event_id, "
                "last_event_id = excluded.last_event_id RETURNING person_id, previous_event_id",
                [value for pid in chunk for value in (pid, event.pk)],
            )
            prev.update(cursor.fetchall())
        for sql, params in then(event.pk) if then is not None else ():
            cursor.execute(sql, params)
    return prev


def _append_in_one_statement(event: Event, recipients: list[int], then: Then | None) -> dict[int, int]:
    """PostgreSQL: the log's lock, the event, its stream rows, the heads and the ``then`` writes in
    one statement, so one round trip (and one wait for this thread's turn at the GIL) between the
    lock and the commit instead of two.

    The statements of a ``WITH`` share one snapshot, taken before the lock was waited for, so
    nothing here may *read* what the previous holder of the lock wrote: the heads' old values come
    back from the upsert (``previous_event_id``), which works on the newest version of each row.
    The lock is taken by the event's insert before the row gets its id, so commit order is id order.
    """
    heads = connection.ops.quote_name(StreamHead._meta.db_table)
    rows = connection.ops.quote_name(EventRecipient._meta.db_table)
    event_sql, params = insert_statement(event, first=("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOG_LOCK]),
                                         returning=True)
    params += [recipients, recipients]
    after = []
    for number, (sql, values) in enumerate(then(NEW_EVENT_ID) if then is not None else ()):
        sql, values = _naming_the_new_event(sql, values)
        after.append(f", then{number} AS ({sql})")
        params += values
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ev AS ({event_sql}), "  # noqa: S608 - names and the caller's constant SQL
            f"added AS (INSERT INTO {rows} (event_id, person_id) SELECT ev.id, p FROM ev, unnest(%s::bigint[]) AS p), "
            f"moved AS (INSERT INTO {heads} AS h (person_id, last_event_id, previous_event_id) "
            "SELECT p, ev.id, 0 FROM ev, unnest(%s::bigint[]) AS p ON CONFLICT (person_id) DO UPDATE "
            "SET previous_event_id = h.last_event_id, last_event_id = EXCLUDED.last_event_id "
            f"RETURNING person_id, previous_event_id){''.join(after)} "
            # Every data-modifying part runs whether or not this reads it; the join keeps the
            # event's id for an event with no recipients.
            "SELECT ev.id, moved.person_id, moved.previous_event_id FROM ev LEFT JOIN moved ON TRUE",
            params,
        )
        found = cursor.fetchall()
    mark_saved(event, found[0][0])
    return {pid: previous for _id, pid, previous in found if pid is not None}


_PLACEHOLDER = re.compile(r"(?<!%)%s")


def _naming_the_new_event(sql: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """Put the event's insert where ``NEW_EVENT_ID`` is among a statement's parameters."""
    parts = _PLACEHOLDER.split(sql)
    if len(parts) != len(values) + 1:
        raise ValueError(f"{len(values)} parameters for {len(parts) - 1} placeholders")
    text, kept = [parts[0]], []
    for value, part in zip(values, parts[1:], strict=True):
        if value is NEW_EVENT_ID:
            text.append("(SELECT id FROM ev)")
        else:
            text.append("%s")
            kept.append(value)
        text.append(part)
    return "".join(text), kept


def event_frame(event: Event, prev: int | None = None) -> dict[str, Any]:
    """Return the frame a client receives: ``{"id", "type", "prev"?, ...payload}``."""
    frame = {**event.payload, "id": event.pk, "type": event.type}
    if prev is not None:
        frame["prev"] = prev
    return frame


def push_event(event: Event, recipient_ids: Iterable[int], prev_of: dict[int, int] | None = None) -> None:
    """Push an already committed event to the recipients' sockets; losing a push loses nothing.

    Under the ASGI server the push is handed to the event loop's pusher and the request goes on:
    waiting for 30+ group sends on a loop that is busy writing frames held every sender's thread,
    and capped a class channel at about 45 messages a second (``bench/bench_messaging.py``).
    Elsewhere (commands, the notice worker, tests without a loop) it is sent before returning.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    _hand_over(_Push(layer, event, list(recipient_ids), prev_of or {}))


# The close code of a socket whose sign-in no longer holds (signed out, token revoked, password
# changed, account deactivated): the client signs in again or stops.
SIGNED_OUT = 4401


def close_sockets_of(
    person_id: int, *, credential: str | None = None, keep: str | None = None, code: int = SIGNED_OUT
) -> None:
    """Close the person's open sockets in every process, once the current transaction commits.

    ``credential`` closes only the sockets signed in with it (one session or token, see
    ``trygg.events.sockets``); ``keep`` closes all but those; neither closes all. Like a push it
    is a hint: sockets also re-check their sign-in on their own.
    """
    transaction.on_commit(lambda: _close_now(person_id, credential, keep, code))


def _close_now(person_id: int, credential: str | None, keep: str | None, code: int) -> None:
    # At once here: the sign-out's answer may reach its client before the hub hears it from Redis.
    hub.forget_poll_tokens(person_id)
    layer = get_channel_layer()
    if layer is None:
        hub.close_here(person_id, credential, keep, code)
        return
    _hand_over(_Close(layer, person_id, credential, keep, code))


def forget_pushes(event_ids: Iterable[int]) -> None:
    """Make every process drop the frames it kept of these events' pushes, once the current
    transaction commits: their payloads changed in the log (a deleted message's text erased), and
    a long poll answered from kept pushes (``trygg.events.hub.kept_after``) must not give the old."""
    ids = sorted(set(event_ids))
    if ids:
        transaction.on_commit(lambda: _forget_now(ids))


def _forget_now(event_ids: list[int]) -> None:
    hub.forget_kept(event_ids)  # at once here, as a close is
    layer = get_channel_layer()
    if layer is not None and not hub.in_process(layer):
        _hand_over(_Forget(layer, event_ids))


class _Push:
    """One event to hand to every process's hub, encoded once for all its recipients."""

    def __init__(self, layer: Any, event: Event, recipient_ids: list[int], prev_of: dict[int, int]) -> None:
        self.layer, self.event, self.recipient_ids, self.prev_of = layer, event, recipient_ids, prev_of

    async def run(self) -> None:
        # Only ``prev`` differs between recipients, and it goes on the end. A 30-member class
        # channel otherwise encoded the same message 30 times.
        body = json.dumps(event_frame(self.event), cls=DjangoJSONEncoder)
        await hub.publish(self.layer, self.event.pk, body, [(pid, self.prev_of.get(pid)) for pid in self.recipient_ids])

    def failed(self) -> None:
        log.warning("push of event %s failed; clients resume from the log", self.event.pk)


class _Close:
    """Closing a person's sockets, handed to every process's hub like an event."""

    def __init__(self, layer: Any, person_id: int, credential: str | None, keep: str | None, code: int) -> None:
        self.layer, self.person_id, self.credential, self.keep, self.code = layer, person_id, credential, keep, code

    async def run(self) -> None:
        await hub.close(self.layer, self.person_id, self.credential, self.keep, self.code)

    def failed(self) -> None:
        log.warning("closing the sockets of person %s failed; they re-check their sign-in", self.person_id)


class _Forget:
    """Dropping kept pushes of changed events, handed to every process's hub like an event."""

    def __init__(self, layer: Any, event_ids: list[int]) -> None:
        self.layer, self.event_ids = layer, event_ids

    async def run(self) -> None:
        await hub.forget(self.layer, self.event_ids)

    def failed(self) -> None:
        log.warning("telling the other processes to forget %s changed events failed; their kept pushes "
                    "expire within %s s", len(self.event_ids), int(hub.KEPT_SECONDS))


def _hand_over(item: _Push | _Close | _Forget) -> None:
    loop = _server_loop()
    if loop is not None:
        try:
            # A fresh context: the pusher must not inherit the request thread's (asgiref would take
            # any database call made from a task it starts for one from inside that thread).
            loop.call_soon_threadsafe(_enqueue, item, context=contextvars.Context())
            return
        except RuntimeError:  # the loop closed under us: fall back to a direct send
            pass
    try:
        async_to_sync(item.run)()
    except Exception:  # noqa: BLE001 - an unreachable layer only costs the hint
        item.failed()


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """Return the ASGI server's event loop when called from one of its request threads.

    asgiref records that loop (and its process) in ``SyncToAsync.threadlocal`` for the threads it
    runs sync code in; a private detail, checked by ``tests/test_library_contracts.py``.
    """
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    return None if loop.is_closed() else loop


# One queue and one pusher task per event loop: pushes leave in commit order, so a socket sees
# frames in id order and does not mistake a reordering for a lost push.
# Weakly keyed: a test's short-lived loop must not be kept alive by its queue.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue[_Push | _Close]] = (
    weakref.WeakKeyDictionary()
)


def _enqueue(item: _Push | _Close) -> None:
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = asyncio.Queue()
        loop.create_task(_pusher(queue))
    queue.put_nowait(item)


async def _pusher(queue: asyncio.Queue[_Push | _Close]) -> None:
    while True:
        item = await queue.get()
        try:
            await item.run()
        except Exception:  # noqa: BLE001 - one failed push must not stop the ones after it
            item.failed()


# SQLite allows 999 bound parameters in older builds; stay below it.
_HEADS_CHUNK = 900


def stream_heads(person_ids: Iterable[int]) -> dict[int, int]:
    """Return the newest event id of each person's stream (people with no events are left out).

    One indexed read per 900 people (one in all on PostgreSQL, ``trygg.database.among``): the
    hub's sweep asks it for every listener of a process at once, instead of each socket reading its
    own stream. Hand-written: building the ORM's ``IN`` of a thousand ids was most of an idle
    process's database work (a tenth of the CPU of 10,000 idle sockets,
    ``bench/bench_idle_sockets.py`` under py-spy).
    """
    ids = [int(pid) for pid in person_ids]
    table = connection.ops.quote_name(StreamHead._meta.db_table)
    heads: dict[int, int] = {}
    with connection.cursor() as cursor:
        for where, values, _ in among(ids, _HEADS_CHUNK):
            cursor.execute(f"SELECT person_id, last_event_id FROM {table} WHERE person_id {where}",  # noqa: S608
                           values)
            heads.update(cursor.fetchall())
    return heads


def newest_event_id() -> int:
    """Return the newest event id of the whole log (0 if it is empty): one read of the key's end.

    Ids become visible in id order (``emit_event``), so a log whose newest id has not moved has no
    new event for anybody: the hub's sweep asks this first and reads no stream heads then.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - a name only
        row = cursor.fetchone()
    return int(row[0] or 0)


def latest_event_id(person_id: int) -> int:
    """Return the id of the newest event in a person's stream (0 if none)."""
    head = StreamHead.objects.filter(person_id=person_id).values_list("last_event_id", flat=True).first()
    return head or 0


def events_after(person_id: int, after: int, limit: int = 500, *, newer_known: bool = False) -> list[dict[str, Any]]:
    """Return a person's events after ``after`` in id order as frames, each with its ``prev``.

    Hand-written (``trygg.database.RowReader``): every long poll and every socket's resume asks
    it, and most find nothing new, which the stream head (one primary-key read) tells without the
    join; building the ORM's join cost more than running it (``bench/bench_phases.py``).
    ``newer_known``: the caller knows of a newer event (a push), so the head is not read first.
    """
    heads = connection.ops.quote_name(StreamHead._meta.db_table)
    with connection.cursor() as cursor:
        if not newer_known:
            cursor.execute(f"SELECT last_event_id FROM {heads} WHERE person_id = %s", [person_id])  # noqa: S608
            head = cursor.fetchone()
            if head is None or head[0] <= after:
                return []
        reader = _EVENTS
        cursor.execute(
            f"SELECT {reader.columns('e')} FROM {connection.ops.quote_name(Event._meta.db_table)} e "  # noqa: S608
            f"JOIN {connection.ops.quote_name(EventRecipient._meta.db_table)} r ON r.event_id = e.id "
            "WHERE r.person_id = %s AND e.id > %s ORDER BY e.id LIMIT %s",
            [person_id, after, limit],
        )
        rows = cursor.fetchall()
    frames = []
    prev = after
    for row in rows:
        event, _end = reader.read(row)
        frames.append(event_frame(event, prev))
        prev = event.pk
    return frames


_EVENTS = RowReader(Event)
