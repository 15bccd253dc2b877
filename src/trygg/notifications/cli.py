"""``trygg worker``: the outbox worker as its own process, for deployments with several servers."""

from __future__ import annotations

import argparse
import time
from typing import Any


def cmd_worker(args: argparse.Namespace) -> int:
    from trygg.notifications.worker import _load_job_modules, run_due_jobs

    _load_job_modules()
    last_run: dict[str, float] = {}
    print("Trygg worker running; stop with Ctrl-C.", flush=True)
    try:
        while True:
            run_due_jobs(last_run)
            if args.once:
                return 0
            time.sleep(args.poll)
    except KeyboardInterrupt:
        return 0


def register(subparsers: Any) -> None:
    worker = subparsers.add_parser("worker", help="run the outbox worker (notices, digests, reminders)")
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between rounds")
    worker.add_argument("--once", action="store_true", help="run every job once and exit")
    worker.set_defaults(func=cmd_worker)
