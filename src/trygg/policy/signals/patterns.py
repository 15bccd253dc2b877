"""A small pattern language over tagged tokens, for the rules in ``data/rules.yaml``.

A pattern is a space-separated list of elements, matched inside one clause:

- ``SELF`` a token of class SELF; ``YOU|THIRD`` either; ``=med`` the literal word "med";
- ``SELF?`` optional; ``@VIOLENT`` marks the element negation is checked around (the anchor),
  ``%YOU`` the one the words are aimed at (the target);
- ``~3`` skips up to three tokens; ``!PREP|=for`` asserts the next token is neither a PREP nor
  "for" (or the clause ends);
- ``^`` and ``$`` anchor the match to the start or end of the clause (emoji after the last word
  do not count).

A class may also hold phrases ("hold kjeft"); an element then matches the whole phrase.
Matching is lazy (shortest gaps first) and returns every match start, so the caller can
reject one match (a negation, a game) and still accept a later one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .normalise import Token

TAG, GAP, NOT, START, END = range(5)


@dataclass(frozen=True, slots=True)
class Elem:
    kind: int
    tags: frozenset[str] = frozenset()
    lits: frozenset[str] = frozenset()
    optional: bool = False
    anchor: bool = False
    target: bool = False
    n: int = 0


@dataclass(frozen=True, slots=True)
class Match:
    """Token positions (within the clause) of a match: first, one past the last, the anchor (and
    one past its last token, for a phrase) and the target (-1 when the pattern names none)."""

    start: int
    end: int
    anchor: int
    anchor_end: int
    target: int


def compile_pattern(text: str) -> tuple[Elem, ...]:
    """Return the elements of a pattern string; raise ``ValueError`` on a malformed one."""
    elems: list[Elem] = []
    for raw in text.split():
        if raw == "^":
            elems.append(Elem(START))
        elif raw == "$":
            elems.append(Elem(END))
        elif raw.startswith("~"):
            elems.append(Elem(GAP, n=int(raw[1:])))
        elif raw.startswith("!"):
            alts = raw[1:].split("|")
            elems.append(Elem(NOT, tags=frozenset(a for a in alts if not a.startswith("=")),
                              lits=frozenset(a[1:] for a in alts if a.startswith("="))))
        else:
            optional = raw.endswith("?")
            head = raw[:2]
            anchor = "@" in head
            target = "%" in head
            body = raw.lstrip("@%").rstrip("?")
            if not body:
                raise ValueError(f"empty element in pattern {text!r}")
            alts = body.split("|")
            tags = frozenset(a for a in alts if not a.startswith("="))
            lits = frozenset(a[1:] for a in alts if a.startswith("="))
            elems.append(Elem(TAG, tags, lits, optional, anchor, target))
    if not any(e.kind == TAG and not e.optional for e in elems):
        raise ValueError(f"pattern {text!r} needs at least one required element")
    return tuple(elems)


def required_alternatives(elems: Sequence[Elem]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Return, per required element, the (tags, literals) of which the message must hold one."""
    return [(e.tags, e.lits) for e in elems if e.kind == TAG and not e.optional]


class Clause:
    """The word and emoji tokens of one clause, with the phrase matches found in them."""

    __slots__ = ("tokens", "phrase_ends", "last_word", "first_word")

    def __init__(self, tokens: list[Token], phrase_ends: dict[tuple[str, int], list[int]]):
        self.tokens = tokens
        self.phrase_ends = phrase_ends
        # "$" matches after the last word: emoji that end a message do not end its meaning.
        last = len(tokens)
        while last > 0 and tokens[last - 1].kind == "emoji":
            last -= 1
        self.last_word = last
        # "^" also matches after an implied subject ("[jeg] vil bare dø").
        self.first_word = 1 if tokens and "IMPLIED" in tokens[0].tags else 0

    def lengths(self, elem: Elem, pos: int) -> list[int]:
        """Return how many tokens ``elem`` can cover starting at ``pos`` (empty if it cannot)."""
        tok = self.tokens[pos]
        out: list[int] = []
        if not tok.tags.isdisjoint(elem.tags) or (elem.lits and not elem.lits.isdisjoint(tok.forms)):
            out.append(1)
        if self.phrase_ends:
            for tag in elem.tags:
                more = self.phrase_ends.get((tag, pos))
                if more:
                    out.extend(more)
        return out


def find(elems: tuple[Elem, ...], clause: Clause) -> Iterator[Match]:
    """Yield the first match starting at each position of the clause."""
    n = len(clause.tokens)
    starts = range(n)
    if elems and elems[0].kind == START:
        starts = range(clause.first_word + 1)
    for s in starts:
        found = _match(elems, 0, s, clause, n, s, (-1, -1, -1))
        if found is not None:
            yield found


def _match(elems: tuple[Elem, ...], i: int, pos: int, clause: Clause, n: int, start: int,
           marks: tuple[int, int, int]) -> Match | None:
    if i == len(elems):
        anchor, anchor_end, target = marks
        if anchor < 0:
            anchor, anchor_end = start, start + 1
        return Match(start, pos, anchor, anchor_end, target)
    e = elems[i]
    if e.kind == START:
        return _match(elems, i + 1, pos, clause, n, start, marks) if pos <= clause.first_word else None
    if e.kind == END:
        return _match(elems, i + 1, pos, clause, n, start, marks) if pos >= clause.last_word else None
    if e.kind == NOT:
        if pos < n:
            tok = clause.tokens[pos]
            if not tok.tags.isdisjoint(e.tags) or (e.lits and not e.lits.isdisjoint(tok.forms)):
                return None
        return _match(elems, i + 1, pos, clause, n, start, marks)
    if e.kind == GAP:
        for k in range(0, e.n + 1):
            if pos + k > n:
                break
            found = _match(elems, i + 1, pos + k, clause, n, start, marks)
            if found is not None:
                return found
        return None
    if pos < n:
        for length in clause.lengths(e, pos):
            new = marks
            if e.anchor:
                new = (pos, pos + length, new[2])
            if e.target:
                new = (new[0], new[1], pos)
            found = _match(elems, i + 1, pos + length, clause, n, start, new)
            if found is not None:
                return found
    if e.optional:
        return _match(elems, i + 1, pos, clause, n, start, marks)
    return None
