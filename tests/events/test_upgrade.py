"""An existing database upgrades in place: the event log's tables change owner, no row moves."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from trygg.directory.models import Person
from trygg.events.log import emit_event, events_after, latest_event_id
from trygg.events.models import Event, EventRecipient, StreamHead

# Where main stood before the move: the log's models still messaging's, no events app.
BEFORE_THE_MOVE = [("messaging", "0004_drop_duplicate_indexes"), ("events", None)]


def _migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_a_database_made_before_the_move_keeps_its_events_and_goes_on(demo) -> None:
    """Rows written while the log belonged to messaging are read by the events app after migrating,
    and the next event continues every stream after them."""
    mor = Person.objects.get(username="mor.sara")
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate(BEFORE_THE_MOVE)
    try:
        executor = MigrationExecutor(connection)
        applied = executor.loader.applied_migrations
        assert ("messaging", "0004_drop_duplicate_indexes") in applied
        assert ("events", "0001_initial") not in applied
        assert ("messaging", "0005_event_log_moves_to_events") not in applied
        with connection.cursor() as cursor:
            # What the old code wrote, in the old tables (their names never change).
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM messaging_event")
            old_id = cursor.fetchone()[0] + 1000
            cursor.execute("INSERT INTO messaging_event (id, type, payload, created_at) "
                           "VALUES (%s, %s, %s, CURRENT_TIMESTAMP)", [old_id, "test.before", '{"n": 1}'])
            cursor.execute("INSERT INTO messaging_eventrecipient (event_id, person_id) VALUES (%s, %s)",
                           [old_id, mor.pk])
            cursor.execute("DELETE FROM messaging_streamhead WHERE person_id = %s", [mor.pk])
            cursor.execute("INSERT INTO messaging_streamhead (person_id, last_event_id) VALUES (%s, %s)",
                           [mor.pk, old_id])
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence('messaging_event', 'id'), %s)", [old_id])
    finally:
        _migrate(leaves)
    assert Event.objects.get(pk=old_id).type == "test.before"
    assert EventRecipient.objects.filter(event_id=old_id, person=mor).exists()
    assert StreamHead.objects.get(person=mor).last_event_id == old_id
    assert latest_event_id(mor.pk) == old_id
    new = emit_event("test.after", [mor.pk], {"n": 2})
    frames = events_after(mor.pk, old_id - 1)
    assert [f["id"] for f in frames] == [old_id, new.pk]
    assert frames[1]["prev"] == old_id
