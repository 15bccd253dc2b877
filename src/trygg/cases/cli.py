"""``trygg cases``: verify the evidence chain of every case (or one)."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_verify(args: argparse.Namespace) -> int:
    from trygg.cases.evidence import verify_all

    checked, problems = verify_all(args.case)
    for problem in problems:
        print(f"BROKEN {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {checked} case(s).")
        return 1
    print(f"Evidence of {checked} case(s) verified: every hash and the chain match.")
    return 0


def register(subparsers: Any) -> None:
    cases = subparsers.add_parser("cases", help="cases: verify evidence")
    sub = cases.add_subparsers(dest="cases_command", required=True)
    verify = sub.add_parser("verify", help="recompute evidence hashes and hash chains; non-zero exit if broken")
    verify.add_argument("--case", type=int, default=None, help="verify only this case id")
    verify.set_defaults(func=cmd_verify)
