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


def cmd_calendar(args: argparse.Namespace) -> int:
    from datetime import date

    from trygg.directory.models import Municipality
    from trygg.notifications.calendar import days_off, import_days_off

    municipality = Municipality.objects.filter(pk=args.municipality).first()
    if municipality is None:
        print(f"No municipality with id {args.municipality}.")
        return 2
    if args.calendar_command == "import":
        with open(args.file, encoding="utf-8") as f:
            try:
                added = import_days_off(municipality, f.read())
            except ValueError as exc:
                print(f"Not imported: {exc}")
                return 1
        print(f"{added} day(s) off added to the school calendar of {municipality.name}.")
        return 0
    year = args.year or date.today().year
    for day, name in days_off(municipality, date(year, 1, 1), date(year, 12, 31)).items():
        print(f"{day.isoformat()}  {name}")
    return 0


def register(subparsers: Any) -> None:
    calendar = subparsers.add_parser("calendar", help="the school calendar: days without school per municipality")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    imp = calendar_sub.add_parser("import", help="import days off: CSV lines first date,last date,name")
    imp.add_argument("--municipality", type=int, required=True)
    imp.add_argument("file")
    imp.set_defaults(func=cmd_calendar)
    show = calendar_sub.add_parser("show", help="list a year's public holidays and imported days off")
    show.add_argument("--municipality", type=int, required=True)
    show.add_argument("--year", type=int, default=None)
    show.set_defaults(func=cmd_calendar)

    worker = subparsers.add_parser("worker", help="run the outbox worker (notices, digests, reminders)")
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between rounds")
    worker.add_argument("--once", action="store_true", help="run every job once and exit")
    worker.set_defaults(func=cmd_worker)
