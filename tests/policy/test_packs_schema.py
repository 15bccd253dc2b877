"""A broken pack is refused at load time with the file name and the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trygg.policy.engine import build_registry, load_registry
from trygg.policy.packs_schema import PackError, ParamSpec, load_pack_file, validate_schedule, validate_value


def good_rule(**changes: Any) -> dict[str, Any]:
    rule = {
        "id": "town.grade",
        "requirements": ["R-CHAT-02"],
        "level": "enforce",
        "title": {"nb": "Tittel", "da": "Titel", "en": "Title"},
        "quote": "For ungdomsskolen kan det og være samhandling elev/elev",
        "reason": {"nb": "Nei.", "da": "Nej.", "en": "No."},
        "params": {"min_grade": {"type": "int", "default": 8, "min": 1, "max": 10}},
        "roles": ["pupil"],
    }
    rule.update(changes)
    return {k: v for k, v in rule.items() if v is not None}


def write(tmp_path: Path, name: str, pack: dict[str, Any] | str) -> Path:
    path = tmp_path / f"{name}.yaml"
    text = pack if isinstance(pack, str) else yaml.safe_dump(pack, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def pack(*rules: dict[str, Any], pack_id: str = "town") -> dict[str, Any]:
    return {"id": pack_id, "title": {"nb": "By", "da": "By", "en": "Town"}, "rules": list(rules)}


def test_a_good_pack_loads(tmp_path: Path) -> None:
    loaded = load_pack_file(write(tmp_path, "town", pack(good_rule())))
    assert [r.id for r in loaded.rules] == ["town.grade"]
    assert loaded.rules[0].params["min_grade"].default == 8


BROKEN = [
    pytest.param(pack(good_rule(quote=None)), "quote", id="missing quote"),
    pytest.param(pack(good_rule(quote="")), "quote", id="empty quote"),
    pytest.param(pack(good_rule(reason={"nb": "Nei.", "en": "No."})), "reason.da", id="reason without Danish"),
    pytest.param(pack(good_rule(params={"min_grade": {"type": "int", "default": "eight"}})),
                 "min_grade", id="default of the wrong type"),
    pytest.param(pack(good_rule(params={"min_grade": {"type": "integer", "default": 8}})),
                 "min_grade.type", id="unknown parameter type"),
    pytest.param(pack(good_rule(params={"min_grade": {"type": "int", "default": 12, "max": 10}})),
                 "above the maximum", id="default above its maximum"),
    pytest.param(pack(good_rule(params={"hours": {"type": "schedule", "default": {"mon": ["14:30", "08:15"]}}})),
                 "not before the end", id="schedule that ends before it starts"),
    pytest.param(pack(good_rule(level="must")), "level", id="unknown level"),
    pytest.param(pack(good_rule(requirements=["CHAT-2"])), "requirement ID", id="malformed requirement ID"),
    pytest.param(pack(good_rule(actions=["message.send"])), "must name its logic", id="actions without logic"),
    pytest.param(pack(good_rule(logic="chat.pupil_chat_grade")), "must name the actions", id="logic without actions"),
    pytest.param(pack(good_rule(roles=["parent"])), "unknown roles", id="unknown role"),
    pytest.param(pack(good_rule(id="oslo.grade")), "must start with the pack id", id="rule id of another pack"),
    pytest.param(pack(good_rule(colour="red")), "colour", id="unknown key"),
    pytest.param(pack(good_rule(), pack_id="other"), "must match the file name", id="pack id not the file name"),
    pytest.param("id: town\nrules: [", "cannot read pack", id="not YAML"),
]


@pytest.mark.parametrize("content,reason", BROKEN)
def test_a_broken_pack_is_refused_with_the_file_and_the_reason(
    tmp_path: Path, content: dict[str, Any] | str, reason: str
) -> None:
    path = write(tmp_path, "town", content)
    with pytest.raises(PackError) as excinfo:
        build_registry([path])
    message = str(excinfo.value)
    assert message.startswith("town.yaml:"), message
    assert reason in message, message


def test_an_unknown_logic_id_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "town", pack(good_rule(actions=["message.send"], logic="chat.no_such_rule")))
    load_registry()  # the real rule modules are imported
    with pytest.raises(PackError, match=r"^town\.yaml: rule 'town\.grade' names unknown logic 'chat\.no_such_rule'"):
        build_registry([path])


def test_load_registry_refuses_a_directory_with_a_broken_pack(tmp_path: Path) -> None:
    """What the app does at startup: a broken pack stops loading, naming the file."""
    write(tmp_path, "town", pack(good_rule(quote=None)))
    with pytest.raises(PackError, match=r"^town\.yaml: rules\.0\.quote"):
        load_registry(tmp_path)


@pytest.mark.parametrize(
    "kind,value,ok",
    [
        ("int", 3, True), ("int", True, False), ("int", "3", False),
        ("float", 2.5, True), ("bool", False, True), ("bool", 0, False),
        ("str", "x", True), ("time", "08:15", True), ("time", "8:15", False), ("time", "24:00", False),
        ("list", ["a"], True), ("list", "a", False), ("list", [1], False),
        ("schedule", {"mon": ["08:15", "14:30"]}, True), ("schedule", {"monday": ["08:15", "14:30"]}, False),
        ("schedule", {"mon": ["08:15"]}, False), ("schedule", {}, True), ("schedule", {"sat": None}, True),
    ],
)
def test_validate_value_by_type(kind: str, value: Any, ok: bool) -> None:
    spec = ParamSpec(kind, None, None, None, None, "")
    if ok:
        assert validate_value(spec, value) == value
    else:
        with pytest.raises(ValueError):
            validate_value(spec, value)


def test_list_and_choice_parameters_only_take_their_choices() -> None:
    listed = ParamSpec("list", [], None, None, ("pupil", "guardian"), "")
    assert validate_value(listed, ["pupil"]) == ["pupil"]
    with pytest.raises(ValueError, match="unknown values"):
        validate_value(listed, ["pupil", "journalist"])
    choice = ParamSpec("choice", "a", None, None, ("a", "b"), "")
    with pytest.raises(ValueError, match="not one of"):
        validate_value(choice, "c")


def test_a_schedule_must_start_before_it_ends() -> None:
    with pytest.raises(ValueError, match="not before the end"):
        validate_schedule({"fri": ["15:00", "08:00"]})
