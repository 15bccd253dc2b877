"""``trygg policy``: list the rules, explain a decision, check requirement coverage, validate packs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="the guideline packs and the policy engine")
    sub = policy.add_subparsers(dest="policy_command", required=True)

    explain = sub.add_parser("explain", help="show the decision on an action and every rule that fired")
    explain.add_argument("action", help="e.g. message.send, classlist.view, meeting.join")
    explain.add_argument("actor", help="username of the person acting, e.g. emma.4a")
    explain.add_argument("target", nargs="?", default=None,
                         help="kind:id, e.g. class:4A, conversation:12, person:noah.4a")
    explain.add_argument("--context", default=None,
                         help='JSON object, e.g. \'{"kind": "direct", "members": ["emma.4a", "noah.4a"]}\'')
    explain.add_argument("--lang", default="en", choices=["nb", "da", "en"])
    explain.add_argument("--json", action="store_true", help="print JSON")
    explain.set_defaults(func=cmd_explain)

    coverage = sub.add_parser("coverage", help="requirement IDs with the rules and tests that cite them")
    coverage.add_argument("--requirements", default=None, help="path to requirements.md")
    coverage.add_argument("--tests", default=None, help="tests directory (default: the repo's tests/)")
    coverage.add_argument("--verbose", "-v", action="store_true", help="list each citing test")
    coverage.add_argument("--json", action="store_true", help="print JSON")
    coverage.add_argument("--rules", action="store_true",
                          help="per rule: the actions that reach it and where; flag rules nothing reaches")
    coverage.set_defaults(func=cmd_coverage)

    rules = sub.add_parser("rules", help="list the rules of every pack")
    rules.add_argument("--lang", default="en", choices=["nb", "da", "en"])
    rules.set_defaults(func=cmd_rules)

    validate = sub.add_parser("validate", help="load and validate every pack (non-zero exit if one is broken)")
    validate.add_argument("--packs", default=None, help="a directory of packs (default: the built-in ones)")
    validate.set_defaults(func=cmd_validate)


def cmd_explain(args: argparse.Namespace) -> int:
    from trygg.errors import BadInput
    from trygg.policy.explain import explain

    try:
        result = explain(args.action, args.actor, args.target, args.context)
    except BadInput as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict(args.lang), ensure_ascii=False, indent=2, default=str))
        return 0
    print(format_explanation(result, args.lang))
    return 0


def format_explanation(result: Any, lang: str = "en") -> str:
    decision = result.decision
    lines = [
        f"action:   {decision.action}",
        f"actor:    {result.actor.username} (roles: {', '.join(sorted(result.actor.facts.roles)) or 'none'})",
        f"target:   {result.target if result.target is not None else '-'}",
        f"decision: {'ALLOWED' if decision.allowed else 'DENIED'}",
    ]
    if not decision.allowed:
        lines.append(f"reason:   {decision.reason(lang)}")
    lines.append("rules that fired:")
    for fired in decision.fired:
        reqs = ", ".join(fired.rule.requirements) or "-"
        lines.append(f"  {str(fired.verdict or 'none'):5s} {fired.rule.id}  [{fired.rule.level}; {reqs}]")
        if fired.verdict == "deny":
            lines.append(f"        {fired.reason(lang)}")
    for ob in decision.obligations:
        data = ", ".join(f"{k}={v}" for k, v in ob.data.items())
        lines.append(f"  obligation {ob.kind} from {ob.rule_id}" + (f": {data}" if data else ""))
    return "\n".join(lines)


def cmd_coverage(args: argparse.Namespace) -> int:
    from trygg.policy.coverage import REPO, build_report, format_report, parse_requirements, requirements_path
    from trygg.policy.engine import load_registry

    path = Path(args.requirements) if args.requirements else requirements_path()
    if not path.exists():
        print(f"error: cannot find requirements.md at {path} (set TRYGG_REQUIREMENTS)", file=sys.stderr)
        return 2
    requirements = parse_requirements(path.read_text(encoding="utf-8"))
    if not requirements:
        print(f"error: no requirement IDs found in {path}", file=sys.stderr)
        return 2
    tests_dir = Path(args.tests) if args.tests else REPO / "tests"
    reg = load_registry()
    report = build_report(reg, requirements, tests_dir)
    if getattr(args, "rules", False):
        from trygg.policy.coverage import format_rule_coverage, rule_coverage

        rows = rule_coverage(reg)
        if args.json:
            print(json.dumps([{"id": r.id, "level": r.level, "logic": r.logic, "actions": list(r.actions),
                               "reached": r.reached, "flag": r.flag or None} for r in rows],
                             ensure_ascii=False, indent=2))
        else:
            print(format_rule_coverage(rows))
        return 0 if report.ok else 1
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(report, verbose=args.verbose))
    return 0 if report.ok else 1


def cmd_rules(args: argparse.Namespace) -> int:
    from trygg.policy.engine import load_registry

    reg = load_registry()
    for pack in reg.packs.values():
        print(f"{pack.id}: {pack.title.get(args.lang)}")
        for spec in pack.rules:
            wired = f" -> {spec.logic} on {', '.join(spec.actions)}" if spec.logic else ""
            print(f"  {spec.id} [{spec.level}; {', '.join(spec.requirements)}]{wired}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from trygg.policy.engine import load_registry
    from trygg.policy.packs_schema import PackError

    try:
        reg = load_registry(Path(args.packs) if args.packs else None, force=True)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(reg.packs)} packs, {len(reg.rules)} rules: valid")
    return 0
