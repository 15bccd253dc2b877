"""The classifier's quality on its labelled development set meets issue 14's "Done when".

For each language with at least 40 messages: recall >= 95% for threat and selfharm, >= 85% for
bullying, and false signals on "none" messages <= 3% (R-SAFE-01, R-PUP-02, R-CASE-10). The
held-out set is only checked for being well formed: it was written before the classifier and is
never tuned on, so its figures are reported by ``make bench``, not held here. Timings are measured
by the benchmark, never asserted in tests.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from trygg.policy.signals.evaluation import Report, evaluate, load_examples
from trygg.policy.signals.lexicon import LANGUAGES

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset.jsonl"
HELDOUT = HERE / "heldout.jsonl"
RECALL_TARGETS = {"threat": 0.95, "selfharm": 0.95, "bullying": 0.85}
MAX_FALSE_SIGNALS = 0.03
MIN_MESSAGES = 40


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(load_examples(DEVSET))


def test_the_development_set_is_large_enough_in_every_language() -> None:
    examples = load_examples(DEVSET)
    by_lang = Counter(e.lang for e in examples)
    assert len(examples) >= 600
    assert by_lang["nb"] >= 100 and by_lang["da"] >= 100 and by_lang["en"] >= 100
    assert by_lang["nn"] >= 40
    labels = Counter(label for e in examples for label in (e.labels or {"none"}))
    for category in ("threat", "selfharm", "bullying", "sexual", "exclusion", "about_absent"):
        assert labels[category] >= 40, category
    assert labels["none"] >= 200  # hard negatives and ordinary school talk
    assert sum(len(e.labels) > 1 for e in examples) >= 30  # several categories in one message


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("category", sorted(RECALL_TARGETS))
def test_r_safe_01_recall_meets_the_target(report: Report, lang: str, category: str) -> None:
    if report.messages[lang] < MIN_MESSAGES:
        pytest.fail(f"{lang} has fewer than {MIN_MESSAGES} messages")
    recall = report.recall(category, lang)
    assert recall is not None and recall >= RECALL_TARGETS[category], (category, lang, recall)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_r_safe_01_false_signals_on_none_stay_under_three_percent(report: Report, lang: str) -> None:
    rate = report.false_signal_rate(lang)
    assert rate is not None and rate <= MAX_FALSE_SIGNALS, (lang, rate)


def test_precision_is_high_too(report: Report) -> None:
    """False alarms are what made school scanners notorious: every category stays above 90%."""
    for category in ("threat", "selfharm", "bullying", "sexual", "exclusion", "about_absent"):
        precision = report.precision(category)
        assert precision is not None and precision >= 0.90, (category, precision)


def test_the_held_out_set_is_well_formed_and_separate() -> None:
    held = load_examples(HELDOUT)
    dev_texts = {e.text for e in load_examples(DEVSET)}
    assert len(held) >= 200
    assert Counter(e.lang for e in held)["nn"] >= 40
    assert not {e.text for e in held} & dev_texts


def test_a_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hei", "lang": "nb", "labels": []}\n{"text": "x", "lang": "sv", "labels": []}\n',
                   encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_examples(bad)
