"""Django's SQLite backend, with the writers of one process queued on a lock of their own.

Under ASGI every request runs its database work in a thread of its own, so concurrent sends are
concurrent SQLite writers. SQLite lets one write at a time and makes the others wait in its busy
handler, which sleeps in steps of several milliseconds: a class channel under load spent most of
its time asleep there, with the CPU idle (``bench/bench_messaging.py``). Queuing writers on a
Python lock before ``BEGIN IMMEDIATE`` hands the database over the moment the previous writer
commits. Other processes still queue on SQLite's own busy timeout.

Two more things settings cannot express, both measured on the send path:

* When the last connection to a WAL database closes, SQLite checkpoints and syncs the file.
  Django closes its connection after each request, so one idle connection per process is kept
  open to the database file.
* Connections to an in-memory database (the test suite) are left as Django makes them.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

# A writer that waits longer than SQLite's own busy timeout would have failed anyway; after it,
# go on without the lock and let SQLite decide, rather than wait forever on a stuck thread.
LOCK_TIMEOUT_SECONDS = 20.0

_write_locks: dict[str, threading.Lock] = {}
_keepers: dict[str, sqlite3.Connection] = {}
_registry_lock = threading.Lock()


def _shared_for(name: str) -> threading.Lock:
    with _registry_lock:
        lock = _write_locks.get(name)
        if lock is None:
            lock = _write_locks[name] = threading.Lock()
            _keepers[name] = sqlite3.connect(name, check_same_thread=False)
        return lock


class DatabaseWrapper(base.DatabaseWrapper):
    _held: threading.Lock | None = None

    def _write_lock(self) -> threading.Lock | None:
        if self.is_in_memory_db():
            return None
        return _shared_for(str(self.settings_dict["NAME"]))

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
