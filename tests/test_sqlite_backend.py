"""The SQLite backend: writers never checkpoint in their commit; a thread of the process does.

These run against a database file of their own (the suite's SQLite database is in memory), on
every CI leg: the embedded default is SQLite whatever else a deployment uses.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from trygg.sqlite import base


@pytest.fixture
def file_db(tmp_path: Path, django_db_blocker: Any) -> Iterator[tuple[Any, Path]]:
    path = tmp_path / "trygg.sqlite3"
    handler = ConnectionHandler({
        "default": {
            "ENGINE": "trygg.sqlite",
            "NAME": str(path),
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                        "transaction_mode": "IMMEDIATE"},
        }
    })
    conn = handler["default"]
    # A database of the test's own, not the suite's: pytest-django's guard does not concern it.
    with django_db_blocker.unblock():
        yield conn, path
        conn.close()


def write_pages(conn: Any, rows: int) -> None:
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
        for _ in range(rows // 100):
            conn.set_autocommit(False)
            # About a page a row, whatever the page size.
            body = "x" * (base.PAGE_SIZE_BYTES * 3 // 4)
            cursor.executemany("INSERT INTO t (body) VALUES (%s)", [(body,) for _ in range(100)])
            conn.commit()
            conn.set_autocommit(True)


def wal_frames(path: Path) -> int:
    """Return how many frames the WAL holds since it last started over (a checkpoint of its own
    is how SQLite tells; run it only where that changes nothing the test looks at)."""
    other = sqlite3.connect(path)
    try:
        return int(other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        other.close()


def test_a_commit_never_checkpoints_the_wal(file_db, monkeypatch) -> None:
    """Past SQLite's 1000-page mark the WAL keeps growing: no request's commit pays for a checkpoint."""
    monkeypatch.setattr(base, "CHECKPOINT_SECONDS", 3600.0)  # keep the process's thread asleep
    conn, path = file_db
    write_pages(conn, 1500)  # about 1500 pages
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 0
    # With SQLite's default, the commit past 1000 pages checkpoints and the WAL starts over.
    assert wal_frames(path) > 1400


def test_the_checkpoint_copies_everything_so_the_wal_starts_over(file_db, monkeypatch) -> None:
    monkeypatch.setattr(base, "CHECKPOINT_SECONDS", 3600.0)
    conn, path = file_db
    write_pages(conn, 1500)
    keeper = base._keepers[str(path)]
    busy, log, copied = base.checkpoint_fully(keeper, base._write_locks[str(path)])
    assert busy == 0 and log > 1000 and copied == log
    write_pages(conn, 100)  # the next writer starts the WAL from its first frame
    assert wal_frames(path) < 200


def test_the_process_thread_checkpoints_on_its_own(file_db, monkeypatch) -> None:
    """The thread started with the first connection copies the whole WAL back without being asked."""
    done: list[tuple[int, int, int]] = []
    original = base.checkpoint

    def watched(keeper: sqlite3.Connection) -> tuple[int, int, int]:
        result = original(keeper)
        done.append(result)
        return result

    monkeypatch.setattr(base, "checkpoint", watched)
    monkeypatch.setattr(base, "CHECKPOINT_SECONDS", 0.05)
    conn, path = file_db
    write_pages(conn, 1500)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(log > 1000 and copied == log for _b, log, copied in done):
        time.sleep(0.05)
    assert any(busy == 0 and log > 1000 and copied == log for busy, log, copied in done), done


def test_a_statement_is_converted_to_sqlite_s_placeholders_once(file_db) -> None:
    """Issue 15: the ``%s`` -> ``?`` rewriting of a statement runs once, not on every execution,
    and gives what Django's gives: literal ``%%`` as ``%``, and named parameters as before."""
    conn, _path = file_db
    statement = "SELECT '100%%', %s, %s || 'x'"
    base._qmark.cache_clear()
    with conn.cursor() as cursor:
        assert isinstance(cursor.cursor, base.CursorWrapper)
        for n in range(3):
            cursor.execute(statement, [n, "y"])
            assert cursor.fetchone() == ("100%", n, "yx")
        cursor.execute("SELECT %(a)s + %(b)s", {"a": 2, "b": 3})
        assert cursor.fetchone() == (5,)
        cursor.execute("CREATE TEMP TABLE seen (n)")
        cursor.executemany("INSERT INTO seen VALUES (%s)", [[1], [2]])
        cursor.execute("SELECT SUM(n) FROM seen WHERE n > %s", [0])
        assert cursor.fetchone() == (3,)
    info = base._qmark.cache_info()
    assert (info.misses, info.hits) == (3, 2)


def test_issue_15_a_new_database_file_gets_small_pages_and_an_old_one_keeps_its_own(file_db, tmp_path) -> None:
    """A new file gets 1 KiB pages (a message's stream rows dirty a page per recipient, and a commit
    writes each whole); the settings' ``journal_mode=WAL`` runs after, so the size holds. A file made
    with SQLite's 4 KiB pages opens as it is, in WAL mode, and keeps them."""
    conn, path = file_db
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        cursor.execute("PRAGMA page_size")
        assert cursor.fetchone()[0] == base.PAGE_SIZE_BYTES == 1024
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    old = tmp_path / "old.sqlite3"
    made = sqlite3.connect(old)
    made.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    made.execute("INSERT INTO t VALUES (1)")
    made.commit()
    made.close()
    handler = ConnectionHandler({"default": {
        "ENGINE": "trygg.sqlite", "NAME": str(old),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}}})
    reopened = handler["default"]
    try:
        with reopened.cursor() as cursor:
            cursor.execute("PRAGMA page_size")
            assert cursor.fetchone()[0] == 4096
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("SELECT id FROM t")
            assert cursor.fetchall() == [(1,)]
    finally:
        reopened.close()


def test_issue_15_an_sqlite_library_without_returning_upserts_is_refused_with_its_version(file_db, monkeypatch) -> None:
    """The event log's append needs ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite
    3.35): an older library is named when the connection opens, not met as a failing send."""
    from django.db import NotSupportedError

    conn, _path = file_db
    assert conn.features.minimum_database_version == (3, 35)
    conn.check_database_version_supported()  # this machine's library
    monkeypatch.setattr(conn, "get_database_version", lambda: (3, 34, 1))
    with pytest.raises(NotSupportedError, match=r"SQLite 3\.35 or later is required \(found 3\.34\.1\)"):
        conn.check_database_version_supported()
