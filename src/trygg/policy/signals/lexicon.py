"""Read the word lists under ``data/`` and spell every entry the ways children write it.

Each language file names word classes (``SELF``, ``VIOLENT``, ``INSULT_N`` …) and lists their
members as short specs:

- ``drep~v``: a stem with the regular endings of its kind (``v`` Norwegian/Danish verb without
  its past, ``vp`` with its past, ``n`` noun, ``a`` adjective, ``ev``/``evp``/``en``/``ea`` the
  English ones), so "drep~v" also stands for drepe, dreper, drepes, drepende;
- ``selvmord*``: any word that starts so (at least four letters before the star);
- ``hold kjeft``: a phrase, each word of which may itself be a spec;
- ``rar@nb,nn``: only when the message is detected as one of those languages (a false friend:
  Danish "rar" is kind, Norwegian "rar" is weird).

Every surface form is also entered as children write it without æ, ø and å (``ae``/``a``/``e``,
``oe``/``o``, ``aa``/``a``) and with doubled consonants written single ("stygg" → "styg"), unless
that spelling is one of the common words listed in ``lang.yaml`` (so "dø" never becomes "do").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
LANGUAGES = ("nb", "nn", "da", "en")

_SUFFIXES: dict[str, tuple[str, ...]] = {
    "v": ("", "e", "er", "es", "r", "ar", "ende"),
    "vp": ("", "e", "er", "es", "r", "ar", "ende", "te", "et", "de", "t", "a", "ede", "ete", "ta", "ast"),
    "n": ("", "en", "et", "er", "ene", "erne", "a", "ar", "ane", "ne", "n", "s", "e", "ens", "ers", "ere"),
    "a": ("", "e", "t", "ere", "est", "este", "re", "ste", "aste", "are"),
    "ev": ("", "s", "es", "ing", "in"),
    "evp": ("", "s", "es", "ing", "in", "ed", "d"),
    "en": ("", "s", "es"),
    "ea": ("", "er", "est", "y"),
}
_VOWELS = frozenset("aeiouyæøå")
_ASCII = {"æ": ("ae", "a", "e"), "ø": ("oe", "o"), "å": ("aa", "a")}
_DOUBLE = re.compile(r"([bdfgklmnprstv])\1")
_SPEC = re.compile(r"^(?P<word>[^~*@]+)(?:~(?P<flag>[a-z]+))?(?P<glob>\*)?(?:@(?P<langs>[a-z,]+))?$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One meaning of a spelling: the class it belongs to, and the languages it is limited to."""

    tag: str
    langs: frozenset[str] | None
    source: str


@dataclass
class Lexicon:
    """Every known spelling with its classes, the prefix globs, and the phrases by first word."""

    words: dict[str, list[Entry]] = field(default_factory=dict)
    globs: dict[str, list[tuple[str, Entry]]] = field(default_factory=dict)
    # Phrases by their first two words: a phrase is looked up once per pair of adjacent tokens.
    phrases: dict[tuple[str, str], list[tuple[tuple[frozenset[str], ...], Entry]]] = field(default_factory=dict)
    by_length: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    stop: frozenset[str] = frozenset()
    # The language files a spelling appears in (not "common"): a word only Danish children write
    # ("ulækker", "kæft") is evidence that the message is Danish.
    sources: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_known(self, form: str) -> bool:
        return form in self.words or bool(self.glob_entries(form))

    def glob_entries(self, form: str) -> list[Entry]:
        found = []
        for prefix, entry in self.globs.get(form[:4], ()):
            if form.startswith(prefix):
                found.append(entry)
        return found

    def starred(self, form: str) -> list[str]:
        """Return the known words that a starred-out form ("f*ck", "h**e") can stand for."""
        if not form[:1].isalpha():
            return []
        pattern = re.compile("^" + re.escape(form).replace(r"\*", ".") + "$")
        return [w for w in self.by_length.get((form[0], len(form)), ()) if pattern.match(w)]


def spell_out(word: str, flag: str | None) -> list[str]:
    """Return the inflected forms of one spec's word (all of them lower case)."""
    word = word.lower()
    if not flag:
        return [word]
    try:
        suffixes = _SUFFIXES[flag]
    except KeyError as exc:
        raise ValueError(f"unknown inflection flag ~{flag} on {word!r}") from exc
    # A stem ending in the suffix's first letter does not double it ("banke" + "e").
    forms = []
    for suffix in suffixes:
        if suffix and word.endswith(suffix[0]) and flag in ("v", "vp", "n", "a"):
            forms.append(word + suffix[1:])
        if (flag in ("v", "vp", "n", "a") and suffix[:1] in _VOWELS and len(word) >= 3
                and word[-1] not in _VOWELS and word[-2] in _VOWELS and word[-1] != word[-2]):
            forms.append(word + word[-1] + suffix)  # grim → grimme, grimmeste (the consonant doubles)
        if suffix[:1] in ("i", "e") and word.endswith("e") and flag in ("ev", "evp", "ea"):
            forms.append(word[:-1] + suffix)  # invite → inviting, invited
            continue
        forms.append(word + suffix)
    return list(dict.fromkeys(forms))


def variants(form: str, stop: frozenset[str]) -> set[str]:
    """Return ``form`` and the ways it is written without æ/ø/å or with single consonants."""
    out = {form}
    letters = [ch for ch in _ASCII if ch in form]
    if letters:
        for choice in itertools.product(*(_ASCII[ch] for ch in letters)):
            spelled = form
            for ch, repl in zip(letters, choice, strict=True):
                spelled = spelled.replace(ch, repl)
            out.add(spelled)
    if len(form) >= 5:
        out |= {_DOUBLE.sub(r"\1", f) for f in list(out)}
    return {v for v in out if v == form or v not in stop}


def _parse(spec: str) -> tuple[str, str | None, bool, frozenset[str] | None]:
    m = _SPEC.match(spec.strip())
    if not m:
        raise ValueError(f"bad word spec {spec!r}")
    langs = frozenset(m["langs"].split(",")) if m["langs"] else None
    return m["word"].strip(), m["flag"], bool(m["glob"]), langs


# libyaml's loader where PyYAML was built with it: the same safe loading, about ten times faster,
# which is most of a process's first-message cost.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(name: str) -> dict:
    return yaml.load((DATA_DIR / name).read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}  # noqa: S506


def build_lexicon(stop: frozenset[str]) -> Lexicon:
    """Read the class lists of every language file and of ``common.yaml`` into one lexicon."""
    lex = Lexicon(stop=stop)
    for source in (*LANGUAGES, "common"):
        data = load_yaml(f"{source}.yaml")
        for tag, specs in (data.get("classes") or {}).items():
            for spec in specs or ():
                _add(lex, str(tag), str(spec), source)
    for (surface, entries) in lex.words.items():
        if surface[:1].isalpha():
            lex.by_length.setdefault((surface[0], len(surface)), []).append(surface)
        # The same class may arrive from several files; keep one entry per (class, languages).
        lex.words[surface] = list(dict.fromkeys(entries))
        langs = frozenset(e.source for e in entries if e.source in LANGUAGES)
        if langs and surface not in stop:
            lex.sources[surface] = langs
    return lex


def _add(lex: Lexicon, tag: str, spec: str, source: str) -> None:
    if " " in spec.strip():
        parts = spec.split()
        langs = None
        if "@" in parts[-1]:
            parts[-1], langs_text = parts[-1].split("@", 1)
            langs = frozenset(langs_text.split(","))
        elements = []
        for part in parts:
            word, flag, _glob, _ = _parse(part)
            forms: set[str] = set()
            for f in spell_out(word, flag):
                forms |= variants(f, lex.stop)
            elements.append(frozenset(forms))
        entry = Entry(tag, langs, source)
        for first in elements[0]:
            for second in elements[1]:
                lex.phrases.setdefault((first, second), []).append((tuple(elements), entry))
        return
    word, flag, glob, langs = _parse(spec)
    entry = Entry(tag, langs, source)
    if glob:
        if len(word) < 4:
            raise ValueError(f"a prefix needs at least four letters: {spec!r}")
        for prefix in variants(word.lower(), lex.stop):
            lex.globs.setdefault(prefix[:4], []).append((prefix, entry))
        return
    for form in spell_out(word, flag):
        for spelled in variants(form, lex.stop):
            lex.words.setdefault(spelled, []).append(entry)
