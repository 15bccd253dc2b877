"""Measure the text-signal classifier (issue 14): quality per category and language, and speed.

Prints, for the development set (tuned on) and the separately written held-out set (never tuned
on): precision and recall per category and language, the false-signal rate on "none" messages,
language-detection accuracy; then the time per message (median and 99th percentile, wall clock
and CPU time of this thread, so a busy shared machine is visible). Targets of issue 14, for each
language with at least 40 messages: recall >= 95% for threat and selfharm, >= 85% for bullying,
false signals <= 3% on none; median < 2 ms and p99 < 10 ms. Never asserts.
Run: ``.venv/bin/python bench/bench_signals.py``.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from pathlib import Path

from trygg.policy.signals import CATEGORIES, classify, load_model
from trygg.policy.signals.evaluation import Example, Report, evaluate, load_examples
from trygg.policy.signals.lexicon import LANGUAGES

REPO = Path(__file__).resolve().parent.parent
SETS = [
    ("development set (tuned on)", REPO / "tests/policy/signals/devset.jsonl"),
    ("held-out set (written first, never tuned on)", REPO / "tests/policy/signals/heldout.jsonl"),
]
ROUNDS = int(os.environ.get("TRYGG_BENCH_ROUNDS", "5"))
TARGETS = {"threat": 0.95, "selfharm": 0.95, "bullying": 0.85}
MAX_FALSE_SIGNALS = 0.03
MIN_MESSAGES = 40


def pct(value: float | None) -> str:
    return "   –  " if value is None else f"{value * 100:5.1f}%"


def print_quality(title: str, examples: list[Example], report: Report) -> None:
    langs = [lg for lg in LANGUAGES if report.messages[lg]]
    print(f"\n{title}: {len(examples)} messages "
          + ", ".join(f"{lg} {report.messages[lg]}" for lg in langs))
    header = f"{'category':13s}" + "".join(f" {lg + ' P':>7s} {lg + ' R':>7s} {'n':>4s} " for lg in langs)
    print(header + f" {'all P':>7s} {'all R':>7s} {'n':>4s}")
    for category in CATEGORIES:
        row = f"{category:13s}"
        for lg in langs:
            n = report.support(category, lg)
            flag = ""
            target = TARGETS.get(category)
            recall = report.recall(category, lg)
            if target and report.messages[lg] >= MIN_MESSAGES and recall is not None and recall < target:
                flag = "!"
            row += f" {pct(report.precision(category, lg)):>7s} {pct(recall):>6s}{flag or ' '} {n:4d} "
        total = report.support(category)
        row += f" {pct(report.precision(category)):>7s} {pct(report.recall(category)):>7s} {total:4d}"
        print(row)
    fsr = "  ".join(
        f"{lg} {pct(report.false_signal_rate(lg)).strip()} ({report.none_flagged[lg]}/{report.none_total[lg]})"
        + ("!" if (report.false_signal_rate(lg) or 0) > MAX_FALSE_SIGNALS and report.messages[lg] >= MIN_MESSAGES
           else "")
        for lg in langs)
    print(f"false signals on 'none': {fsr}")
    lang = "  ".join(f"{lg} {pct(report.language_accuracy(lg)).strip()}" for lg in langs)
    print(f"language detected right: {lang}")
    print("('!' marks a figure that misses the issue-14 target for a language with >= 40 messages)")


def print_misses(report: Report, limit: int = 40) -> None:
    if not report.misses:
        return
    print(f"  messages labelled differently from what was found ({len(report.misses)}; first {limit}):")
    for example, found in report.misses[:limit]:
        want = ",".join(sorted(example.labels)) or "none"
        got = ",".join(sorted(found)) or "none"
        print(f"    [{example.lang}] want {want:24s} got {got:24s} {example.text[:70]!r}")


def print_speed(examples: list[Example]) -> None:
    started = time.process_time()
    load_model.cache_clear()
    load_model()
    load_cpu = time.process_time() - started
    for example in examples:  # warm up
        classify(example.text, context=example.context)
    wall: list[float] = []
    cpu: list[float] = []
    best = [float("inf")] * len(examples)
    gc.collect()
    for _ in range(ROUNDS):
        for i, example in enumerate(examples):
            w0, c0 = time.perf_counter(), time.thread_time()
            classify(example.text, context=example.context)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
            best[i] = min(best[i], wall[-1])
    wall.sort()
    cpu.sort()
    best.sort()

    def p99(samples: list[float]) -> float:
        return samples[min(len(samples) - 1, int(len(samples) * 0.99))]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nTime per message over {len(wall)} calls ({ROUNDS} rounds of the development set; "
          f"machine load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"{'':20s} {'median ms':>10s} {'p99 ms':>8s} {'max ms':>8s}")
    # On a shared machine a call can wait for the CPU; the best of the rounds per message shows the
    # time without that wait, the CPU time shows the work itself.
    for label, samples in (("wall clock", wall), ("wall, best of rounds", best), ("CPU (this thread)", cpu)):
        median, worst = statistics.median(samples) * 1000, samples[-1] * 1000
        print(f"{label:20s} {median:10.3f} {p99(samples) * 1000:8.3f} {worst:8.3f}")
    print(f"goal: median < 2 ms, p99 < 10 ms. Loading the word lists once per process: {load_cpu:.2f} s CPU")


def main() -> int:
    dev: list[Example] = []
    for title, path in SETS:
        examples = load_examples(path)
        report = evaluate(examples)
        print_quality(title, examples, report)
        # The held-out set's misses stay hidden unless asked for: reading them invites tuning on it.
        if "held-out" not in title or os.environ.get("TRYGG_BENCH_SHOW_MISSES"):
            print_misses(report)
        if not dev:
            dev = examples
    print_speed(dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
