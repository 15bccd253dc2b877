"""Measure ``classify`` against a labelled set: precision and recall per category and language,
the false-signal rate on messages labelled "none", and how often the language is right.

A labelled set is a JSON Lines file, one message per line:
``{"text": ..., "lang": "nb"|"nn"|"da"|"en", "labels": [categories, empty for none],
"context": {absent_names, present_names, writer_role, is_report_quote, language_hint}}``
(``context`` is optional). The benchmark prints these figures; a test holds the targets of issue 14.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .classifier import classify
from .lexicon import LANGUAGES
from .types import CATEGORIES, SignalContext


@dataclass(frozen=True)
class Example:
    text: str
    lang: str
    labels: frozenset[str]
    context: SignalContext | None = None


@dataclass
class Report:
    """Counts from one run over a labelled set; the rates are computed from them."""

    messages: Counter[str] = field(default_factory=Counter)
    true_pos: Counter[tuple[str, str]] = field(default_factory=Counter)
    false_pos: Counter[tuple[str, str]] = field(default_factory=Counter)
    false_neg: Counter[tuple[str, str]] = field(default_factory=Counter)
    none_total: Counter[str] = field(default_factory=Counter)
    none_flagged: Counter[str] = field(default_factory=Counter)
    language_right: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[Example, frozenset[str]]] = field(default_factory=list)

    def recall(self, category: str, lang: str | None = None) -> float | None:
        tp, fn = self._sum(self.true_pos, category, lang), self._sum(self.false_neg, category, lang)
        return tp / (tp + fn) if tp + fn else None

    def precision(self, category: str, lang: str | None = None) -> float | None:
        tp, fp = self._sum(self.true_pos, category, lang), self._sum(self.false_pos, category, lang)
        return tp / (tp + fp) if tp + fp else None

    def support(self, category: str, lang: str | None = None) -> int:
        return self._sum(self.true_pos, category, lang) + self._sum(self.false_neg, category, lang)

    def false_signal_rate(self, lang: str | None = None) -> float | None:
        """Return the share of messages labelled "none" that got any category."""
        total = self.none_total[lang] if lang else sum(self.none_total.values())
        flagged = self.none_flagged[lang] if lang else sum(self.none_flagged.values())
        return flagged / total if total else None

    def language_accuracy(self, lang: str | None = None) -> float | None:
        total = self.messages[lang] if lang else sum(self.messages.values())
        right = self.language_right[lang] if lang else sum(self.language_right.values())
        return right / total if total else None

    @staticmethod
    def _sum(counter: Counter[tuple[str, str]], category: str, lang: str | None) -> int:
        if lang:
            return counter[(category, lang)]
        return sum(counter[(category, lg)] for lg in LANGUAGES)


def load_examples(path: Path | str) -> list[Example]:
    """Read a labelled set; raise ``ValueError`` naming the line of a malformed entry."""
    examples = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            examples.append(_example(json.loads(line)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return examples


def _example(row: Mapping[str, Any]) -> Example:
    lang = row["lang"]
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    labels = frozenset(row["labels"])
    unknown = labels - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories {sorted(unknown)}")
    return Example(str(row["text"]), lang, labels, SignalContext.from_mapping(row.get("context")))


def evaluate(examples: Iterable[Example]) -> Report:
    """Classify every example and count hits, misses and false signals per category and language."""
    report = Report()
    for example in examples:
        signals = classify(example.text, context=example.context)
        found = signals.categories
        lang = example.lang
        report.messages[lang] += 1
        report.language_right[lang] += signals.language == lang
        for category in CATEGORIES:
            key = (category, lang)
            if category in example.labels and category in found:
                report.true_pos[key] += 1
            elif category in found:
                report.false_pos[key] += 1
            elif category in example.labels:
                report.false_neg[key] += 1
        if not example.labels:
            report.none_total[lang] += 1
            report.none_flagged[lang] += bool(found)
        if found != example.labels:
            report.misses.append((example, found))
    return report
