"""The outbox worker: claims due rows (notices, digests, reminders) and delivers them.

In the embedded demo it runs as a thread beside the server; at scale, as ``trygg worker``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# (name, function, interval seconds); apps register their periodic jobs at import time.
_JOBS: list[tuple[str, Callable[[], int], float]] = []


def register_job(name: str, fn: Callable[[], int], every_seconds: float) -> None:
    """Run ``fn`` every ``every_seconds``; it returns how many items it handled."""
    if any(existing == name for existing, _fn, _every in _JOBS):
        return
    _JOBS.append((name, fn, every_seconds))


def run_due_jobs(last_run: dict[str, float]) -> int:
    handled = 0
    now = time.monotonic()
    for name, fn, every in list(_JOBS):
        if now - last_run.get(name, 0.0) < every:
            continue
        last_run[name] = now
        try:
            handled += fn()
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            log.exception("periodic job %s failed", name)
    return handled


def start_background_worker(poll_seconds: float = 1.0) -> threading.Thread:
    """Start the worker loop in a daemon thread (embedded mode)."""
    import django

    django.setup()
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

    for app in ("notifications", "cases", "messaging", "meetings"):
        try:
            importlib.import_module(f"trygg.{app}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name != f"trygg.{app}.jobs":
                raise
