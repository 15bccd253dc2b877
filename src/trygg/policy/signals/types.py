"""The values that go in and out of ``classify``: what the caller knows, and what was noticed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

THREAT = "threat"
SELFHARM = "selfharm"
BULLYING = "bullying"
SEXUAL = "sexual"
EXCLUSION = "exclusion"
ABOUT_ABSENT = "about_absent"
CATEGORIES = (THREAT, SELFHARM, BULLYING, SEXUAL, EXCLUSION, ABOUT_ABSENT)
NONE = "none"
ROLES = ("pupil", "guardian", "staff")


@dataclass(frozen=True, slots=True)
class SignalContext:
    """What the caller knows about a message that its words alone do not say.

    ``absent_names`` are people the message may talk about who are not in the conversation
    (classmates, teachers, other children); ``present_names`` are the conversation's members.
    A name in both counts as present. Names may be first names, full names or role words a
    municipality wants treated like names ("kontaktlæreren"); they are matched case-insensitively,
    also in the possessive ("Emmas", "Jake's"). When ``present_names`` is given, a capitalised
    first name that is in neither list is taken as someone absent.

    ``writer_role`` is "pupil", "guardian" or "staff": adults advising "bare ignorer ham" are not
    excluding anyone. ``is_report_quote`` marks text quoted in a report to an adult (R-SAFE-02):
    nothing in it fires. ``language_hint`` (nb/nn/da/en, e.g. the writer's interface language)
    only settles messages whose words do not show their language.
    """

    absent_names: tuple[str, ...] = ()
    present_names: tuple[str, ...] = ()
    writer_role: str | None = None
    is_report_quote: bool = False
    language_hint: str | None = None

    def __post_init__(self) -> None:
        # Accept any iterable (a set of names, a queryset's values_list) and keep a tuple.
        object.__setattr__(self, "absent_names", tuple(self.absent_names or ()))
        object.__setattr__(self, "present_names", tuple(self.present_names or ()))
        if self.writer_role is not None and self.writer_role not in ROLES:
            raise ValueError(f"writer_role must be one of {ROLES}, not {self.writer_role!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> SignalContext | None:
        """Return a context from a plain mapping (a JSON object), or None for an empty one."""
        if not data:
            return None
        return cls(
            absent_names=_names(data.get("absent_names")),
            present_names=_names(data.get("present_names")),
            writer_role=data.get("writer_role"),
            is_report_quote=bool(data.get("is_report_quote", False)),
            language_hint=data.get("language_hint"),
        )


def _names(value: Iterable[str] | str | None) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where in the text one category was noticed (offsets into the original string) and by
    which rule. Offsets only: a ``Signals`` value never holds any of the message's text."""

    category: str
    start: int
    end: int
    rule: str


@dataclass(frozen=True, slots=True)
class Signals:
    """What ``classify`` noticed in one message."""

    categories: frozenset[str]
    language: str
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def is_none(self) -> bool:
        return not self.categories

    def spans(self, category: str) -> tuple[tuple[int, int], ...]:
        """Return the (start, end) offsets of the evidence for one category, in text order."""
        return tuple(sorted({(e.start, e.end) for e in self.evidence if e.category == category}))

    @property
    def by_category(self) -> dict[str, tuple[tuple[int, int], ...]]:
        return {category: self.spans(category) for category in CATEGORIES if category in self.categories}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form: categories in a fixed order, language, and spans per category."""
        return {
            "categories": [c for c in CATEGORIES if c in self.categories],
            "language": self.language,
            "evidence": {c: [list(span) for span in spans] for c, spans in self.by_category.items()},
        }
