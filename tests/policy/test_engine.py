"""The policy engine's semantics, checked as properties over synthetic rules (hypothesis).

Deny wins over allow, nothing allowed means denied, an unknown action is denied, and a parameter
changes exactly the decisions that depend on it. Synthetic packs live in a temporary directory and
use logic registered here under ``enginetest.*``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from trygg.directory.models import PersonFacts
from trygg.policy.engine import (
    NO_RULE,
    Effect,
    Registry,
    Request,
    allow,
    build_registry,
    compile_policy,
    decide,
    deny,
    logic,
    oblige,
)
from trygg.policy.packs_schema import RuleSpec


@logic("enginetest.allow")
def _allow(req: Request, params: Mapping[str, Any]) -> Effect | None:
    return allow()


@logic("enginetest.deny")
def _deny(req: Request, params: Mapping[str, Any]) -> Effect | None:
    return deny()


@logic("enginetest.abstain")
def _abstain(req: Request, params: Mapping[str, Any]) -> Effect | None:
    return None


@logic("enginetest.oblige")
def _oblige(req: Request, params: Mapping[str, Any]) -> Effect | None:
    return oblige("nudge", None, note="x")


@logic("enginetest.min_grade")
def _min_grade(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Deny pupils below ``min_grade``; say nothing otherwise."""
    grade = req.actor.grade
    if grade is not None and grade < params["min_grade"]:
        return deny(min_grade=params["min_grade"])
    return None


@logic("enginetest.members")
def _members(req: Request, params: Mapping[str, Any]) -> Effect | None:
    return allow()


VERDICT_LOGIC = {
    "allow": "enginetest.allow",
    "deny": "enginetest.deny",
    "abstain": "enginetest.abstain",
    "oblige": "enginetest.oblige",
}


def facts(grade: int | None = 5, municipality_id: int | None = None) -> PersonFacts:
    return PersonFacts(id=1, roles=frozenset({"pupil"}), municipality_id=municipality_id, language="nb",
                       grade=grade)


def spec(rule_id: str, logic_name: str | None, actions: tuple[str, ...], params: dict[str, Any] | None = None,
         pack: str = "synthetic") -> RuleSpec:
    from trygg.policy.packs_schema import ParamSpec

    return RuleSpec(
        id=rule_id, pack=pack, requirements=("R-TEST-01",), level="enforce", actions=actions,
        logic=logic_name, quote="q", source_file="", reason={"nb": "nei", "da": "nej", "en": "no"},
        title={"nb": "t", "da": "t", "en": "t"}, roles=(),
        params={k: ParamSpec("int", v, None, None, None, "") for k, v in (params or {}).items()},
    )


def registry_of(specs: list[RuleSpec]) -> Registry:
    return Registry(packs={s.pack: None for s in specs}, rules={s.id: s for s in specs})


verdicts = st.lists(st.sampled_from(sorted(VERDICT_LOGIC)), min_size=0, max_size=8)


@settings(max_examples=200, deadline=None)
@given(verdicts)
def test_deny_wins_over_allow_in_any_combination(kinds: list[str]) -> None:
    """Allowed exactly when some rule allows and none denies; a denial puts a denying rule first."""
    specs = [spec(f"synthetic.r{i}", VERDICT_LOGIC[k], ("thing.do",)) for i, k in enumerate(kinds)]
    compiled = compile_policy(registry_of(specs), None, None)
    decision = decide("thing.do", facts(), policy=compiled)
    assert decision.allowed == ("allow" in kinds and "deny" not in kinds)
    if "deny" in kinds:
        assert decision.fired[0].verdict == "deny"
        assert decision.denied_by is not None and decision.denied_by.rule.logic == "enginetest.deny"
    elif "allow" not in kinds:
        # Fail closed: nothing allowed it, so the default rule denies.
        assert decision.fired[-1].rule is NO_RULE
    assert len(decision.obligations) == kinds.count("oblige")
    assert all(o.rule_id.startswith("synthetic.r") for o in decision.obligations)


@settings(max_examples=100, deadline=None)
@given(
    known=st.lists(st.sampled_from(["a.one", "a.two", "b.three"]), min_size=0, max_size=3, unique=True),
    asked=st.text(alphabet="abcdefghijklmnopqrstuvwxyz._", min_size=1, max_size=20),
)
def test_an_unknown_action_is_denied(known: list[str], asked: str) -> None:
    """An action no active rule covers is denied by the default rule, whatever else exists."""
    specs = [spec(f"synthetic.k{i}", "enginetest.allow", (a,)) for i, a in enumerate(known)]
    compiled = compile_policy(registry_of(specs), None, None)
    decision = decide(asked, facts(), policy=compiled)
    if asked in known:
        assert decision.allowed
    else:
        assert not decision.allowed
        assert decision.rule_ids == [NO_RULE.id]
        assert decision.reason("nb") == NO_RULE.reason["nb"]


@settings(max_examples=200, deadline=None)
@given(
    old=st.integers(min_value=1, max_value=10),
    new=st.integers(min_value=1, max_value=10),
    grade=st.integers(min_value=1, max_value=10),
)
def test_changing_a_parameter_changes_exactly_the_decisions_it_should(old: int, new: int, grade: int) -> None:
    """A grade-limit setting: moving ``min_grade`` flips only pupils between the two values,
    and only for the actions the rule covers."""
    specs = [
        spec("synthetic.base", "enginetest.members", ("chat.send", "other.do")),
        spec("synthetic.grade", "enginetest.min_grade", ("chat.send",), {"min_grade": 8}),
    ]
    reg = registry_of(specs)
    before = compile_policy(reg, None, {"synthetic.grade": {"min_grade": old}})
    after = compile_policy(reg, None, {"synthetic.grade": {"min_grade": new}})
    pupil = facts(grade)
    was = decide("chat.send", pupil, policy=before).allowed
    now = decide("chat.send", pupil, policy=after).allowed
    assert was == (grade >= old)
    assert now == (grade >= new)
    assert (was != now) == (min(old, new) <= grade < max(old, new))
    # The other action does not depend on the parameter.
    assert decide("other.do", pupil, policy=before).allowed == decide("other.do", pupil, policy=after).allowed


def test_a_denial_reason_reads_the_parameter_in_force() -> None:
    """A reason's placeholder shows the municipality's value, not the pack's default."""
    specs = [spec("synthetic.base", "enginetest.members", ("chat.send",)),
             spec("synthetic.grade", "enginetest.min_grade", ("chat.send",), {"min_grade": 8})]
    object.__setattr__(specs[1], "reason", {"nb": "under {min_grade}", "da": "under {min_grade}",
                                            "en": "below {min_grade}"})
    compiled = compile_policy(registry_of(specs), None, {"synthetic.grade": {"min_grade": 6}})
    decision = decide("chat.send", facts(5), policy=compiled)
    assert not decision.allowed
    assert decision.reason("en") == "below 6"


def test_an_inactive_pack_decides_nothing_but_core_packs_always_do() -> None:
    """A municipality that turns a guideline pack off loses its rules; a core pack stays on."""
    specs = [spec("core_x.base", "enginetest.allow", ("chat.send",), pack="core_x"),
             spec("guide.no", "enginetest.deny", ("chat.send",), pack="guide")]
    reg = registry_of(specs)
    assert not decide("chat.send", facts(), policy=compile_policy(reg, ["guide"], None)).allowed
    assert decide("chat.send", facts(), policy=compile_policy(reg, [], None)).allowed


def test_a_school_override_applies_to_that_school_only() -> None:
    """School hours and the like: a school's own value is used for requests about that school."""
    specs = [spec("synthetic.base", "enginetest.members", ("chat.send",)),
             spec("synthetic.grade", "enginetest.min_grade", ("chat.send",), {"min_grade": 8})]
    compiled = compile_policy(registry_of(specs), None, None, {7: {"synthetic.grade": {"min_grade": 5}}})
    pupil = facts(6)
    assert decide("chat.send", pupil, context={"school_id": 7}, policy=compiled).allowed
    assert not decide("chat.send", pupil, context={"school_id": 8}, policy=compiled).allowed
    assert not decide("chat.send", pupil, policy=compiled).allowed
    assert compiled.school_params[7]["synthetic.grade"] == {"min_grade": 5}


# --------------------------------------------------------------------------- synthetic packs on disk


def write_pack(directory: Path, pack_id: str, rules: list[dict[str, Any]]) -> Path:
    path = directory / f"{pack_id}.yaml"
    path.write_text(yaml.safe_dump({
        "id": pack_id,
        "title": {"nb": "Test", "da": "Test", "en": "Test"},
        "rules": rules,
    }, allow_unicode=True), encoding="utf-8")
    return path


def rule(rule_id: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": rule_id,
        "requirements": ["R-CHAT-02"],
        "level": "enforce",
        "title": {"nb": "Tittel", "da": "Titel", "en": "Title"},
        "quote": "For ungdomsskolen kan det og være samhandling elev/elev",
        "reason": {"nb": "Under {min_grade}.", "da": "Under {min_grade}.", "en": "Below {min_grade}."},
    }
    base.update(extra)
    return base


def test_a_yaml_pack_with_a_parameter_compiles_and_decides() -> None:
    """A pack on disk, with logic wired and a parameter, decides as its parameter says."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_pack(directory, "core_test", [rule("core_test.base", actions=["chat.send"],
                                                 logic="enginetest.members")])
        write_pack(directory, "town", [rule(
            "town.grade", actions=["chat.send"], logic="enginetest.min_grade",
            params={"min_grade": {"type": "int", "default": 8, "min": 1, "max": 10}},
        )])
        reg = build_registry(sorted(directory.glob("*.yaml")))
    pupil = facts(7)
    assert not decide("chat.send", pupil, policy=compile_policy(reg, ["town"], None)).allowed
    assert decide("chat.send", pupil, policy=compile_policy(reg, ["town"], {"town.grade": {"min_grade": 7}})).allowed
    assert decide("chat.send", pupil, policy=compile_policy(reg, [], None)).allowed


@pytest.mark.parametrize("grade,allowed", [(7, False), (8, True), (None, True)])
def test_decide_takes_facts_or_anything_with_facts(grade: int | None, allowed: bool) -> None:
    """``decide`` accepts a ``Person`` (anything with ``.facts``) or the facts themselves."""
    specs = [spec("synthetic.base", "enginetest.members", ("chat.send",)),
             spec("synthetic.grade", "enginetest.min_grade", ("chat.send",), {"min_grade": 8})]
    compiled = compile_policy(registry_of(specs), None, None)

    class Holder:
        facts = facts(grade)

    assert decide("chat.send", Holder(), policy=compiled).allowed is allowed
    assert decide("chat.send", facts(grade), policy=compiled).allowed is allowed
