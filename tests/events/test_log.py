"""The event log: ordering, resume reads, rollback and the stream index (design rule 3)."""

from __future__ import annotations

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
    """The stream heads are read and moved in one statement on PostgreSQL (a few elsewhere): a
    recipient with no stream yet gets ``prev`` 0, the others their own last event."""
    from trygg.events.log import _append_to_streams
    from trygg.events.models import Event, StreamHead

    mor, far, kari = person("mor.sara"), person("far.jonas"), person("kari.4a")
    StreamHead.objects.filter(person_id=kari.pk).delete()
    first = emit_event("test.ping", [mor.pk], {"n": 1}).pk
    second = emit_event("test.ping", [far.pk], {"n": 2}).pk
    event = Event.objects.create(type="test.ping", payload={"n": 3})
    prev = _append_to_streams(event.pk, sorted([mor.pk, far.pk, kari.pk]))
    assert {pid: prev.get(pid, 0) for pid in (mor.pk, far.pk, kari.pk)} == {mor.pk: first, far.pk: second, kari.pk: 0}
    assert {latest_event_id(pid) for pid in (mor.pk, far.pk, kari.pk)} == {event.pk}
    assert set(EventRecipient.objects.filter(event=event).values_list("person_id", flat=True)) == {mor.pk, far.pk,
                                                                                                   kari.pk}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_on_postgresql_the_event_row_takes_the_log_s_lock_in_its_own_statement(person) -> None:
    """Commit order is id order because an event's id is given under the log's lock, held to the
    commit. The lock is taken by the event's insert itself (one round trip instead of two, in the
    stretch every send waits for): another connection cannot take it until the commit."""
    import psycopg
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from trygg.events.log import EVENT_LOG_LOCK

    db = settings.DATABASES["default"]
    other = psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"],
                            dbname=connection.settings_dict["NAME"], autocommit=True)
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as seen:
            event = emit_event("test.lock", [person("mor.emma").pk], {"n": 1})
            held = not other.execute("SELECT pg_try_advisory_lock(%s)", [EVENT_LOG_LOCK]).fetchone()[0]
        locking = [q["sql"] for q in seen if "pg_advisory_xact_lock" in q["sql"]]
        assert held
        assert len(locking) == 1 and locking[0].startswith('INSERT INTO "messaging_event"')
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [EVENT_LOG_LOCK]).fetchone()[0]
        other.execute("SELECT pg_advisory_unlock(%s)", [EVENT_LOG_LOCK])
        assert event.pk and latest_event_id(person("mor.emma").pk) == event.pk
    finally:
        other.close()
