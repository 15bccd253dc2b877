"""The event log: ordering, resume reads, rollback and the stream index (design rule 3)."""

from __future__ import annotations

import time

import pytest

from trygg.events.log import emit_event, events_after, latest_event_id
from trygg.events.models import EventRecipient


def test_events_after_reads_a_persons_stream_in_order_with_prev(person) -> None:
    mor = person("mor.sara")
    before = latest_event_id(mor.pk)
    ids = [emit_event("test.ping", [mor.pk], {"n": i}).pk for i in range(3)]
    frames = events_after(mor.pk, before)
    assert [f["id"] for f in frames] == ids
    assert [f["prev"] for f in frames] == [before, ids[0], ids[1]]
    assert [f["n"] for f in frames] == [0, 1, 2]
    assert events_after(mor.pk, ids[-1]) == []
    assert events_after(person("far.jonas").pk, before) == [] or all(
        f["type"] != "test.ping" for f in events_after(person("far.jonas").pk, before))


def test_rolled_back_action_leaves_no_event(person) -> None:
    from django.db import transaction

    mor = person("mor.sara")
    before = latest_event_id(mor.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        emit_event("test.ping", [mor.pk], {"n": 1})
        raise RuntimeError("boom")
    assert latest_event_id(mor.pk) == before


@pytest.mark.django_db
def test_every_recipient_row_updates_one_person_first_index() -> None:
    """Each message writes a row per recipient, each into its own leaf page of every index that
    starts with the person: the stream read must be served by exactly one such index, the unique
    (person, event) one, on SQLite and PostgreSQL alike."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, EventRecipient._meta.db_table)
    indexes = [c for c in constraints.values() if c["index"] or (c["unique"] and not c["primary_key"])]
    person_first = [c for c in indexes if c["columns"][0] == "person_id"]
    assert len(person_first) == 1, person_first
    assert person_first[0]["columns"] == ["person_id", "event_id"]
    assert person_first[0]["unique"]


def test_issue_15_prev_is_each_recipient_s_own_last_event_new_or_not(person) -> None:
    """The stream heads are moved and give their old values back in the statement that appends the
    event: a recipient with no stream yet gets ``prev`` 0, the others their own last event."""
    from trygg.events.log import _append
    from trygg.events.models import Event, StreamHead

    mor, far, kari = person("mor.sara"), person("far.jonas"), person("kari.4a")
    StreamHead.objects.filter(person_id=kari.pk).delete()
    first = emit_event("test.ping", [mor.pk], {"n": 1}).pk
    second = emit_event("test.ping", [far.pk], {"n": 2}).pk
    event = Event(type="test.ping", payload={"n": 3})
    prev = _append(event, sorted([mor.pk, far.pk, kari.pk]))
    assert event.pk > second
    assert {pid: prev.get(pid, 0) for pid in (mor.pk, far.pk, kari.pk)} == {mor.pk: first, far.pk: second, kari.pk: 0}
    assert {latest_event_id(pid) for pid in (mor.pk, far.pk, kari.pk)} == {event.pk}
    assert set(EventRecipient.objects.filter(event=event).values_list("person_id", flat=True)) == {mor.pk, far.pk,
                                                                                                   kari.pk}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_on_postgresql_the_event_row_takes_the_log_s_lock_in_its_own_statement(person) -> None:
    """Commit order is id order because an event's id is given under the log's lock, held to the
    commit. The lock is taken by the statement that inserts the event and its stream rows (one
    round trip in the stretch every send waits for): another connection cannot take it until the
    commit."""
    import psycopg
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from trygg.events.log import EVENT_LOG_LOCK

    db = settings.DATABASES["default"]
    other = psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"],
                            dbname=connection.settings_dict["NAME"], autocommit=True)
    mor = person("mor.emma")
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as seen:
            event = emit_event("test.lock", [mor.pk], {"n": 1})
            held = not other.execute("SELECT pg_try_advisory_lock(%s)", [EVENT_LOG_LOCK]).fetchone()[0]
        locking = [q["sql"] for q in seen if "pg_advisory_xact_lock" in q["sql"]]
        assert held
        assert len(seen) == 1 and locking == [seen[0]["sql"]]
        assert locking[0].startswith('WITH ev AS (INSERT INTO "messaging_event"')
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [EVENT_LOG_LOCK]).fetchone()[0]
        other.execute("SELECT pg_advisory_unlock(%s)", [EVENT_LOG_LOCK])
        assert event.pk and latest_event_id(mor.pk) == event.pk
    finally:
        other.close()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_on_postgresql_an_append_that_waited_for_the_lock_chains_on_the_event_before(person) -> None:
    """The statement that appends an event takes its snapshot before it waits for the log's lock.
    What the holder commits meanwhile is invisible to that snapshot, yet the waiting event's
    ``prev`` must be the holder's event: a socket would otherwise take the frame for one that
    follows a lost push, or worse, skip nothing where it should have read the gap."""
    import threading

    import psycopg
    from django.conf import settings
    from django.db import connection, connections, transaction

    from trygg.events.log import _append
    from trygg.events.models import Event

    mor = person("mor.emma")
    start = emit_event("test.ping", [mor.pk], {"n": 0}).pk
    db = settings.DATABASES["default"]
    watcher = psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"],
                              dbname=connection.settings_dict["NAME"], autocommit=True)
    waited: dict[str, object] = {}

    def append_while_held() -> None:
        try:
            with transaction.atomic():
                event = Event(type="test.ping", payload={"n": 2})
                waited["prev"] = _append(event, [mor.pk])
                waited["id"] = event.pk
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            waited["error"] = exc
        finally:
            connections.close_all()

    try:
        with transaction.atomic():
            held = emit_event("test.ping", [mor.pk], {"n": 1}).pk
            second = threading.Thread(target=append_while_held)
            second.start()
            deadline = time.monotonic() + 10
            while not watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                                      ).fetchone()[0]:
                assert time.monotonic() < deadline, "the second append never waited for the lock"
                time.sleep(0.01)
        second.join(10)
    finally:
        watcher.close()
    assert "error" not in waited, waited
    assert waited["prev"] == {mor.pk: held} and held > start
    assert waited["id"] > held and latest_event_id(mor.pk) == waited["id"]
    assert [(f["id"], f["prev"]) for f in events_after(mor.pk, start)] == [(held, start), (waited["id"], held)]
