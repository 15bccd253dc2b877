"""The hand-written reads and inserts of the send path (``trygg.database``) give what the ORM gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from trygg import database
from trygg.database import RowReader, among, insert_row, insert_statement
from trygg.directory.models import ApiToken, Person
from trygg.errors import NotFoundOrHidden


def _fields(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_token_read_by_hand_equals_the_orm_s(demo) -> None:
    """Issue 15: ``ApiToken.find`` reads the token and its person in one hand-written statement;
    every field (aware datetimes, booleans) equals what the ORM loads."""
    ola = Person.objects.get(username="ola.9b")
    token, raw = ApiToken.issue(ola, strong=True, label="phone")
    found = ApiToken.find(raw)
    assert found is not None and found.pk == token.pk
    assert _fields(found) == _fields(ApiToken.objects.get(pk=token.pk))
    assert _fields(found.person) == _fields(Person.objects.get(pk=ola.pk))
    assert timezone.is_aware(found.expires_at) and found.person.is_active is True


@pytest.mark.parametrize("why", ["expired", "inactive", "password_changed", "unknown"])
def test_a_dead_token_finds_nobody(demo, why: str) -> None:
    """R-PRIV-01: the hand-written lookup keeps every condition of the ORM's."""
    ola = Person.objects.get(username="ola.9b")
    token, raw = ApiToken.issue(ola)
    if why == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif why == "inactive":
        Person.objects.filter(pk=ola.pk).update(is_active=False)
    elif why == "password_changed":
        Person.objects.filter(pk=ola.pk).update(credential_stamp="changed")
    else:
        raw = raw[:-2] + "xx"
    assert ApiToken.find(raw) is None


def test_an_inserted_row_equals_the_orm_s(demo) -> None:
    """Issue 15: ``insert_row`` writes what ``save()`` writes, JSON included, and sets the key."""
    from trygg.audit.models import AuditRecord

    record = AuditRecord(actor=Person.objects.get(username="ola.9b"), action="test.insert",
                         detail={"ids": [1, 2], "å": "ø"})
    insert_row(record)
    assert record.pk is not None and not record._state.adding
    assert _fields(AuditRecord.objects.get(pk=record.pk)) == _fields(record)


def test_issue_15_an_insert_statement_run_later_writes_what_save_writes(demo) -> None:
    """``insert_statement`` gives the statement ``insert_row`` runs, without the key back, for a
    caller that runs it in a statement of its own (the event log's ``then``)."""
    from trygg.audit.models import AuditRecord

    record = AuditRecord(actor=Person.objects.get(username="ola.9b"), action="test.statement",
                         detail={"ids": [3], "æ": "å"})
    sql, params = insert_statement(record)
    assert record._state.adding and record.pk is None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    written = AuditRecord.objects.get(action="test.statement")
    record.pk = written.pk
    assert _fields(written) == _fields(record)


def test_a_left_join_without_a_row_reads_as_none(demo) -> None:
    """A conversation without a class reads its class as None, not as an empty instance."""
    from trygg.messaging.actions import check_create_conversation
    from trygg.messaging.queries import access_for_sending

    kari = Person.objects.get(username="kari.4a")
    created = check_create_conversation(kari, "direct", "", ["mor.emma"])
    conversation, ids, _generation, _repeat = access_for_sending(kari, created.conversation.pk)
    assert conversation.school_class is None and conversation.created_by == kari
    assert sorted(ids) == sorted(created.conversation.memberships.values_list("person_id", flat=True))
    with pytest.raises(NotFoundOrHidden):
        access_for_sending(Person.objects.get(username="emma.4a"), created.conversation.pk)
    width = len(Person._meta.concrete_fields)
    assert RowReader(Person).read([None] * width) == (None, width)


@pytest.mark.django_db
def test_issue_15_among_selects_exactly_the_ids_in_as_few_statements_as_the_database_allows() -> None:
    """One array on PostgreSQL, ``IN`` chunks on SQLite; the union of the chunks is the ids given,
    whatever else the table holds, and no ids make no statement."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE among_probe (n integer PRIMARY KEY)")
        cursor.executemany("INSERT INTO among_probe (n) VALUES (%s)", [(n,) for n in range(1, 2_001)])
        wanted = list(range(3, 2_001, 3)) + [5_000]
        parts = list(among(wanted, 250))
        expected = 1 if connection.vendor == "postgresql" else 3
        assert len(parts) == expected
        assert [n for _, _, chunk in parts for n in chunk] == wanted
        found: list[int] = []
        for where, values, _ in parts:
            cursor.execute(f"SELECT n FROM among_probe WHERE n {where}", values)  # noqa: S608 - marks only
            found += [row[0] for row in cursor.fetchall()]
        cursor.execute("DROP TABLE among_probe")
    assert sorted(found) == list(range(3, 2_001, 3))
    assert list(among([], 250)) == []


def _request() -> None:
    """What each request's thread does around the view (``trygg.asgi``, ``trygg.events.api``)."""
    database.request_begins()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        database.request_ends()


@pytest.fixture
def health_checks(monkeypatch) -> list[str]:
    """The health checks the connection makes (Django's own ``is_usable``, counted), on a connection
    kept between requests as the server keeps it (Django's test set-up closes it after each)."""
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 60)
    connections["default"].close()
    checks: list[str] = []
    real = type(connections["default"]).is_usable

    def counted(self: Any) -> bool:
        checks.append(self.alias)
        return real(self)

    monkeypatch.setattr(type(connections["default"]), "is_usable", counted)
    return checks


@pytest.mark.django_db(transaction=True)
def test_issue_15_a_connection_that_just_served_a_request_is_not_checked_again(health_checks, monkeypatch) -> None:
    """Django's ``CONN_HEALTH_CHECKS`` made a ``SELECT 1`` round trip before every request; a kept
    connection that finished a request without error within ``HEALTH_CHECK_IDLE_SECONDS`` is
    trusted instead, and one idle longer is checked as before."""
    _request()
    assert connection.health_check_enabled
    health_checks.clear()
    _request()
    _request()
    assert health_checks == []
    monkeypatch.setattr(database, "HEALTH_CHECK_IDLE_SECONDS", 0.0)
    _request()
    assert health_checks == ["default"]


@pytest.mark.django_db(transaction=True)
def test_issue_15_a_connection_whose_request_failed_is_checked_when_it_ends(health_checks) -> None:
    """An error other than bad data leaves the connection in doubt: Django checks it as the request
    ends, and only a connection found usable is trusted by the next request."""
    _request()
    health_checks.clear()
    connection.errors_occurred = True  # as a failed query leaves it
    database.request_ends()
    assert health_checks == ["default"]
    health_checks.clear()
    _request()
    assert health_checks == []


def _drop_from_the_server_side() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    url = connection.settings_dict
    with psycopg.connect(host=url["HOST"], port=url["PORT"] or 5432, user=url["USER"], dbname=url["NAME"],
                         password=url["PASSWORD"] or None, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_a_connection_dropped_while_idle_is_replaced_before_a_request_uses_it(health_checks) -> None:
    """What the health check is for: PostgreSQL restarted, or ended an idle session. A connection
    idle past ``HEALTH_CHECK_IDLE_SECONDS`` is checked and replaced, and the request succeeds."""
    _request()
    _drop_from_the_server_side()
    connection.trygg_fine_at -= database.HEALTH_CHECK_IDLE_SECONDS + 1
    health_checks.clear()
    _request()
    assert health_checks == ["default"]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_a_connection_dropped_within_the_second_fails_one_request_then_is_replaced(health_checks) -> None:
    """The price of trusting a fresh connection: dropped within the second, it fails the one
    request that finds it out (a dependency error, which the API answers with 503 and
    ``Retry-After``), is closed as that request ends, and the next request has a new one."""
    _request()
    _drop_from_the_server_side()
    with pytest.raises(OperationalError):
        _request()
    assert connection.connection is None
    _request()
