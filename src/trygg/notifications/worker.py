"""The outbox worker: claims due rows (notices, digests, reminders) and delivers them.

It runs as a thread beside ``trygg serve`` (once, in the main process, whatever ``--workers``
says) and as ``trygg worker`` processes; any number of them may run against one database. Each
periodic job has a row (``JobRun``) that a runner claims with a conditional update before running
it, so a job runs once per period, by one runner; the outbox rows a job handles are claimed the
same way (``UPDATE ... WHERE processed IS NULL``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from trygg import setup_django_once

log = logging.getLogger(__name__)

# (name, function, interval seconds); apps register their periodic jobs at import time.
_JOBS: list[tuple[str, Callable[[], int], float]] = []


def register_job(name: str, fn: Callable[[], int], every_seconds: float) -> None:
    """Run ``fn`` every ``every_seconds``; it returns how many items it handled."""
    if any(existing == name for existing, _fn, _every in _JOBS):
        return
    _JOBS.append((name, fn, every_seconds))


RUNNER = f"{socket.gethostname()}:{os.getpid()}"


def claim_job(name: str, every_seconds: float, runner: str = RUNNER) -> bool:
    """Return whether this runner won the job ``name`` for its current period (and move it on)."""
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from trygg.notifications.models import JobRun

    now = timezone.now()
    won = JobRun.objects.filter(name=name, next_at__lte=now).update(
        next_at=now + timedelta(seconds=every_seconds), claimed_by=runner[:100], claimed_at=now)
    if won:
        return True
    if JobRun.objects.filter(name=name).exists():
        return False
    try:
        with transaction.atomic():
            JobRun.objects.create(name=name, next_at=now + timedelta(seconds=every_seconds),
                                  claimed_by=runner[:100], claimed_at=now)
        return True
    except IntegrityError:
        return False  # another runner created it first, and runs it


def run_due_jobs(last_run: dict[str, float], runner: str = RUNNER) -> int:
    handled = 0
    now = time.monotonic()
    for name, fn, every in list(_JOBS):
        # The local clock saves a database round trip per job and second; the claim decides.
        if now - last_run.get(name, 0.0) < min(every, 5.0):
            continue
        last_run[name] = now
        try:
            if not claim_job(name, every, runner):
                continue
            handled += fn()
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            log.exception("periodic job %s failed", name)
    return handled


def start_background_worker(poll_seconds: float = 1.0) -> threading.Thread:
    """Start the worker loop in a daemon thread (embedded mode)."""
    setup_django_once()
    _load_job_modules()

    def loop() -> None:
        last_run: dict[str, float] = {}
        while True:
            run_due_jobs(last_run)
            time.sleep(poll_seconds)

    thread = threading.Thread(target=loop, name="trygg-worker", daemon=True)
    thread.start()
    return thread


def _load_job_modules() -> None:
    import importlib

    for app in ("notifications", "cases", "messaging", "meetings", "safety"):
        try:
            importlib.import_module(f"trygg.{app}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name != f"trygg.{app}.jobs":
                raise
