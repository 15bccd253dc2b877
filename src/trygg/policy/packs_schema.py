"""The schema of a policy pack (one YAML file per guideline document) and its loader.

A pack that does not match is refused at startup with the file name and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LEVELS = ("enforce", "workflow", "nudge", "inform")
PARAM_TYPES = ("int", "float", "bool", "str", "time", "list", "schedule", "choice")
REQUIREMENT_ID = re.compile(r"^R-[A-Z0-9]+-\d{2}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The roles of ``PersonFacts.roles``; a rule's ``roles`` say whom the rulebook shows it to.
ROLES = ("pupil", "guardian", "teacher", "leader", "union_rep", "safety_rep", "admin", "case_handler")


class PackError(Exception):
    """A pack file is broken; the message names the file and the reason."""


class Localised(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nb: str = Field(min_length=1)
    da: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ParamModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["int", "float", "bool", "str", "time", "list", "schedule", "choice"]
    default: Any
    min: float | None = None
    max: float | None = None
    choices: list[Any] | None = None
    description: str = ""

    @model_validator(mode="after")
    def default_is_valid(self) -> ParamModel:
        validate_value(self, self.default)
        return self


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_.-]+$")
    requirements: list[str] = Field(min_length=1)
    level: Literal["enforce", "workflow", "nudge", "inform"]
    title: Localised
    quote: str = Field(min_length=1)
    reason: Localised
    # The reason in words for one kind of person (``pupil``, ``guardian``, ``staff``), where the
    # general one would speak to the wrong person (R-CHAT-02: a teacher is not told to write to a teacher).
    reason_for: dict[Literal["pupil", "guardian", "staff"], Localised] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list)
    logic: str | None = None
    params: dict[str, ParamModel] = Field(default_factory=dict)
    roles: list[str] = Field(default_factory=list)

    @field_validator("requirements")
    @classmethod
    def requirement_ids(cls, value: list[str]) -> list[str]:
        for req in value:
            if not REQUIREMENT_ID.match(req):
                raise ValueError(f"{req!r} is not a requirement ID like R-CHAT-02")
        return value

    @field_validator("roles")
    @classmethod
    def known_roles(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown roles {unknown!r}; roles are {', '.join(ROLES)}")
        return value

    @model_validator(mode="after")
    def logic_needs_actions(self) -> RuleModel:
        if self.logic and not self.actions:
            raise ValueError("a rule with logic must name the actions it decides")
        if self.actions and not self.logic:
            raise ValueError("a rule that names actions must name its logic")
        return self


class SourceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    language: Literal["nb", "nn", "da", "en"]
    title: str = Field(min_length=1)


class PackModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: Localised
    source: SourceModel | None = None
    rules: list[RuleModel] = Field(min_length=1)


@dataclass(frozen=True)
class ParamSpec:
    type: str
    default: Any
    min: float | None
    max: float | None
    choices: tuple[Any, ...] | None
    description: str


@dataclass(frozen=True)
class RuleSpec:
    id: str
    pack: str
    requirements: tuple[str, ...]
    level: str
    actions: tuple[str, ...]
    logic: str | None
    quote: str
    source_file: str
    params: dict[str, ParamSpec]
    reason: dict[str, str]
    title: dict[str, str]
    roles: tuple[str, ...]
    reason_for: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def enforced(self) -> bool:
        return self.level == "enforce"


@dataclass(frozen=True)
class Pack:
    id: str
    title: dict[str, str]
    source_file: str
    source_owner: str
    source_language: str
    source_title: str
    rules: tuple[RuleSpec, ...]


def validate_value(spec: Any, value: Any) -> Any:
    """Return ``value`` if it fits the parameter ``spec``, else raise ``ValueError`` saying why."""
    kind = spec.type
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
    elif kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
    elif kind == "time":
        if not isinstance(value, str) or not TIME_RE.match(value):
            raise ValueError(f"expected a time HH:MM, got {value!r}")
    elif kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of text values, got {value!r}")
        if spec.choices is not None:
            unknown = [v for v in value if v not in spec.choices]
            if unknown:
                raise ValueError(f"unknown values {unknown!r}; allowed: {list(spec.choices)!r}")
    elif kind == "choice":
        if spec.choices is None or value not in spec.choices:
            raise ValueError(f"{value!r} is not one of {list(spec.choices or [])!r}")
    elif kind == "schedule":
        validate_schedule(value)
    if kind in ("int", "float") and spec.min is not None and value < spec.min:
        raise ValueError(f"{value!r} is below the minimum {spec.min:g}")
    if kind in ("int", "float") and spec.max is not None and value > spec.max:
        raise ValueError(f"{value!r} is above the maximum {spec.max:g}")
    return value


def validate_schedule(value: Any) -> None:
    """A weekly schedule: ``{"mon": ["08:15", "14:30"], ...}``; a missing day has no hours."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a weekly schedule like {{mon: [08:15, 14:30]}}, got {value!r}")
    for day, span in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"{day!r} is not a weekday ({', '.join(WEEKDAYS)})")
        if span is None:
            continue
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(t, str) and TIME_RE.match(t) for t in span)
        ):
            raise ValueError(f"{day}: expected [start, end] as HH:MM, got {span!r}")
        if span[0] >= span[1]:
            raise ValueError(f"{day}: the start {span[0]} is not before the end {span[1]}")


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_pack_file(path: Path) -> Pack:
    """Read and validate one pack; raise ``PackError`` with the file and reason."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PackError(f"{path.name}: cannot read pack: {exc}") from exc
    try:
        model = PackModel.model_validate(raw)
    except ValidationError as exc:
        raise PackError(f"{path.name}: {_explain(exc)}") from exc
    if model.id != path.stem:
        raise PackError(f"{path.name}: pack id {model.id!r} must match the file name {path.stem!r}")
    rules = tuple(
        RuleSpec(
            id=r.id,
            pack=model.id,
            requirements=tuple(r.requirements),
            level=r.level,
            actions=tuple(r.actions),
            logic=r.logic,
            quote=r.quote,
            source_file=model.source.file if model.source else "",
            params={
                name: ParamSpec(p.type, p.default, p.min, p.max, tuple(p.choices) if p.choices else None,
                                p.description)
                for name, p in r.params.items()
            },
            reason=r.reason.model_dump(),
            title=r.title.model_dump(),
            roles=tuple(r.roles),
            reason_for={who: text.model_dump() for who, text in r.reason_for.items()},
        )
        for r in model.rules
    )
    for spec in rules:
        if not spec.id.startswith(model.id + "."):
            raise PackError(f"{path.name}: rule id {spec.id!r} must start with the pack id {model.id!r}.")
    return Pack(
        id=model.id,
        title=model.title.model_dump(),
        source_file=model.source.file if model.source else "",
        source_owner=model.source.owner if model.source else "Trygg",
        source_language=model.source.language if model.source else "en",
        source_title=model.source.title if model.source else "Trygg",
        rules=rules,
    )
