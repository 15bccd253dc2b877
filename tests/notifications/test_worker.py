"""Jobs run in every deployment, once (issue 12 §2): two runners against one database never run one
job twice in a period; `trygg serve --workers N` starts one runner in its main process."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from trygg.notifications import worker
from trygg.notifications.models import JobRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def counted_job():
    runs: list[str] = []
    lock = threading.Lock()

    def job() -> int:
        with lock:
            runs.append(threading.current_thread().name)
        return 1

    worker.register_job("test.counted", job, 3600.0)
    yield runs
    worker._JOBS[:] = [j for j in worker._JOBS if j[0] != "test.counted"]


def test_two_runners_against_one_database_run_a_job_once_per_period(counted_job) -> None:
    """Two runners, each in its own thread with its own database connection, both find the job due
    at the same moment, round after round: it runs exactly once; when its period is over it runs
    once more."""
    barrier = threading.Barrier(2)

    def runner(label: str) -> None:
        try:
            for _ in range(5):
                barrier.wait(timeout=30)
                worker.run_due_jobs({}, runner=label)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(f"runner-{i}",), name=f"runner-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(counted_job) == 1
    JobRun.objects.filter(name="test.counted").update(next_at=timezone.now() - timedelta(seconds=1))
    worker.run_due_jobs({}, runner="runner-0")
    worker.run_due_jobs({}, runner="runner-1")
    assert len(counted_job) == 2
    assert JobRun.objects.get(name="test.counted").next_at > timezone.now() + timedelta(minutes=59)


def test_claim_job_is_won_by_exactly_one_runner() -> None:
    assert worker.claim_job("test.claim", 60, "a") is True
    assert worker.claim_job("test.claim", 60, "b") is False
    assert JobRun.objects.get(name="test.claim").claimed_by == "a"


def test_trygg_serve_with_workers_runs_the_jobs() -> None:
    """Under the README's ``--workers N`` recipe no job ran at all (no notices, no retention, no
    reminders); now ``trygg serve --workers 2`` claims and runs every registered job."""
    import sqlite3
    import time

    import psycopg

    from tests.conftest import LiveDatabase, LiveServer

    worker._load_job_modules()
    expected = {name for name, _fn, _every in worker._JOBS if not name.startswith("test.")}
    database = LiveDatabase("workers")
    server = LiveServer(database.env, workers=2)
    try:
        deadline = time.monotonic() + 30
        claimed: set[str] = set()
        while time.monotonic() < deadline and not expected <= claimed:
            time.sleep(0.5)
            query = "SELECT name FROM notifications_jobrun WHERE claimed_at IS NOT NULL"
            if database.pg_name:
                with psycopg.connect(database.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
                    claimed = {row[0] for row in conn.execute(query)}
            else:
                with sqlite3.connect(database.data_dir / "trygg.sqlite3") as conn:
                    claimed = {row[0] for row in conn.execute(query)}
        assert expected and expected <= claimed, sorted(expected - claimed)
    finally:
        server.stop()
        database.drop()
