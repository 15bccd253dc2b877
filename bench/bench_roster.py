"""Benchmark: a municipality-sized OneRoster import, bulk and then by delta (issue 18).

Generates 50 schools, 20,000 pupils and 35,000 guardians (``tests/directory/roster_generator.py``),
then, each in a fresh process on one fresh SQLite database of its own: the bulk import, a
re-import of the same bulk set (nothing changes), and a delta of 200 new pupils, 500 renamed
guardians, 300 moved and 100 deleted pupils. Prints wall-clock time, CPU time and the process's
peak memory (max RSS) for each. It asserts nothing.

Run: ``.venv/bin/python bench/bench_roster.py`` (``BENCH_PUPILS``, ``BENCH_GUARDIANS``,
``BENCH_SCHOOLS`` scale it down).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.directory.roster_generator import Size, write_bulk, write_delta  # noqa: E402

PHASE = """
import json, resource, sys, time
from datetime import date
from trygg.cli import setup_django
setup_django()
from trygg.database import prepare_database
prepare_database()
from trygg.directory.roster import check_import_roster
before = resource.getrusage(resource.RUSAGE_SELF)
results = []
for directory in sys.argv[1:]:
    start, cpu = time.perf_counter(), time.process_time()
    report = check_import_roster(directory, today=date(2026, 11, 30))
    results.append({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "base_mb": before.ru_maxrss / 1024, "created": report.total("created"),
                    "updated": report.total("updated"), "removed": report.total("removed"),
                    "warnings": len(report.warnings)})
print(json.dumps(results))
"""


def run(env: dict[str, str], *directories: Path) -> list[dict[str, float]]:
    done = subprocess.run([sys.executable, "-c", PHASE, *map(str, directories)], env=env, cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    size = Size(schools=int(os.environ.get("BENCH_SCHOOLS", 50)), pupils=int(os.environ.get("BENCH_PUPILS", 20_000)),
                guardians=int(os.environ.get("BENCH_GUARDIANS", 35_000)))
    with tempfile.TemporaryDirectory(prefix="trygg-bench-roster-") as tmp:
        root = Path(tmp)
        bulk, delta = write_bulk(root / "bulk", size), write_delta(root / "delta", size)
        rows = {d.name: sum(max(len((d / f).read_text().splitlines()) - 1, 0) for f in
                            ("orgs.csv", "users.csv", "classes.csv", "enrollments.csv") if (d / f).exists())
                for d in (bulk, delta)}
        # A database of its own: never the developer's, never a shared PostgreSQL.
        env = {k: v for k, v in os.environ.items() if k not in ("TRYGG_TEST_DB_NAME", "DATABASE_URL", "REDIS_URL")}
        env["TRYGG_DATA_DIR"] = str(root / "data")
        print(f"roster: {size.schools} schools, {size.pupils} pupils, {size.guardians} guardians; "
              f"bulk {rows['bulk']} rows, delta {rows['delta']} rows; database "
              "SQLite", flush=True)
        (first,), (again,), (changes,) = run(env, bulk), run(env, bulk), run(env, delta)
        print(f"{'phase':22s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s} {'created':>8s} {'updated':>8s} "
              f"{'removed':>8s} {'warnings':>8s}")
        for name, result in (("bulk import", first), ("bulk re-import", again), ("delta import", changes)):
            print(f"{name:22s} {result['seconds']:8.1f} {result['cpu']:8.1f} {result['peak_mb']:8.0f} "
                  f"{result['created']:8d} {result['updated']:8d} {result['removed']:8d} {result['warnings']:8d}")
        print(f"(each phase in its own process; peak is its max RSS, {first['base_mb']:.0f} MB before importing)")


if __name__ == "__main__":
    main()
