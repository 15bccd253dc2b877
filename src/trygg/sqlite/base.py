"""Django's SQLite backend, with the writers of one process queued on a lock of their own.

Several threads of one process write: the one shared thread that runs every sync view and every
socket's database work (``trygg.asgi``), the notice worker's thread, and the checkpointing thread
below. SQLite lets one write at a time and makes the others wait in its busy handler, which sleeps
in steps of several milliseconds: a class channel under load spent most of its time asleep there,
with the CPU idle (``bench/bench_messaging.py``). Queuing this process's writers on a Python lock
before ``BEGIN IMMEDIATE`` hands the database over the moment the previous writer commits, and lets
the checkpoint hold them back for a moment (below). Other processes still queue on SQLite's own
busy timeout.

What settings cannot express, each measured on the send path:

* When the last connection to a WAL database closes, SQLite checkpoints and syncs the file.
  Django closes its connection after each request, so one idle connection per process is kept
  open to the database file.
* SQLite checkpoints from inside whichever commit takes the WAL past 1000 pages: copying the WAL
  back and syncing both files put 4-5 ms on every twentieth or so message send, and that was the
  99th percentile. Django's connections here never checkpoint (``wal_autocheckpoint=0``); a thread
  of each process does, every ``CHECKPOINT_SECONDS`` (0.5 s), with the kept connection: first a
  PASSIVE checkpoint beside the writers, then the few frames they added meanwhile with this
  process's writers held back, so the WAL can start over (``checkpoint_fully``).
* A new database file gets pages of ``PAGE_SIZE_BYTES`` (1 KiB) instead of SQLite's 4 KiB. Every
  message adds a row to the stream of each recipient, and each of those rows lands in a leaf page
  of its own of the (person, event) index, so a commit to a class of 30 writes some 30 pages to the
  WAL, and the checkpoint copies them again: a quarter of the bytes for the same rows.
  ``bench/bench_phases.py`` (SQLite, two runs each) gave 610 / 613 messages a second in phase a1
  with 4 KiB pages, 705 / 709 with 1 KiB and 616 / 654 with 2 KiB; server CPU per message in
  phase b over ``/ws/events`` went from 2.0-2.1 ms to 1.8-1.9 ms. The size is fixed once the file
  exists: an older database keeps its pages until ``VACUUM`` rewrites it (``docs/scaling.md``).
* Connections to an in-memory database (the test suite) are left as Django makes them.

And one that is only speed: Django's cursor turns each statement's ``%s`` into SQLite's ``?`` with a
regular expression, every time it runs (``SQLiteCursorWrapper.convert_query``). A send runs about
twenty statements, the same ones each time, and that rewriting was 4-5 % of the server's CPU under
phase a1 of ``bench/bench_phases.py`` (py-spy, ``--gil``). ``CursorWrapper`` keeps the rewritten
text of the last ``CONVERTED_KEPT`` statements.

The lock is taken in ``_start_transaction_under_autocommit`` and released in ``_commit``,
``_rollback`` and ``_close``: private methods of Django's backend, checked by
``tests/test_library_contracts.py`` against the pinned Django.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base, features

# A writer that waits longer than SQLite's own busy timeout would have failed anyway; after it,
# go on without the lock and let SQLite decide, rather than wait forever on a stuck thread.
LOCK_TIMEOUT_SECONDS = 20.0
CHECKPOINT_SECONDS = 0.5
PAGE_SIZE_BYTES = 1024
# A WAL that a burst made long is cut back to this when SQLite starts it over.
WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024

# Statements whose text varies with a list's length (``IN (%s, %s)``) come in a few shapes each.
CONVERTED_KEPT = 2048

log = logging.getLogger(__name__)

_write_locks: dict[str, threading.Lock] = {}
_keepers: dict[str, sqlite3.Connection] = {}
_registry_lock = threading.Lock()


def _shared_for(name: str) -> threading.Lock:
    with _registry_lock:
        lock = _write_locks.get(name)
        if lock is None:
            lock = _write_locks[name] = threading.Lock()
            keeper = _keepers[name] = sqlite3.connect(name, check_same_thread=False)
            threading.Thread(target=_checkpoint_forever, args=(keeper, lock), name="trygg-sqlite-checkpoint",
                             daemon=True).start()
        return lock


def checkpoint(keeper: sqlite3.Connection) -> tuple[int, int, int]:
    """Copy what the WAL holds into the database without waiting on anyone; return SQLite's
    (busy, frames in the WAL, frames copied)."""
    row = keeper.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _checkpoint_forever(keeper: sqlite3.Connection, write_lock: threading.Lock) -> None:
    while True:
        time.sleep(CHECKPOINT_SECONDS)
        try:
            checkpoint_fully(keeper, write_lock)
        except sqlite3.Error as exc:  # busy or locked: the next round catches up
            log.debug("WAL checkpoint skipped: %s", exc)


def checkpoint_fully(keeper: sqlite3.Connection, write_lock: threading.Lock) -> tuple[int, int, int]:
    """Checkpoint the bulk of the WAL beside the writers, then the few frames they added meanwhile
    with this process's writers held back for that moment.

    SQLite starts the WAL over only once a checkpoint has copied all of it; beside a steady stream
    of writes a checkpoint that never waits never gets there, and the WAL would grow without end.
    """
    checkpoint(keeper)
    if not write_lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
        return checkpoint(keeper)
    try:
        return checkpoint(keeper)
    finally:
        write_lock.release()


@functools.lru_cache(maxsize=CONVERTED_KEPT)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class CursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, converting each ``format``-style statement once (the module docstring)."""

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseFeatures(features.DatabaseFeatures):
    # The event log moves each recipient's stream head and reads its old value back in one
    # statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, trygg.events.log): SQLite
    # 3.35 or later, where Django alone asks for 3.31. An older library is refused when the first
    # connection opens, with the version found, instead of failing every send.
    minimum_database_version = (3, 35)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    _held: threading.Lock | None = None

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=CursorWrapper)

    def _write_lock(self) -> threading.Lock | None:
        if self.is_in_memory_db():
            return None
        return _shared_for(str(self.settings_dict["NAME"]))

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if not self.is_in_memory_db():
            # Before the settings' own commands: ``journal_mode=WAL`` writes a new file's header,
            # and with it the page size for good.
            self.init_commands.insert(0, f"PRAGMA page_size={PAGE_SIZE_BYTES}")
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            _shared_for(str(self.settings_dict["NAME"]))  # the checkpointing thread runs from now on
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        return conn

    def _start_transaction_under_autocommit(self) -> None:
        lock = self._write_lock()
        acquired = lock is not None and lock.acquire(timeout=LOCK_TIMEOUT_SECONDS)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            if acquired:
                lock.release()
            raise
        if acquired:
            self._held = lock

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._release()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._release()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._release()
