"""``trygg import-roster DIR``: import a OneRoster 1.1 or 1.2 CSV roster (bulk or delta) into the directory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: Any) -> None:
    importer = subparsers.add_parser(
        "import-roster",
        help="import a OneRoster 1.1 or 1.2 CSV roster, bulk or delta (orgs, users, classes, enrollments, "
             "roles, manifest); safe to re-run",
    )
    importer.add_argument("directory", type=Path, help="the folder holding orgs.csv, users.csv, classes.csv, "
                                                        "enrollments.csv (1.2: roles.csv) and optionally manifest.csv")
    importer.add_argument("--country", default="NO", choices=["NO", "DK"],
                          help="country of municipalities the roster creates (default NO)")
    importer.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    importer.set_defaults(func=cmd_import_roster)


class ProgressBar:
    """A one-line bar redrawn in place; drawn only on a terminal, so logs and pipes stay clean."""

    def __init__(self, stream: TextIO, width: int = 30, interval: float = 0.1) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self.last = 0.0
        self.drawn = False

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.interval:
            return
        self.last = now
        filled = self.width * done // total if total else self.width
        percent = 100 * done // total if total else 100
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {percent:3d}% {done}/{total} {label:<16}")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def format_report(report: Any) -> str:
    """Return the created/updated/unchanged/skipped/removed counts as an aligned table."""
    columns = ("created", "updated", "unchanged", "skipped", "removed")
    width = max(len(kind) for kind in report.counts)
    lines = [" " * width + "  " + "  ".join(f"{c:>9}" for c in columns)]
    for kind, tally in report.counts.items():
        lines.append(kind.ljust(width) + "  " + "  ".join(f"{getattr(tally, c):>9}" for c in columns))
    return "\n".join(lines)


def format_warnings(warnings: list[Any], limit: int = 200) -> str:
    """Return the import's warnings, one a line, after a count; a long list ends with how many more."""
    if not warnings:
        return "No warnings."
    lines = [f"Warnings ({len(warnings)}):"] + [f"  {w}" for w in warnings[:limit]]
    if len(warnings) > limit:
        lines.append(f"  ... and {len(warnings) - limit} more")
    return "\n".join(lines)


def cmd_import_roster(args: argparse.Namespace) -> int:
    from trygg.database import prepare_database
    from trygg.directory.roster import RosterError, check_import_roster

    prepare_database()
    bar = ProgressBar(sys.stdout) if sys.stdout.isatty() and not args.no_progress else None
    try:
        report = check_import_roster(args.directory, progress=bar, country=args.country)
    except RosterError as exc:
        if bar:
            bar.finish()
        print(f"error: {exc.message}", file=sys.stderr)
        print("Nothing was imported.", file=sys.stderr)
        return 2
    if bar:
        bar.finish()
    print(format_report(report))
    print(format_warnings(report.warnings))
    print(f"Imported {args.directory}: {report.total('created')} created, {report.total('updated')} updated, "
          f"{report.total('skipped')} skipped, {report.total('removed')} removed.")
    return 0
