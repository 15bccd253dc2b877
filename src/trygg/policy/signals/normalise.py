"""Split a message into tokens and spell each token the ways a child might have meant it.

Children type fast, on phones, often without æ/ø/å, with repeated letters for stress
("stygggg"), digits and symbols for letters ("dr3p", "1d10t", "$lut"), starred-out swear words
("f*ck") and words spaced out letter by letter ("d r e p", "d.u.m"). This module keeps each
token's offsets in the original text and gives it a small set of candidate spellings ("forms");
the lexicon decides which of them mean something. Nothing here knows any word list, so it is
the same for every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# A word: letters or digits, plus the symbols children use for letters; an apostrophe or a
# "!"/"|" is kept only between such characters ("don't", "h!te"), so "hei!" stays "hei".
_WORD = r"(?:[^\W_]|[@$€*])+(?:(?:['’]|[!|](?=[^\W_]))(?:[^\W_]|[@$€*])+)*"
# Pictographs and dingbats, with any skin-tone modifier, variation selector or joiner after them.
_EMOJI = r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF][\uFE0F\u200D\U0001F3FB-\U0001F3FF]*"
_TOKEN = re.compile(
    rf"(?P<word>{_WORD})|(?P<emoji>{_EMOJI})|(?P<heart><3+)|(?P<stop>[.!?;:\n]+|…)|(?P<comma>,)"
    r"|(?P<quote>[\"«»“”„])"
)
# What may stand between the letters of a spaced-out word: "d r e p", "d.r.e.p", "d-r-e-p".
_SPACED_GAP = re.compile(r"[\s.\-_*·]{1,2}")
# The longest word looked for among spaced-out letters ("k n i v s t i k k e" is 11); a cap keeps a
# message of a thousand single letters from costing more than a short one.
_MAX_SPACED = 16
_MAX_RUNS = 32

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "€": "e", "!": "i", "|": "l"})
_LEET_L = str.maketrans({"1": "l", "!": "l"})
# Letters from neighbouring keyboards folded onto Norwegian/Danish ones; æ, ø and å stay as they are.
_FOLD = str.maketrans({"ä": "æ", "ö": "ø", "é": "e", "è": "e", "ê": "e", "á": "a", "à": "a", "â": "a",
                       "ó": "o", "ò": "o", "ô": "o", "ü": "u", "ú": "u", "í": "i", "ì": "i", "’": "'"})
_RUN3 = re.compile(r"(.)\1{2,}")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_LEET_CHARS = re.compile(r"[013457@$€!|]")

WORD, EMOJI, STOP, COMMA, QUOTE = "word", "emoji", "stop", "comma", "quote"


@dataclass(slots=True)
class Token:
    """One token of a message: where it stands in the text and how it may be spelled."""

    kind: str
    start: int
    end: int
    raw: str
    forms: tuple[str, ...] = ()
    capitalised: bool = False
    tags: set[str] = field(default_factory=set)
    sentence: int = 0
    reported: bool = False

    @property
    def norm(self) -> str:
        return self.forms[0] if self.forms else self.raw


def spellings(raw: str) -> tuple[str, ...]:
    """Return the candidate spellings of one word, the plainest first.

    Lower-cases, folds foreign accents, removes apostrophes (so "don't" and "dont" meet), reads
    digits and symbols as letters when the word also has letters, and for a run of three or more
    equal letters tries both two and one of them ("stygggg" → "stygg", "styg").
    """
    base = raw.lower().translate(_FOLD).replace("'", "")
    if base.startswith("@") and len(base) > 1:  # a mention, not a leet "a"
        base = base[1:]
    forms = [base]
    if _LEET_CHARS.search(base) and _HAS_LETTER.search(base):
        forms.append(base.translate(_LEET))
        if "1" in base or "!" in base:
            forms.append(base.translate(_LEET_L))
    out: list[str] = []
    for form in forms:
        for candidate in (form, _RUN3.sub(r"\1\1", form), _RUN3.sub(r"\1", form)):
            if candidate and candidate not in out:
                out.append(candidate)
    return tuple(out)


def tokenise(text: str) -> list[Token]:
    """Return the tokens of ``text`` with their offsets; words carry their candidate spellings."""
    tokens: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or WORD
        raw = m.group()
        if kind == WORD:
            if not any(ch.isalnum() for ch in raw):  # "***" is not a word
                continue
            tokens.append(Token(WORD, m.start(), m.end(), raw, spellings(raw), raw[:1].isupper()))
        elif kind == "emoji":
            tokens.append(Token(EMOJI, m.start(), m.end(), raw, (raw[0],)))
        elif kind == "heart":
            tokens.append(Token(EMOJI, m.start(), m.end(), raw, ("<3",)))
        elif kind == "stop":
            tokens.append(Token(STOP, m.start(), m.end(), raw))
        elif kind == "comma":
            tokens.append(Token(COMMA, m.start(), m.end(), raw))
        else:
            tokens.append(Token(QUOTE, m.start(), m.end(), raw))
    return tokens


def join_spaced(tokens: list[Token], text: str, is_known: Callable[[str], bool]) -> list[Token]:
    """Join letters spaced out one by one ("d r e p", "d3 r 3 p", "d.u.m") into one word.

    A run of short words (one or two characters, most of them one) separated only by spaces,
    dots, dashes or stars is joined when the joined word, or the longest part of the run that can
    be joined, is a word ``is_known`` recognises; otherwise the tokens stay as they were, so
    "i a" or "f u" are not glued together by accident.
    """
    out: list[Token] = []
    i = 0
    n = len(tokens)
    budget = _MAX_RUNS
    while i < n:
        tok = tokens[i]
        if tok.kind != WORD or len(tok.raw) > 2:
            out.append(tok)
            i += 1
            continue
        j = i + 1
        while (j < n and j - i < _MAX_SPACED and tokens[j].kind in (WORD, STOP) and len(tokens[j].raw) <= 2
               and _SPACED_GAP.fullmatch(text[tokens[j - 1].end:tokens[j].start] or " ")):
            j += 1
        # Dots picked up as "stop" tokens inside a run ("d.r.e.p") are separators, not sentence ends.
        run = [t for t in tokens[i:j] if t.kind == WORD]
        joined = None
        if budget > 0 and sum(len(t.raw) == 1 for t in run) >= 2:
            budget -= 1
            joined = _join_longest(run, is_known)
        if joined is None:
            if j - i < _MAX_SPACED:
                # Every part of a run that ended by itself has been tried: skip past it.
                out.extend(tokens[i:j])
                i = j
            else:
                out.append(tok)
                i += 1
            continue
        first, last, merged = joined
        out.extend(t for t in tokens[i:j] if t.end <= run[first].start)
        out.append(merged)
        rest = [t for t in tokens[i:j] if t.start >= run[last].end]
        out.extend(rest)
        i = j
    return out


def _join_longest(run: list[Token], is_known: Callable[[str], bool]) -> tuple[int, int, Token] | None:
    for length in range(len(run), 1, -1):
        for a in range(0, len(run) - length + 1):
            part = run[a:a + length]
            if sum(len(t.raw) == 1 for t in part) < 2:
                continue
            raw = "".join(t.raw for t in part)
            forms = spellings(raw)
            if any(is_known(f) for f in forms):
                merged = Token(WORD, part[0].start, part[-1].end, raw, forms, part[0].capitalised)
                return a, a + length - 1, merged
    return None
