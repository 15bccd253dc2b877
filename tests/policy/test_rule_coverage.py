"""``trygg policy coverage --rules`` (issue 11, item 14): per rule, the actions that reach it and
where; a rule nothing reaches is flagged."""

from __future__ import annotations

import pytest

from trygg.cli import main
from trygg.policy.coverage import RuleCoverage, actions_called, rule_coverage
from trygg.policy.engine import load_registry


def test_every_rule_with_logic_is_reached_by_an_action_some_door_calls() -> None:
    """No rule has logic wired to actions that no module of Trygg ever asks the engine about."""
    unreached = [r.id for r in rule_coverage(load_registry()) if r.flag == "unreached"]
    assert unreached == []


def test_r_case_10_r_case_12_the_closing_rules_are_reached_from_the_cases_actions() -> None:
    """R-CASE-10, R-CASE-12: the closing rules are reached by ``case.close``, called in cases.actions."""
    rows = {r.id: r for r in rule_coverage(load_registry())}
    assert "trygg.cases.actions" in rows["core_cases.checklist-before-closing"].reached["case.close"]
    assert "case.work" in rows["dk_policy.threats-not-closed-before-police"].reached


def test_a_rule_without_logic_above_inform_is_flagged() -> None:
    """A guideline rule that nothing enforces (e.g. kolding.confidentiality) is flagged text-only; an
    action nobody calls leaves a rule unreached."""
    rows = {r.id: r for r in rule_coverage(load_registry())}
    assert rows["kolding.confidentiality"].flag == "text-only"
    ghost = RuleCoverage("x.ghost", "enforce", "chat.members_may_send", ("ghost.action",), {})
    assert ghost.flag == "unreached"
    assert "ghost.action" not in actions_called()


def test_the_cli_prints_the_per_rule_report(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI lists each rule with its actions and where they are called, and the warnings."""
    main(["policy", "coverage", "--rules"])
    out = capsys.readouterr().out
    assert "core_cases.reopen-period" in out and "case.reopen (trygg.cases.actions)" in out
    assert "warning kolding.confidentiality: no logic" in out
