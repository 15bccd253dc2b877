"""How coverage finds requirement IDs in requirements.md and in tests."""

from __future__ import annotations

from pathlib import Path

from trygg.policy.coverage import build_report, citations_in_tests, ids_in_name, parse_requirements
from trygg.policy.engine import Registry
from trygg.policy.packs_schema import RuleSpec

REQUIREMENTS = """# Requirements

## S0 — Somewhere (`seeds/000.txt`)

| ID | Requirement | Level |
|---|---|---|
| R-CHAT-01 | Chat is a teaching tool. | enforce |
| R-CHAT-02 | Pupil–pupil chat from grade 8. | enforce |

## Cross-cutting requirements

| ID | Requirement |
|---|---|
| R-A11Y-01 | WCAG 2.1 AA. |
"""

TESTS = '''
"""Module docstring citing R-A11Y-01 does not count."""
import pytest


def test_r_chat_01_school_conversations() -> None:
    pass


def test_grade_limit() -> None:
    """R-CHAT-02: below grade 8 pupils chat with adults."""


class TestRows:
    """R-CHAT-01 table."""

    @pytest.mark.parametrize("row", [pytest.param(1, id="R-CHAT-02 row")])
    def test_row(self, row: int) -> None:
        pass


ROWS = [pytest.param(1, id="R-CHAT-01 a row in a table")]


@pytest.mark.parametrize("row", ROWS)
def test_table(row: int) -> None:
    pass


def helper_mentions_r_a11y_01() -> None:
    """R-A11Y-01 in a helper is not a test."""
'''


def test_parse_requirements_reads_ids_sections_and_levels() -> None:
    reqs = parse_requirements(REQUIREMENTS)
    assert [r.id for r in reqs] == ["R-CHAT-01", "R-CHAT-02", "R-A11Y-01"]
    assert reqs[0].section.startswith("S0") and reqs[0].level == "enforce"
    assert reqs[2].level == ""


def test_ids_in_names_accept_snake_case() -> None:
    assert ids_in_name("test_r_chat_02_and_r_staff_07_hold") == {"R-CHAT-02", "R-STAFF-07"}
    assert ids_in_name("test_r_a11y_01_contrast") == {"R-A11Y-01"}
    assert ids_in_name("test_error_handling_02") == set()


def test_citations_come_from_names_docstrings_classes_and_decorators(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(TESTS, encoding="utf-8")
    cited = citations_in_tests(tests)
    assert cited["R-CHAT-01"] == {"tests/test_x.py::test_r_chat_01_school_conversations",
                                  "tests/test_x.py::TestRows::test_row", "tests/test_x.py::test_table"}
    assert cited["R-CHAT-02"] == {"tests/test_x.py::test_grade_limit", "tests/test_x.py::TestRows::test_row"}
    assert "R-A11Y-01" not in cited


def _spec(rule_id: str, reqs: tuple[str, ...], level: str = "enforce", logic: str | None = None) -> RuleSpec:
    return RuleSpec(id=rule_id, pack=rule_id.split(".")[0], requirements=reqs, level=level,
                    actions=("a.b",) if logic else (), logic=logic, quote="q", source_file="", params={},
                    reason={}, title={}, roles=())


def test_the_report_lists_missing_rules_tests_and_unwired_enforce_rules(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(TESTS, encoding="utf-8")
    specs = [_spec("town.a", ("R-CHAT-01",), logic="x.y"), _spec("town.b", ("R-CHAT-02",)),
             _spec("town.c", ("R-CHAT-99",), level="nudge")]
    reg = Registry(packs={"town": None}, rules={s.id: s for s in specs})
    report = build_report(reg, parse_requirements(REQUIREMENTS), tests)
    assert report.missing_rule == ["R-A11Y-01"]
    assert report.missing_test == ["R-A11Y-01"]
    assert report.unwired == ["town.b"]
    assert report.unknown_in_rules == {"R-CHAT-99": ["town.c"]}
    assert not report.ok
