"""The five guideline packs (and Trygg's cross-cutting one) against requirements.md and the seed texts."""

from __future__ import annotations

import inspect
import re
import string
from pathlib import Path

import pytest

from trygg.policy import engine
from trygg.policy.coverage import Requirement, parse_requirements, requirements_path
from trygg.policy.engine import load_registry

SECTION_PACK = {"S0": "amot", "S1": "oslo", "S2": "bergen", "S3": "kolding", "S4": "dk_policy"}
LEVEL_WORDS = ("enforce", "workflow", "nudge", "inform")


def _requirements() -> list[Requirement]:
    path = requirements_path()
    if not path.exists():
        pytest.fail(f"requirements.md not found at {path}: the guidelines in ../shared/ are part of the test")
    return parse_requirements(path.read_text(encoding="utf-8"))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


REG = load_registry()
RULES = list(REG.rules.values())


def test_every_pack_loads_with_its_rules() -> None:
    assert {"amot", "oslo", "bergen", "kolding", "dk_policy", "core_platform"} <= set(REG.packs)
    for pack_id in SECTION_PACK.values():
        assert REG.packs[pack_id].rules, pack_id
        assert REG.packs[pack_id].source_file


def test_every_guideline_requirement_has_a_rule_in_its_documents_pack_at_its_level() -> None:
    """Each ID of S0–S4 is served by its own document's pack, at a level requirements.md names."""
    problems = []
    for req in _requirements():
        section = req.section.split(" ", 1)[0]
        rules = [r for r in RULES if req.id in r.requirements]
        if section in SECTION_PACK:
            own = [r for r in rules if r.pack == SECTION_PACK[section]]
            if not own:
                problems.append(f"{req.id}: no rule in {SECTION_PACK[section]}")
                continue
            allowed = {w for w in LEVEL_WORDS if w in req.level}
            levels = {r.level for r in own}
            if not levels & allowed:
                problems.append(f"{req.id}: levels {levels} but requirements.md says {req.level!r}")
            missing = allowed - levels
            if missing:
                problems.append(f"{req.id}: no rule at level {missing} ({req.level!r})")
        elif not rules:
            problems.append(f"{req.id}: no rule (cross-cutting)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rule_id", [r.id for r in RULES if r.source_file])
def test_a_quote_is_copied_verbatim_from_its_source(rule_id: str) -> None:
    rule = REG.rules[rule_id]
    base = requirements_path().parent
    source = base / rule.source_file if rule.source_file == "requirements.md" else base / "seeds" / rule.source_file
    if not source.exists():
        pytest.fail(f"{source} not found: every quote must be checked against its seed")
    assert _norm(rule.quote) in _norm(source.read_text(encoding="utf-8"))


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_reason_placeholders_name_the_rules_parameters(rule_id: str) -> None:
    """A "{min_grade}" in a reason is filled from the rule's parameters; nothing else may appear."""
    rule = REG.rules[rule_id]
    worded = [("", rule.reason), *rule.reason_for.items()]
    for who, reason in worded:
        for lang, text in reason.items():
            names = {f[1] for f in string.Formatter().parse(text) if f[1]}
            assert names <= set(rule.params), f"{who} {lang}: {names - set(rule.params)}"
    assert set(rule.reason) == {"nb", "da", "en"} and set(rule.title) == {"nb", "da", "en"}


@pytest.mark.parametrize("rule_id", [r.id for r in RULES if r.logic])
def test_wired_logic_reads_only_parameters_its_rule_declares(rule_id: str) -> None:
    """A parameter the logic reads but the pack does not declare could never be set by a municipality."""
    rule = REG.rules[rule_id]
    fn = engine._LOGIC[rule.logic]
    source = inspect.getsource(inspect.unwrap(fn))
    read = set(re.findall(r"params(?:\.get\(|\[)\s*[\"'](\w+)[\"']", source))
    assert read <= set(rule.params), f"{rule.logic} reads {sorted(read - set(rule.params))}"


def test_municipal_settings_have_defaults_of_the_guidelines() -> None:
    """The settings the issue names exist with the documents' values."""
    params = {r.id: {k: p.default for k, p in r.params.items()} for r in RULES}
    assert params["amot.pupil-chat-grade"]["min_grade"] == 8
    hours = params["amot.social-notifications-held"]["school_hours"]
    assert set(hours) == {"mon", "tue", "wed", "thu", "fri"} and hours["mon"] == ["08:15", "14:30"]
    assert "quiet_hours" in params["amot.class-quiet-hours"]
    assert params["core_platform.retention"]["message_retention_days"] > 0
    assert params["bergen.talk-participants"]["participants"] == [
        "pupil", "guardian", "contact_teacher", "subject_teacher"]


def test_requirements_md_is_parsed_into_66_ids_in_order() -> None:
    reqs = _requirements()
    assert reqs[0].id == "R-CHAT-01" and reqs[-1].id == "R-I18N-01"
    assert len({r.id for r in reqs}) == len(reqs)
    assert Path(requirements_path()).name == "requirements.md"
