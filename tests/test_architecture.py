"""The layers of Trygg hold: which app may import which, and no import cycles between modules.

The allowed directions below are the same as in ``docs/architecture.md``. Every import of a
``trygg`` module counts for the direction, imports inside functions included; only imports under
``TYPE_CHECKING`` (types, never run) are left out. For cycles, only module-level imports count:
an import inside a function runs after every module has loaded.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "trygg"

# The layers, bottom first. A component may import itself and every component in a layer below its
# own; nothing else. ``directory.data`` is the directory's models and the facts cache: what the
# policy engine reasons about and the event socket signs people in with. The rest of ``directory``
# (its actions, queries, roster import, admin) asks the policy engine and so sits above it.
LAYERS: list[set[str]] = [
    {"errors", "realtime", "sqlite", "settings", "database", "links", "api_schemas", "logsafe", "__init__"},
    {"ratelimits"},
    {"audit"},
    {"directory.data"},
    {"events"},
    {"policy"},
    {"signin.core"},
    {"directory"},
    {"signin"},
    {"notifications"},
    {"safety.core"},
    {"messaging"},
    {"meetings", "classlist"},
    {"cases"},
    {"safety"},
    {"web"},
    {"api_auth", "api_errors"},
    {"api", "routing"},
    {"doors"},
    {"urls", "asgi", "cli"},
]
DIRECTORY_DATA = {"trygg.directory.models", "trygg.directory.facts"}
# Step-up and revocation are asked by the directory's admin and every app with confidential pages;
# the rest of sign-in (providers, sessions, the pages) builds on the directory.
SIGNIN_CORE = {"trygg.signin.stepup", "trygg.signin.revocation"}
# Safety's records, alerts and texts sit below messaging, whose send and edit actions write them in
# their own transaction; the rest of safety (alert pages, cases from alerts, the weekly exclusion
# job) reads conversations and opens cases, so it sits above cases.
SAFETY_CORE = {"trygg.safety", "trygg.safety.models", "trygg.safety.alerts", "trygg.safety.texts",
               "trygg.safety.events", "trygg.safety.apps"}
# Besides the layers: these apps must never reach into chat, not even inside a function, so
# that a class list, a meeting or a policy decision never depends on how messages work.
NEVER_MESSAGING = ("classlist", "meetings", "policy")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    module_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


MODULES = {module_name(path) for path in source_files()}


def resolve(name: str) -> str | None:
    """Return the Trygg module an imported name lives in (``trygg.a.b.func`` -> ``trygg.a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    source = source or module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_block(child):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = resolve(alias.name)
                    if target:
                        found.append(Import(source, target, child.lineno, module_level))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] + [base]).strip(".")
                for alias in child.names:
                    target = resolve(f"{base}.{alias.name}") or resolve(base)
                    if target:
                        found.append(Import(source, target, child.lineno, module_level))
            inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, module_level and not inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return [i for i in found if i.target != source]


ALL_IMPORTS = [imp for path in source_files() for imp in imports_of(path)]


def component(module: str) -> str:
    if module in DIRECTORY_DATA:
        return "directory.data"
    if module in SIGNIN_CORE:
        return "signin.core"
    if module in SAFETY_CORE:
        return "safety.core"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(name: str) -> int:
    for number, layer in enumerate(LAYERS):
        if name in layer:
            return number
    raise AssertionError(f"{name} is in no layer: add it to LAYERS and to docs/architecture.md")


def test_every_component_has_a_layer() -> None:
    """Each app and top-level module of src/trygg is placed in exactly one layer."""
    names = [name for layer in LAYERS for name in layer]
    assert len(names) == len(set(names))
    for module in MODULES:
        layer_of(component(module))


def test_imports_only_go_down_the_layers() -> None:
    """Every import (inside functions too) goes to the same component or a lower layer."""
    wrong = []
    for imp in ALL_IMPORTS:
        source, target = component(imp.source), component(imp.target)
        if source == target:
            continue
        if (source, target) in (("directory", "directory.data"), ("signin", "signin.core"), ("safety", "safety.core")):
            continue
        if layer_of(target) >= layer_of(source):
            wrong.append(f"{imp.source}:{imp.line} imports {imp.target} ({source} may not import {target})")
    assert wrong == []


@pytest.mark.parametrize("app", NEVER_MESSAGING)
def test_app_imports_nothing_from_messaging(app: str) -> None:
    """classlist, meetings and policy import nothing from trygg.messaging, not even inside functions."""
    found = [f"{i.source}:{i.line} imports {i.target}" for i in ALL_IMPORTS
             if component(i.source) == app and i.target.startswith("trygg.messaging")]
    assert found == []


def cycles_in(imports: list[Import]) -> list[list[str]]:
    """Return the import cycles among ``imports`` (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in imports:
        graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1 or node in graph[node]:
                cycles.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return cycles


def test_no_module_takes_part_in_an_import_cycle() -> None:
    """No cycle through module-level imports anywhere in src/trygg."""
    assert cycles_in([i for i in ALL_IMPORTS if i.module_level]) == []


def test_messaging_has_no_import_circle_at_all() -> None:
    """Inside messaging not even an import in a function runs back: actions, attachments, queries and
    serialise each build on the ones below them."""
    inside = [i for i in ALL_IMPORTS
              if i.source.startswith("trygg.messaging.") and i.target.startswith("trygg.messaging.")]
    assert cycles_in(inside) == []


def test_the_checker_sees_imports_inside_functions_but_not_type_checking(tmp_path: Path) -> None:
    """The walker finds an import inside a function and leaves out a TYPE_CHECKING block."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from trygg.events import log\n"
        "if TYPE_CHECKING:\n    from trygg.messaging.models import Message\n"
        "def f():\n    from trygg.messaging.actions import check_send\n",
        encoding="utf-8",
    )
    found = {(i.target, i.module_level) for i in imports_of(sample, "trygg.meetings.sample")}
    assert found == {("trygg.events.log", True), ("trygg.messaging.actions", False)}
