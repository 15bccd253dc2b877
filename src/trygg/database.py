"""Preparing the database before anything runs (the data directory, every migration applied), telling
a dependency that is down from a bug, checking kept connections between requests, and reading model
rows without the ORM on the hottest paths."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any


def prepare_database(verbosity: int = 0) -> None:
    """Create the data directory and the database if absent, and migrate it."""
    from django.conf import settings
    from django.core.management import call_command

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "media").mkdir(exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)


def dependency_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions that mean a dependency (the database, Redis) cannot be reached.

    They are answered with 503 and ``Retry-After`` (``trygg.api_errors``), and close sockets with
    1012, so that a client tries again instead of reporting a bug.
    """
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # ConnectionError (builtin) covers a refused socket below redis-py's own wrapping.
    return (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, ConnectionError)


def is_unavailable(exc: BaseException) -> bool:
    """Return whether ``exc`` means a dependency is down rather than a bug.

    SQLite's "database is locked" is an OperationalError too, but a busy database is down for the
    caller all the same: try again shortly.
    """
    return isinstance(exc, dependency_errors())


# A kept connection that served a request without error this recently is not health-checked again
# when the next request starts (see ``request_begins``).
HEALTH_CHECK_IDLE_SECONDS = 1.0


def request_begins() -> None:
    """Drop this thread's broken or expired connections as a request starts, as Django's
    ``close_old_connections`` does, but skip the health check of one that ended a request without
    error less than ``HEALTH_CHECK_IDLE_SECONDS`` ago.

    With ``CONN_HEALTH_CHECKS`` Django makes a ``SELECT 1`` round trip before every request's first
    query: on PostgreSQL + Redis it was 5–11 % of the server's samples (py-spy, the peer bench's
    phase a2 and the school morning), one round trip more per send. What the check guards against,
    a connection the server dropped while it sat idle (a restart, an idle timeout), needs that idle
    time; a connection that worked a moment ago is checked by its query failing, which Django notes
    (``errors_occurred``), answers 503 and closes at the request's end (``request_ends``).
    """
    from django.db import close_old_connections, connections

    close_old_connections()
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        fine_at = getattr(conn, "trygg_fine_at", None)
        if conn.connection is not None and fine_at is not None and now - fine_at < HEALTH_CHECK_IDLE_SECONDS:
            conn.health_check_done = True


def request_ends() -> None:
    """Drop this thread's broken or expired connections as a request ends (``close_old_connections``),
    and note when each one left finished a request without error (``request_begins``)."""
    from django.db import close_old_connections, connections

    close_old_connections()
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred:
            conn.trygg_fine_at = now


def among(ids: Sequence[int], per_statement: int) -> Iterator[tuple[str, list[Any], Sequence[int]]]:
    """Yield ``(condition, params, chunk)``: a condition to follow a column in a ``WHERE`` that holds
    for exactly these ids, in as few statements as the database allows, with the ids it covers.

    On PostgreSQL, one condition for all of them, ``= ANY(%s::bigint[])`` with the ids as one array:
    psycopg binds values on the client, and a statement of more than 50 values was parsed anew and
    each value quoted on every call (a tenth of a send's CPU, py-spy on
    ``bench/bench_messaging.py``). On SQLite, ``IN (%s, ...)`` for each ``per_statement`` ids: a
    statement binds at most 999 values in older builds, so a caller that binds the ids three times
    asks for chunks of 300. No ids, nothing yielded.
    """
    from django.db import connection

    if not ids:
        return
    if connection.vendor == "postgresql":
        yield "= ANY(%s::bigint[])", [list(ids)], ids
        return
    for start in range(0, len(ids), per_statement):
        chunk = ids[start:start + per_statement]
        yield f"IN ({', '.join(['%s'] * len(chunk))})", list(chunk), chunk


class RowReader:
    """Model instances from a hand-written SELECT: what ``QuerySet`` does on the hottest reads,
    without building the query each time.

    Replaces the ORM on the few reads every message send makes (the bearer token with its person,
    the conversation): Django compiles a query's SQL anew on every call, and for these one-row
    reads compiling cost ten times running it. Measured in one process on SQLite: the token lookup
    took 1,038 µs through the ORM, 358 µs through two ``raw()`` queries, and 21 µs of that is the
    database (``bench/bench_messaging.py``, CPU per message). Values go through the same converters
    the ORM applies (aware datetimes, booleans, JSON), so an instance is the one ``QuerySet`` gives.

    ``columns(alias)`` lists a model's columns for the SELECT; ``read(row, start)`` makes the
    instance from ``row[start:]`` and returns it with where the next model's columns begin (an
    all-NULL part of a LEFT JOIN gives None).
    """

    def __init__(self, model: Any) -> None:
        # Only the model here: a reader is made when its module loads, before Django's app
        # registry is ready to list a model's fields.
        self.model = model
        self._converters: dict[str, list[tuple[int, list[Any], Any]]] = {}
        self._columns: dict[tuple[str, str], str] = {}

    @cached_property
    def fields(self) -> list[Any]:
        return list(self.model._meta.concrete_fields)

    @cached_property
    def attnames(self) -> list[str]:
        return [f.attname for f in self.fields]

    def columns(self, alias: str) -> str:
        from django.db import connection

        found = self._columns.get((connection.vendor, alias))
        if found is None:
            quote = connection.ops.quote_name
            found = self._columns[(connection.vendor, alias)] = ", ".join(
                f"{alias}.{quote(f.column)}" for f in self.fields)
        return found

    def read(self, row: Sequence[Any], start: int = 0) -> tuple[Any, int]:
        from django.db import DEFAULT_DB_ALIAS, connections

        # The thread's connection itself: through the ``connection`` proxy every converter's use
        # of it was a thread-local lookup (a sixth of a read).
        connection = connections[DEFAULT_DB_ALIAS]
        end = start + len(self.fields)
        values = list(row[start:end])
        if values[0] is None:  # the primary key: nothing joined
            return None, end
        for index, converters, expression in self._converters_for(connection):
            value = values[index]
            for convert in converters:
                value = convert(value, expression, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.attnames, values), end

    def _converters_for(self, connection: Any) -> list[tuple[int, list[Any], Any]]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                expression = field.get_col(self.model._meta.db_table)
                converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if converters:
                    found.append((index, converters, expression))
            self._converters[connection.vendor] = found
        return found


_insert_sql: dict[tuple[Any, str, str | None, bool], tuple[str, list[Any]]] = {}


def _insert_sql_for(model: Any, connection: Any, first: str | None, returning: bool) -> tuple[str, list[Any]]:
    key = (model, connection.vendor, first, returning)
    found = _insert_sql.get(key)
    if found is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        rows = f"SELECT {marks} FROM ({first}) AS first" if first else f"VALUES ({marks})"  # noqa: S608 - the caller's constant SQL
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) {rows}"  # noqa: S608 - names only
        if returning:
            sql += f" RETURNING {quote(meta.pk.column)}"
        found = _insert_sql[key] = (sql, fields)
    return found


def _insert_values(instance: Any, fields: list[Any], connection: Any) -> list[Any]:
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def insert_row(instance: Any) -> None:
    """Insert a new model instance in one hand-written statement and set its primary key.

    What ``instance.save()`` does for a new row of a model with an automatic primary key and no
    save signals, without building the statement each time (``RowReader`` says why): used for the
    rows every message send writes (the message, its event on SQLite; its audit record goes through
    ``insert_statement``). Values are prepared by each field as the ORM prepares them
    (``pre_save``, ``get_db_prep_save``).
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connections[DEFAULT_DB_ALIAS]
    sql, values = insert_statement(instance, returning=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        mark_saved(instance, cursor.fetchone()[0])


def mark_saved(instance: Any, pk: Any) -> None:
    """Give a model instance the key its hand-written insert returned, and mark it saved to the
    default database, as ``save()`` would (``insert_row``, and the event log's own statement)."""
    from django.db import DEFAULT_DB_ALIAS

    instance.pk = pk
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS


def insert_statement(instance: Any, *, first: tuple[str, Sequence[Any]] | None = None,
                     returning: bool = False) -> tuple[str, list[Any]]:
    """The statement (SQL and parameters) that inserts a new model instance, for a caller that runs
    it in a statement of its own making: the event log runs an action's last writes with its
    stream's rows, and on PostgreSQL the event's own insert too, in one round trip
    (``trygg.events.log``). The instance is not marked saved.

    ``first``: a ``SELECT`` (SQL and parameters) the database runs before it makes the row, in the
    same statement (``INSERT ... SELECT ... FROM (first)``): the event log takes its lock so, before
    the row gets its id. ``returning``: the statement gives the new row's primary key.
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_sql_for(type(instance), connection, first[0] if first else None, returning)
    values = _insert_values(instance, fields, connection)
    if first:
        values += list(first[1])
    return sql, values
