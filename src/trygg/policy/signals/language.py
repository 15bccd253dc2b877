"""Tell bokmål, nynorsk, Danish and English apart from the words of one short message.

Each language lists its tell-tale words in ``data/lang.yaml`` with a weight, plus spelling cues;
words that only one language's word list holds count too. The language with the highest sum wins.
Short messages often carry no tell-tale word at all ("🔪🔪", "taper"): then the caller's hint, or
bokmål, is the answer (``confident`` is false), and a false friend is read as in that language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .lexicon import LANGUAGES

# Ties are resolved in this order: the platform's users are mostly Norwegian, then Danish.
_PREFERENCE = {"nb": 3, "da": 2, "nn": 1, "en": 0}
_CUE = 0.5


@dataclass(frozen=True, slots=True)
class Detected:
    language: str
    confident: bool
    scores: Mapping[str, float]


def detect(words: Iterable[str], markers: Mapping[str, Mapping[str, float]], hint: str | None = None,
           sources: Mapping[str, frozenset[str]] | None = None,
           cues: Mapping[str, tuple[re.Pattern[str], ...]] | None = None) -> Detected:
    """Return the most likely language of a message from its (lower-case) words.

    ``sources`` maps a word of the signal lexicon to the language files it appears in: a word
    found in only one or two of them ("ulækker", "hatar") counts as half a tell-tale word.
    """
    scores = dict.fromkeys(LANGUAGES, 0.0)
    for word in words:
        for lang in LANGUAGES:
            weight = markers[lang].get(word)
            if weight:
                scores[lang] += weight
        langs = sources.get(word) if sources else None
        if langs and len(langs) <= 2:
            for lang in langs:
                scores[lang] += 1.0 / len(langs)
        if cues and len(word) > 2:
            for lang, patterns in cues.items():
                if any(p.search(word) for p in patterns):
                    scores[lang] += _CUE
    best = max(scores.values())
    if best <= 0:
        fallback = hint if hint in scores else "nb"
        return Detected(fallback, False, scores)
    if hint in scores:
        scores[hint] += 0.5  # the writer's own language breaks near-ties
    language = max(LANGUAGES, key=lambda lang: (scores[lang], _PREFERENCE[lang]))
    runner_up = max(score for lang, score in scores.items() if lang != language)
    return Detected(language, scores[language] - runner_up >= 1.0, scores)
