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
    """A guideline rule above inform with no logic is flagged text-only; an action nobody calls
    leaves a rule unreached."""
    text_only = RuleCoverage("x.words", "enforce", None, (), {})
    assert text_only.flag == "text-only"
    ghost = RuleCoverage("x.ghost", "enforce", "chat.members_may_send", ("ghost.action",), {})
    assert ghost.flag == "unreached"
    assert "ghost.action" not in actions_called()


def test_r_staff_02_r_chat_05_no_rule_is_flagged_any_more() -> None:
    """R-STAFF-02, R-CHAT-05, R-PRIV-01..04: the report flags nothing. The step-up and the rate
    limits are engine rules a door asks (``confidential.open``, ``rate.limit``), the Kolding duty of
    confidentiality guards ``case.view``; the other cross-cutting core_platform rules are inform
    rules shown where they apply."""
    rows = {r.id: r for r in rule_coverage(load_registry())}
    assert [r.id for r in rows.values() if r.flag] == []
    assert "trygg.signin.stepup" in rows["core_platform.strong-sign-in-for-confidential"].reached["confidential.open"]
    assert "trygg.policy.limits" in rows["core_platform.rate-limits"].reached["rate.limit"]
    assert "trygg.cases.queries" in " ".join(rows["kolding.confidentiality"].reached["case.view"])
    for rule_id in ("core_platform.data-minimisation", "core_platform.retention",
                    "core_platform.audit-confidential-views", "core_platform.right-of-access",
                    "core_platform.staff-second-factor"):
        assert rows[rule_id].level == "inform", rule_id


def test_the_cli_prints_the_per_rule_report(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI lists each rule with its actions and where they are called, and the warnings."""
    main(["policy", "coverage", "--rules"])
    out = capsys.readouterr().out
    assert "core_cases.reopen-period" in out and "case.reopen (trygg.cases.actions)" in out
    assert "kolding.confidentiality" in out and "warning" not in out
