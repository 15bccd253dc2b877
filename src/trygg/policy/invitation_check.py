"""Finding personal data in an invitation before it is sent (R-MEET-12), and health words (R-MEET-19).

Pure functions without database access: the policy rule ``meetings.generic_invitation`` calls
``find_personal_data`` with the names the caller read from the directory. Each finding says
what kind of data it is and where it is (``start``/``end`` offsets in that field), so the page
can point at it and the teacher can write a generic invitation instead.

Trade-offs, in plain words:
- Names are matched as whole words with the inflections Norwegian and Danish give them (genitive
  -s, 's, definite and plural endings). A name that is also an everyday word ("Live", "Even",
  "Berg") is only matched together with another part of that person's name, or every English
  "live" would be refused.
- A Danish CPR number has had no mod-11 check since 2007, so any ten digits that start with a
  valid date count. Eleven digits that start with a valid date (DDMMYY, D- and H-numbers too)
  count as a fødselsnummer whatever their check digits: a mistyped number still identifies the
  pupil to anyone who corrects one digit, and an invitation has no other use for such a number.
- Phone numbers are eight digits (Norway and Denmark), alone or in the usual groups, with or
  without +47/+45. Dates and times are not phone numbers: dots and colons do not join groups.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"

NAME = "name"
NATIONAL_ID = "national_id"
PHONE = "phone"
EMAIL = "email"
HEALTH = "health"

# Endings a name takes in running nb/nn/da text: "Emmas", "Emma's", "Hansens", "Solheimene".
NAME_ENDINGS = r"(?:['’]s|['’]|s|es|en|ens|ene|enes|et|ets|a|as|e|er|ers)?"
# Endings a health word takes: "sykdommen" is covered by the stem "sykdom*"; these are for
# words that are listed whole ("lege" → "legen", "astma" → "astmaen").
WORD_ENDINGS = r"(?:en|et|a|er|ene|e|r|s|ar|ane|ens|ets)?"

# Name parts that are also common words in nb, nn, da or en. Matched only as part of a full name.
COMMON_WORD_NAMES = frozenset(
    {
        "live", "even", "lie", "vik", "berg", "holm", "strand", "lund", "hagen", "aas", "moen", "dahl",
        "lunde", "bakken", "myhre", "solberg", "haugen", "storm", "sol", "dal", "ask", "bo", "hans",
        "mark", "will", "may", "rose", "grace", "hope", "faith", "frank",
    }
)
MIN_NAME_PART = 2


@dataclass(frozen=True)
class Finding:
    type: str
    field: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------- identity numbers

FNR_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
FNR_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _valid_date(day: int, month: int, year2: int) -> bool:
    # The century is not in the number's first six digits; a date valid in either century counts.
    for century in (1900, 2000):
        try:
            date(century + year2, month, day)
            return True
        except ValueError:
            continue
    return False


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    return None if check == 10 else check


def is_fodselsnummer(number: str) -> bool:
    """Return True for a Norwegian fødselsnummer, D-number or H-number with both check digits right."""
    if len(number) != 11 or not number.isdigit():
        return False
    day, month, year2 = int(number[0:2]), int(number[2:4]), int(number[4:6])
    if day > 40:  # D-number: the day plus 40
        day -= 40
    if 40 < month <= 52:  # H-number: the month plus 40
        month -= 40
    elif 80 < month <= 92:  # synthetic test numbers (Skatteetaten): the month plus 80
        month -= 80
    if not _valid_date(day, month, year2):
        return False
    k1 = _check_digit(number[:9], FNR_WEIGHTS_1)
    if k1 is None or k1 != int(number[9]):
        return False
    k2 = _check_digit(number[:10], FNR_WEIGHTS_2)
    return k2 is not None and k2 == int(number[10])


def starts_with_birth_date(number: str) -> bool:
    """Return True for eleven digits whose first six form a date DDMMYY (as a fødselsnummer, D- or
    H-number), whether or not the check digits are right."""
    if len(number) != 11 or not number.isdigit():
        return False
    day, month, year2 = int(number[0:2]), int(number[2:4]), int(number[4:6])
    if day > 40:
        day -= 40
    if 40 < month <= 52:
        month -= 40
    elif 80 < month <= 92:
        month -= 80
    return _valid_date(day, month, year2)


def is_cpr(number: str) -> bool:
    """Return True for a Danish CPR number: ten digits that start with a valid date DDMMYY."""
    if len(number) != 10 or not number.isdigit():
        return False
    return _valid_date(int(number[0:2]), int(number[2:4]), int(number[4:6]))


# A run of digits in the groups people write numbers in; "+47", "0045" prefixes; one space or
# hyphen between groups. Dots, slashes and colons end a run, so "12.03.2026" and "14:30" stay apart.
NUMBER_RUN = re.compile(r"(?<![\w+])(?:\+|00)?\d+(?:[ \-\u00a0]\d+)*(?![\w])")
COUNTRY_CODES = ("47", "45")


def _numbers(text: str, field: str) -> list[Finding]:
    found: list[Finding] = []
    for match in NUMBER_RUN.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        has_prefix = raw.startswith(("+", "00"))
        if has_prefix and raw.startswith("00"):
            digits = digits[2:]
        kind: str | None = None
        if not has_prefix and len(digits) == 11 and starts_with_birth_date(digits):
            kind = NATIONAL_ID
        elif not has_prefix and len(digits) == 10 and is_cpr(digits):
            kind = NATIONAL_ID
        elif len(digits) == 8 and not has_prefix and not _looks_like_year_range(raw):
            kind = PHONE
        elif len(digits) == 10 and digits[:2] in COUNTRY_CODES:
            kind = PHONE
        if kind:
            found.append(Finding(kind, field, match.start(), match.end(), raw))
    return found


def _looks_like_year_range(raw: str) -> bool:
    """Return True for "2026-2027" or "2026 2027": two years, not a phone number."""
    parts = re.split(r"[ \-\u00a0]", raw)
    return len(parts) == 2 and all(len(p) == 4 and p[:2] in ("19", "20") for p in parts)


# ------------------------------------------------------------------------- e-mail

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def _emails(text: str, field: str) -> list[Finding]:
    return [Finding(EMAIL, field, m.start(), m.end(), m.group(0)) for m in EMAIL_RE.finditer(text)]


# ------------------------------------------------------------------------- names


@functools.lru_cache(maxsize=64)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    full: set[str] = set()
    single: set[str] = set()
    for name in names:
        parts = [p for p in re.split(r"\s+", name.strip()) if p]
        if not parts:
            continue
        if len(parts) > 1:
            full.add(r"\s+".join(re.escape(p) for p in parts))
            # "Kari Nordmann" is also written "Nordmann, Kari".
            full.add(re.escape(parts[-1]) + r",?\s+" + re.escape(parts[0]))
        for part in parts:
            for piece in part.split("-"):
                if len(piece) >= MIN_NAME_PART and piece.lower() not in COMMON_WORD_NAMES:
                    single.add(re.escape(piece))
            if "-" in part:
                single.add(re.escape(part))
    alternatives = sorted(full, key=len, reverse=True) + sorted(single, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")" + NAME_ENDINGS + r"(?!\w)", re.IGNORECASE)


def _names(text: str, field: str, names: Iterable[str]) -> list[Finding]:
    pattern = _name_pattern(tuple(sorted({n for n in names if n})))
    if pattern is None:
        return []
    return [Finding(NAME, field, m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


# ------------------------------------------------------------------------- health words


@functools.lru_cache(maxsize=1)
def health_words() -> tuple[str, ...]:
    """Return the maintained health word list (nb, nn, da, en) from ``data/health_words.txt``."""
    words: list[str] = []
    for line in (DATA_DIR / "health_words.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        _lang, _sep, word = line.partition(" ")
        if word:
            words.append(word.strip().lower())
    return tuple(dict.fromkeys(words))


@functools.lru_cache(maxsize=32)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives = []
    for word in words:
        word = word.strip().lower()
        if not word:
            continue
        if word.endswith("*"):
            alternatives.append(re.escape(word[:-1]) + r"\w*")
        else:
            alternatives.append(r"\s+".join(re.escape(p) for p in word.split()) + WORD_ENDINGS)
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def find_health_words(text: str, field: str = "text", extra_words: Iterable[str] = ()) -> list[Finding]:
    """Return the health words in ``text`` (the maintained list plus ``extra_words``)."""
    pattern = _word_pattern(tuple(sorted(set(health_words()) | {w.lower() for w in extra_words if w})))
    if pattern is None or not text:
        return []
    return [Finding(HEALTH, field, m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


# ------------------------------------------------------------------------- the check


def find_personal_data(
    fields: Mapping[str, str], names: Iterable[str] = (), extra_words: Iterable[str] = ()
) -> list[Finding]:
    """Return every finding in ``fields`` ({field name: text}), in field order and then by position.

    Overlapping findings keep the first by position and the longest at one position, so a phone
    number inside an e-mail address is reported once, as the e-mail address.
    """
    names = tuple(names)
    result: list[Finding] = []
    for field, text in fields.items():
        if not text:
            continue
        found = (
            _emails(text, field)
            + _numbers(text, field)
            + _names(text, field, names)
            + find_health_words(text, field, extra_words)
        )
        found.sort(key=lambda f: (f.start, -(f.end - f.start)))
        end = -1
        for finding in found:
            if finding.start >= end:
                result.append(finding)
                end = finding.end
    return result
