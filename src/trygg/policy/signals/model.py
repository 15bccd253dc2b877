"""Load the data files once per process into the structures ``classify`` runs on."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .lexicon import DATA_DIR, LANGUAGES, Lexicon, build_lexicon, load_yaml
from .patterns import TAG, Elem, compile_pattern, required_alternatives
from .types import CATEGORIES

# Tags the classifier itself gives, beside the ones the data files define.
DYNAMIC_TAGS = frozenset({"WORD", "EMOJI", "MASKED", "NAME", "NAME_ABSENT", "NAME_PRESENT", "NAME_GUESS"})


@dataclass(frozen=True)
class Rule:
    id: str
    categories: tuple[str, ...]
    elems: tuple[Elem, ...]
    required: tuple[tuple[frozenset[str], frozenset[str]], ...]
    neg: bool = True
    unless: tuple[str, ...] = ()
    joke: str | None = None
    reported: bool = False
    needs: frozenset[str] = frozenset()
    guard_prep: bool = False
    not_roles: frozenset[str] = frozenset()


@dataclass
class Model:
    lexicon: Lexicon
    markers: dict[str, dict[str, float]]
    derived: dict[str, frozenset[str]]
    scopes: dict[str, str]
    idioms: list[tuple[tuple[Elem, ...], tuple[tuple[frozenset[str], frozenset[str]], ...]]]
    report: list[tuple[tuple[Elem, ...], tuple[tuple[frozenset[str], frozenset[str]], ...]]]
    vocative_allowed: frozenset[str]
    vocative_fire: list[tuple[frozenset[str], frozenset[str]]]
    absent_negative: frozenset[str]
    absent_categories: frozenset[str]
    rules: list[Rule]
    names: frozenset[str]
    expands: dict[str, frozenset[str]] = field(default_factory=dict)
    # Rules by one class (or "=word") a message must hold for them to match: a message is only
    # tried against the rules its words could start.
    rule_index: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # (head class or None for any word, tail class, class of the compound): "dritt" + "unge".
    compounds: tuple[tuple[str | None, str, str], ...] = ()
    cues: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)


def _cues() -> dict[str, tuple[re.Pattern[str], ...]]:
    data = load_yaml("lang.yaml").get("cues") or {}
    return {lang: tuple(re.compile(c) for c in data.get(lang) or ()) for lang in LANGUAGES}


def _markers() -> tuple[dict[str, dict[str, float]], frozenset[str]]:
    data = load_yaml("lang.yaml")
    markers: dict[str, dict[str, float]] = {}
    words: set[str] = set(data.get("guard") or ())
    for lang in LANGUAGES:
        table: dict[str, float] = {}
        for weight, key in ((1.0, "weak"), (2.0, "strong")):
            for word in data[lang].get(key) or ():
                word = str(word).lower()
                table[word] = max(table.get(word, 0.0), weight)
                words.add(word)
        markers[lang] = table
    return markers, frozenset(words)


@functools.cache
def load_model() -> Model:
    """Return the compiled model (built on first use, then kept for the life of the process)."""
    markers, stop = _markers()
    lexicon = build_lexicon(stop)
    data = load_yaml("rules.yaml")
    derived = {str(k): frozenset(map(str, v)) for k, v in (data.get("derived") or {}).items()}
    # For each base tag, the derived tags it also stands for (so a phrase tagged PERSON_N also
    # matches TARGET).
    expands: dict[str, set[str]] = {}
    for name, members in derived.items():
        for member in members:
            expands.setdefault(member, set()).add(name)
    known = _known_tags(lexicon) | set(derived) | DYNAMIC_TAGS
    rules = [_rule(spec, known) for spec in data.get("rules") or ()]
    vocative = data.get("vocative") or {}
    fire = []
    for group in vocative.get("fire") or ():
        need = frozenset(str(t) for t in group if not str(t).startswith("-"))
        block = frozenset(str(t)[1:] for t in group if str(t).startswith("-"))
        fire.append((need, block))
    absent = data.get("about_absent") or {}
    names = frozenset(
        line.strip().lower()
        for line in (DATA_DIR / "names.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    model = Model(
        lexicon=lexicon,
        markers=markers,
        derived=derived,
        scopes={str(k): str(v) for k, v in (data.get("scopes") or {}).items()},
        idioms=[_with_required(_checked(compile_pattern(p), known, p)) for p in data.get("idioms") or ()],
        report=[_with_required(_checked(compile_pattern(p), known, p)) for p in data.get("report") or ()],
        vocative_allowed=frozenset(vocative.get("allowed") or ()),
        vocative_fire=fire,
        absent_negative=frozenset(absent.get("negative") or ()),
        absent_categories=frozenset(absent.get("categories") or ()),
        rules=rules,
        names=names,
        expands={k: frozenset(v) for k, v in expands.items()},
        cues=_cues(),
        rule_index=_index(rules),
        compounds=tuple((c[0], str(c[1]), str(c[2])) for c in data.get("compounds") or ()),
    )
    compound_tags = {t for c in model.compounds for t in c if t}
    unknown = (model.vocative_allowed | model.absent_negative | set(model.scopes) | compound_tags) - known
    if unknown:
        raise ValueError(f"rules.yaml names unknown classes: {sorted(unknown)}")
    return model


def _with_required(elems: tuple[Elem, ...]) -> tuple[tuple[Elem, ...], tuple[tuple[frozenset[str], frozenset[str]],
                                                                            ...]]:
    return elems, tuple(required_alternatives(elems))


def _index(rules: list[Rule]) -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for number, rule in enumerate(rules):
        required = [e for e in rule.elems if e.kind == TAG and not e.optional]
        key = next((e for e in required if e.anchor), required[-1])
        for name in (*key.tags, *("=" + lit for lit in key.lits)):
            index.setdefault(name, []).append(number)
    return {name: tuple(numbers) for name, numbers in index.items()}


def _known_tags(lexicon: Lexicon) -> set[str]:
    tags = {e.tag for entries in lexicon.words.values() for e in entries}
    tags |= {e.tag for entries in lexicon.globs.values() for _, e in entries}
    tags |= {e.tag for entries in lexicon.phrases.values() for _, e in entries}
    return tags


def _checked(elems: tuple[Elem, ...], known: set[str], text: str) -> tuple[Elem, ...]:
    missing = {t for e in elems if e.kind == TAG for t in e.tags} - known
    if missing:
        raise ValueError(f"pattern {text!r} names unknown classes: {sorted(missing)}")
    return elems


def _rule(spec: dict, known: set[str]) -> Rule:
    cats = spec["cat"]
    categories = tuple(cats) if isinstance(cats, list) else (cats,)
    for category in categories:
        if category not in CATEGORIES:
            raise ValueError(f"rule {spec['id']}: unknown category {category!r}")
    elems = _checked(compile_pattern(spec["seq"]), known, spec["seq"])
    joke = spec.get("joke")
    return Rule(
        id=str(spec["id"]),
        categories=categories,
        elems=elems,
        required=tuple(required_alternatives(elems)),
        neg=bool(spec.get("neg", True)),
        unless=tuple(spec.get("unless") or ()),
        joke=None if not joke else ("mild" if joke == "mild" else "all"),
        reported=bool(spec.get("reported", False)),
        needs=frozenset(spec.get("needs") or ()),
        guard_prep=bool(spec.get("guard_prep", False)),
        not_roles=frozenset(spec.get("not_roles") or ()),
    )
