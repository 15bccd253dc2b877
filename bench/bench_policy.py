"""Time one ``decide()`` on the message path with every pack active (goal: median under 20 µs).

Prints a table; never asserts timings. Run: ``.venv/bin/python bench/bench_policy.py``.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ROUNDS = int(os.environ.get("TRYGG_BENCH_ROUNDS", "20000"))
WARMUP = 2000
GOAL_US = 20.0


@dataclass
class Conversation:
    id: int
    kind: str
    created_by_id: int
    school_owned: bool
    school_id: int = 1


def setup() -> tuple[Callable[..., Any], Any, list[tuple[str, str, Any, Any, dict[str, Any]]]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trygg.settings")
    import django

    django.setup()
    from trygg.directory.models import PersonFacts
    from trygg.policy import engine
    from trygg.policy.engine import compile_policy, decide, load_registry

    policy = compile_policy(load_registry(), None, None)
    # The municipality's compiled policy, as ``policy_for`` caches it after the first decision
    # (no database here, so it is put in place directly and never expires during the run).
    engine._compiled[1] = (policy, math.inf)

    def pupil(pid: int, grade: int, class_id: int) -> PersonFacts:
        return PersonFacts(id=pid, roles=frozenset({"pupil"}), municipality_id=1, language="nb", grade=grade,
                           pupil_class_ids=frozenset({class_id}), school_ids=frozenset({1}))

    teacher = PersonFacts(id=9000, roles=frozenset({"teacher"}), municipality_id=1, language="nb",
                          contact_class_ids=frozenset({92}), school_ids=frozenset({1}))
    colleague = PersonFacts(id=9001, roles=frozenset({"teacher"}), municipality_id=1, language="nb",
                            subject_class_ids=frozenset({92}), school_ids=frozenset({1}))
    sara, jonas = pupil(1, 9, 92), pupil(2, 9, 92)
    emma, noah = pupil(3, 4, 41), pupil(4, 4, 41)
    class_9b = tuple(pupil(100 + i, 9, 92) for i in range(24))
    names = {p.id: f"Elev{p.id}" for p in class_9b}

    direct = Conversation(1, "direct", sara.id, False)
    group = Conversation(2, "group", teacher.id, True)
    young = Conversation(3, "direct", emma.id, False)

    def ctx(conv: Conversation, members: tuple[Any, ...], body: str, **extra: Any) -> dict[str, Any]:
        return {"members": members, "body": body, "kind": conv.kind, "school_owned": conv.school_owned, **extra}

    cases = [
        ("message.send, direct, two 9th graders", "message.send", sara, direct,
         ctx(direct, (sara, jonas), "Har du gjort matteleksa?", outside_names=("Ali", "Emma"))),
        ("message.send, class group, 2 teachers + 24 pupils", "message.send", teacher, group,
         ctx(group, (teacher, colleague, *class_9b), "Husk turdag i morgen, ta med matpakke.", pupil_names=names)),
        ("message.send, refused (grade 4 pupils)", "message.send", emma, young,
         ctx(young, (emma, noah), "hei")),
        ("unknown action (fail closed)", "message.explode", sara, direct, {}),
    ]
    return decide, policy, cases


def measure(decide: Callable[..., Any], policy: Any, actor: Any, action: str, target: Any,
            context: dict[str, Any]) -> list[float]:
    for _ in range(WARMUP):
        decide(action, actor, target, context)
    clock = time.perf_counter_ns
    samples = [0] * ROUNDS
    gc.disable()
    try:
        for i in range(ROUNDS):
            start = clock()
            decide(action, actor, target, context)
            samples[i] = clock() - start
    finally:
        gc.enable()
    return [s / 1000 for s in samples]


def main() -> int:
    decide, policy, cases = setup()
    rules = len(policy.by_action.get("message.send", ()))
    print(f"decide() with every pack active; {rules} rules on message.send; {ROUNDS} calls each "
          "(the municipality's compiled policy cached, as in a running server)")
    print(f"{'case':52s} {'median µs':>10s} {'p99 µs':>8s} {'allowed':>8s}")
    for label, action, actor, target, context in cases:
        samples = sorted(measure(decide, policy, actor, action, target, context))
        median = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        allowed = decide(action, actor, target, context).allowed
        flag = "" if median < GOAL_US else "  (over the 20 µs goal)"
        print(f"{label:52s} {median:10.2f} {p99:8.2f} {allowed!s:>8s}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
