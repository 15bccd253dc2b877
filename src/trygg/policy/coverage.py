"""Requirement coverage: for every ID in requirements.md, the rules that serve it and the tests that cite it.

A test cites an ID in its name (``test_r_chat_02_...``), its docstring, its class's name or
docstring, or a string in its decorators (a ``parametrize`` row of a table-driven test).
Module docstrings do not count: a list at the top of a file proves nothing about the tests in it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trygg.policy.engine import Registry, is_core_pack

ID_RE = re.compile(r"\bR-[A-Z0-9]+-\d{2}\b")
NAME_ID_RE = re.compile(r"(?:^|_)r_([a-z0-9]+?)_(\d{2})(?=_|$)")
TABLE_ROW_RE = re.compile(r"^\|\s*(R-[A-Z0-9]+-\d{2})\s*\|(.*)$")
REPO = Path(__file__).resolve().parents[3]


def requirements_path() -> Path:
    """Return requirements.md: ``TRYGG_REQUIREMENTS``, else ``../shared/requirements.md`` beside the repo."""
    from django.conf import settings

    override = getattr(settings, "TRYGG_REQUIREMENTS", "")
    if override:
        return Path(override)
    for base in (REPO, Path.cwd()):
        candidate = base.parent / "shared" / "requirements.md"
        if candidate.exists():
            return candidate
    return REPO.parent / "shared" / "requirements.md"


@dataclass(frozen=True)
class Requirement:
    id: str
    section: str
    text: str
    level: str


def parse_requirements(text: str) -> list[Requirement]:
    """Return the requirements of the tables in ``text``, in order, with their section and level."""
    found: list[Requirement] = []
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = TABLE_ROW_RE.match(line.strip())
        if not match:
            continue
        cells = [c.strip() for c in match.group(2).strip().strip("|").split("|")]
        found.append(Requirement(match.group(1), section, cells[0] if cells else "",
                                 cells[1] if len(cells) > 1 else ""))
    return found


def ids_in_name(name: str) -> set[str]:
    """Return the IDs a name like ``test_r_chat_02_and_r_staff_07`` cites."""
    return {f"R-{m.group(1).upper()}-{m.group(2)}" for m in NAME_ID_RE.finditer(name.lower())}


def _strings(nodes: Iterable[ast.AST]) -> Iterator[str]:
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                yield sub.value


def citations_in_tests(tests_dir: Path) -> dict[str, set[str]]:
    """Return ``{requirement ID: {"tests/x/test_y.py::test_name", ...}}`` for every test under ``tests_dir``."""
    cited: dict[str, set[str]] = {}
    for path in sorted(tests_dir.rglob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue
        rel = path.relative_to(tests_dir.parent).as_posix()
        # A table-driven test names its rows in a module-level list: parametrize("row", ROWS).
        tables = {
            target.id: stmt.value
            for stmt in tree.body if isinstance(stmt, ast.Assign)
            for target in stmt.targets if isinstance(target, ast.Name)
        }
        for node, owner in _test_functions(tree):
            ids = ids_in_name(node.name) | set(ID_RE.findall(ast.get_docstring(node) or ""))
            decorators = list(node.decorator_list)
            decorators += [tables[n.id] for d in node.decorator_list for n in ast.walk(d)
                           if isinstance(n, ast.Name) and n.id in tables]
            ids |= {i for s in _strings(decorators) for i in ID_RE.findall(s)}
            if owner is not None:
                ids |= ids_in_name(owner.name) | set(ID_RE.findall(ast.get_docstring(owner) or ""))
                ids |= {i for s in _strings(owner.decorator_list) for i in ID_RE.findall(s)}
            where = f"{rel}::{owner.name + '::' if owner else ''}{node.name}"
            for req in ids:
                cited.setdefault(req, set()).add(where)
    return cited


def _test_functions(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            yield node, None
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test"):
                    yield item, node


@dataclass
class Report:
    requirements: list[Requirement]
    rules: dict[str, list[str]]
    tests: dict[str, list[str]]
    unwired: list[str] = field(default_factory=list)
    unknown_in_rules: dict[str, list[str]] = field(default_factory=dict)
    unknown_in_tests: dict[str, list[str]] = field(default_factory=dict)

    @property
    def missing_rule(self) -> list[str]:
        return [r.id for r in self.requirements if not self.rules.get(r.id)]

    @property
    def missing_test(self) -> list[str]:
        return [r.id for r in self.requirements if not self.tests.get(r.id)]

    @property
    def ok(self) -> bool:
        return not self.missing_rule and not self.missing_test and not self.unknown_in_rules

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "requirements": [
                {"id": r.id, "section": r.section, "level": r.level,
                 "rules": self.rules.get(r.id, []), "tests": self.tests.get(r.id, [])}
                for r in self.requirements
            ],
            "missing_rule": self.missing_rule,
            "missing_test": self.missing_test,
            "unknown_in_rules": self.unknown_in_rules,
            "unknown_in_tests": self.unknown_in_tests,
            "unwired_enforce_rules": self.unwired,
        }


def build_report(reg: Registry, requirements: list[Requirement], tests_dir: Path) -> Report:
    known = {r.id for r in requirements}
    rules: dict[str, list[str]] = {}
    unknown_in_rules: dict[str, list[str]] = {}
    for spec in reg.rules.values():
        for req in spec.requirements:
            (rules if req in known else unknown_in_rules).setdefault(req, []).append(spec.id)
    cited = citations_in_tests(tests_dir) if tests_dir.exists() else {}
    tests = {req: sorted(where) for req, where in cited.items() if req in known}
    unknown_in_tests = {req: sorted(where) for req, where in cited.items() if req not in known}
    unwired = [
        spec.id for spec in reg.rules.values()
        if spec.level == "enforce" and not spec.logic and not is_core_pack(spec.pack)
    ]
    return Report(requirements, rules, tests, unwired, unknown_in_rules, unknown_in_tests)


def format_report(report: Report, *, verbose: bool = False) -> str:
    """Return the report as a plain-text table, then the problems and warnings."""
    lines: list[str] = []
    width = max((len(r.id) for r in report.requirements), default=10)
    section = None
    for req in report.requirements:
        if req.section != section:
            section = req.section
            lines.append(f"\n{section}")
        rules = report.rules.get(req.id, [])
        tests = report.tests.get(req.id, [])
        mark = "ok " if rules and tests else "-- "
        lines.append(
            f"  {mark}{req.id.ljust(width)}  rules: {len(rules):2d}  tests: {len(tests):3d}  "
            + (", ".join(rules) if rules else "NO RULE")
            + ("" if tests else "  NO TEST")
        )
        if verbose:
            lines.extend(f"        test {t}" for t in tests)
    lines.append("")
    total = len(report.requirements)
    lines.append(f"{total - len(set(report.missing_rule) | set(report.missing_test))}/{total} requirements "
                 "have a rule and a test.")
    if report.missing_rule:
        lines.append(f"ERROR no rule serves: {', '.join(report.missing_rule)}")
    if report.missing_test:
        lines.append(f"ERROR no test cites: {', '.join(report.missing_test)}")
    for req, ids in sorted(report.unknown_in_rules.items()):
        lines.append(f"ERROR {req} is not in requirements.md but rules cite it: {', '.join(ids)}")
    for req, where in sorted(report.unknown_in_tests.items()):
        lines.append(f"warning {req} is not in requirements.md but tests cite it: {', '.join(where[:3])}")
    if report.unwired:
        lines.append(f"warning {len(report.unwired)} enforce-level guideline rules have no logic wired yet:")
        lines.extend(f"  {rule_id}" for rule_id in report.unwired)
    return "\n".join(lines).lstrip("\n")


# ---------------------------------------------------------------------------------- per rule

SRC_DIR = Path(__file__).resolve().parents[1]
ACTION_RE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def actions_called(src_dir: Path = SRC_DIR) -> dict[str, set[str]]:
    """Return ``{action name: {module, ...}}`` for every action name the apps pass to the engine.

    An action is called where its name is written as a string in the code that asks the engine
    (``check("case.close", ...)``, ``ACK_ACTION = "guidelines.acknowledge"``); the rule functions
    and the packs themselves are left out, since naming an action there calls nothing.
    """
    called: dict[str, set[str]] = {}
    rules_dir = src_dir / "policy" / "rules"
    for path in sorted(src_dir.rglob("*.py")):
        if "migrations" in path.parts or rules_dir in path.parents:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue
        module = path.relative_to(src_dir.parent).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION_RE.match(node.value):
                called.setdefault(node.value, set()).add(module)
    return called


@dataclass(frozen=True)
class RuleCoverage:
    id: str
    level: str
    logic: str | None
    actions: tuple[str, ...]
    reached: dict[str, list[str]]

    @property
    def flag(self) -> str:
        """Return "" when a door reaches the rule, "unreached" when it has logic that no action
        calls, "text-only" when it is a guideline rule above inform level without any logic."""
        if self.logic:
            return "" if self.reached else "unreached"
        return "" if self.level == "inform" else "text-only"


def rule_coverage(reg: Registry, called: dict[str, set[str]] | None = None) -> list[RuleCoverage]:
    """Return, per rule, the actions wired to it that some module calls, and where."""
    called = actions_called() if called is None else called
    result = []
    for spec in reg.rules.values():
        reached = {a: sorted(called[a]) for a in spec.actions if a in called}
        result.append(RuleCoverage(spec.id, spec.level, spec.logic, tuple(spec.actions), reached))
    return result


def format_rule_coverage(rows: list[RuleCoverage]) -> str:
    """Return one line per rule: its level, the actions that reach it and where, and its flag."""
    width = max((len(r.id) for r in rows), default=10)
    lines = []
    for r in rows:
        where = "; ".join(f"{a} ({', '.join(mods)})" for a, mods in r.reached.items())
        mark = r.flag.upper() if r.flag else "ok"
        lines.append(f"  {mark:9s} {r.id.ljust(width)}  [{r.level}]  {where or '-'}")
    flagged = [r for r in rows if r.flag]
    lines.append("")
    lines.append(f"{len(rows) - len(flagged)}/{len(rows)} rules are reached by an action or are inform rules.")
    for r in flagged:
        why = "no action calls " + ", ".join(r.actions) if r.flag == "unreached" else "no logic: nothing enforces it"
        lines.append(f"warning {r.id}: {why}")
    return "\n".join(lines)
