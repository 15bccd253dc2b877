"""The policy engine: every action in Trygg asks ``decide()`` before it writes.

Semantics, after Open Policy Agent: each rule that covers an action returns allow,
deny, or nothing (plus obligations). Deny wins over allow; an action that no rule
allows is denied (fail closed). Rule logic is Python registered by name in
``policy/rules/``; packs (YAML, one per guideline document) say which logic serves
which action, with its parameters, source quote and localised reasons.

The hot path (``decide``) touches no database: a municipality's active rules are
compiled once per configuration change into ``action -> [(rule, fn, params)]``.

Parameters resolve as pack default, then municipality override, then (when the request's
``context["school_id"]`` or ``target.school_id`` names a school with its own values, such as
school hours) the school's override; rule functions just read ``params``. A reason text may
name parameters ("below grade {min_grade}"): they are filled from the values in force, and
from what the logic passes to ``deny(...)``.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trygg.policy.packs_schema import PackError, RuleSpec, load_pack_file

Verdict = Literal["allow", "deny"]
LANGS = ("nb", "da", "en")
PACK_DIR = Path(__file__).resolve().parent / "packs"
# Packs named core_* are Trygg's own baseline access control (R-PRIV-01, R-STAFF-02): always active.
CORE_PREFIX = "core"


def is_core_pack(pack_id: str) -> bool:
    return pack_id == CORE_PREFIX or pack_id.startswith(CORE_PREFIX + "_")


# Request, FiredRule and Obligation are made on every decision; plain slotted dataclasses build in a
# third of the time of frozen ones. Treat them as read-only all the same.
@dataclass(slots=True)
class Obligation:
    """Something the caller must do if it goes ahead: hold a notice, show a nudge, open a checklist."""

    kind: str
    rule_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Effect:
    """What one rule says about one request."""

    verdict: Verdict | None
    obligations: tuple[Obligation, ...] = ()
    reason_params: Mapping[str, Any] = field(default_factory=dict)


ALLOW = Effect("allow")
DENY = Effect("deny")


def allow(**reason_params: Any) -> Effect:
    return Effect("allow", (), reason_params) if reason_params else ALLOW


def deny(**reason_params: Any) -> Effect:
    return Effect("deny", (), reason_params) if reason_params else DENY


def oblige(kind: str, verdict: Verdict | None = None, **data: Any) -> Effect:
    """Return an effect that asks the caller to do ``kind``; the rule id is filled in by the engine."""
    return Effect(verdict, (Obligation(kind, "", data),))


@dataclass(slots=True)
class Request:
    """One question to the engine. ``actor`` is a ``PersonFacts`` (or anything rules read like one)."""

    action: str
    actor: Any
    target: Any = None
    context: Mapping[str, Any] = field(default_factory=dict)


RuleFn = Callable[[Request, Mapping[str, Any]], Effect | None]


@dataclass(slots=True)
class FiredRule:
    rule: RuleSpec
    verdict: Verdict | None
    reason_params: Mapping[str, Any] = field(default_factory=dict)
    # The rule's parameters in force, so a reason can say "{min_grade}" without the logic passing it.
    params: Mapping[str, Any] = field(default_factory=dict)

    def reason(self, lang: str = "en", audience: str = "") -> str:
        """Return the reason in ``lang``, in the words the pack has for ``audience`` (pupil,
        guardian, staff) if it has any, else the general words."""
        own = self.rule.reason_for.get(audience) if audience else None
        text = (own or {}).get(lang) or self.rule.reason.get(lang) or self.rule.reason.get("en") or ""
        if "{" not in text:
            return text
        try:
            return text.format_map({**self.params, **self.reason_params})
        except (KeyError, IndexError, ValueError, AttributeError):
            return text


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    allowed: bool
    fired: tuple[FiredRule, ...]
    obligations: tuple[Obligation, ...] = ()
    # Who asked, as the packs word reasons for them: "pupil", "guardian", "staff" (or "").
    audience: str = ""

    @property
    def denied_by(self) -> FiredRule | None:
        for fired in self.fired:
            if fired.verdict == "deny":
                return fired
        return None

    @property
    def rule_ids(self) -> list[str]:
        return [f.rule.id for f in self.fired]

    @property
    def requirements(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.fired:
            for req in f.rule.requirements:
                seen.setdefault(req, None)
        return list(seen)

    def reason(self, lang: str = "en") -> str:
        """Return the reason a person is shown: the first denying rule's, else the first rule's."""
        fired = self.denied_by or (self.fired[0] if self.fired else None)
        return fired.reason(lang, self.audience) if fired else ""

    def reasons(self, lang: str = "en") -> list[str]:
        return [f.reason(lang, self.audience) for f in self.fired if f.verdict == "deny"]

    def obligations_of(self, kind: str) -> list[Obligation]:
        return [o for o in self.obligations if o.kind == kind]

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "action": self.action,
            "allowed": self.allowed,
            "reason": self.reason(lang),
            "fired": [
                {
                    "rule": f.rule.id,
                    "pack": f.rule.pack,
                    "verdict": f.verdict,
                    "level": f.rule.level,
                    "requirements": list(f.rule.requirements),
                    "reason": f.reason(lang, self.audience),
                }
                for f in self.fired
            ],
            "obligations": [{"kind": o.kind, "rule": o.rule_id, **dict(o.data)} for o in self.obligations],
        }


# The rule that answers when nothing allows an action.
NO_RULE = RuleSpec(
    id="engine.no-rule-allows",
    pack="engine",
    requirements=(),
    level="enforce",
    actions=(),
    logic=None,
    quote="",
    source_file="",
    params={},
    reason={
        "nb": "Ingen regel tillater denne handlingen.",
        "da": "Ingen regel tillader denne handling.",
        "en": "No rule allows this action.",
    },
    title={"nb": "Standard: avslå", "da": "Standard: afvis", "en": "Default deny"},
    roles=(),
)

_LOGIC: dict[str, RuleFn] = {}


def logic(name: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under ``name``; packs refer to it with ``logic: name``."""

    def register(fn: RuleFn) -> RuleFn:
        if name in _LOGIC and _LOGIC[name] is not fn:
            raise PackError(f"rule logic {name!r} registered twice ({_LOGIC[name].__module__}, {fn.__module__})")
        _LOGIC[name] = fn
        return fn

    return register


@dataclass
class Registry:
    packs: dict[str, Any]
    rules: dict[str, RuleSpec]


_registry: Registry | None = None
_registry_lock = threading.Lock()


def _import_rule_modules() -> None:
    import trygg.policy.rules as rules_pkg

    for info in pkgutil.iter_modules(rules_pkg.__path__):
        importlib.import_module(f"{rules_pkg.__name__}.{info.name}")


def load_registry(pack_dir: Path | None = None, *, force: bool = False) -> Registry:
    """Load, validate and index every pack; raise ``PackError`` naming the file and reason."""
    global _registry
    with _registry_lock:
        if _registry is not None and not force and pack_dir is None:
            return _registry
        _import_rule_modules()
        registry = build_registry(sorted((pack_dir or PACK_DIR).glob("*.yaml")))
        if pack_dir is None:
            _registry = registry
            _compiled.clear()
        return registry


def build_registry(files: Iterable[Path]) -> Registry:
    packs: dict[str, Any] = {}
    rules: dict[str, RuleSpec] = {}
    for path in files:
        pack = load_pack_file(path)
        if pack.id in packs:
            raise PackError(f"{path.name}: pack id {pack.id!r} is used by another file")
        for spec in pack.rules:
            if spec.id in rules:
                raise PackError(f"{path.name}: rule id {spec.id!r} is defined twice")
            if spec.logic and spec.logic not in _LOGIC:
                raise PackError(f"{path.name}: rule {spec.id!r} names unknown logic {spec.logic!r}")
            rules[spec.id] = spec
        packs[pack.id] = pack
    return Registry(packs=packs, rules=rules)


def registry() -> Registry:
    return _registry or load_registry()


Entry = tuple[RuleSpec, RuleFn, Mapping[str, Any]]
# school id -> rule id -> {parameter: value}
SchoolOverrides = Mapping[int, Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class CompiledPolicy:
    by_action: Mapping[str, tuple[Entry, ...]]
    params: Mapping[str, Mapping[str, Any]]
    active_packs: frozenset[str]
    # school id -> rule id -> parameters in force at that school (only rules a school overrides)
    school_params: Mapping[int, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)


def _school_of(req: Request) -> Any:
    school_id = req.context.get("school_id")
    if school_id is None and req.target is not None:
        school_id = getattr(req.target, "school_id", None)
    return school_id


def _per_school(fn: RuleFn, by_school: Mapping[Any, Mapping[str, Any]]) -> RuleFn:
    """Wrap ``fn`` so it gets the parameters of the request's school when that school has its own."""

    def per_school(req: Request, params: Mapping[str, Any]) -> Effect | None:
        return fn(req, by_school.get(_school_of(req), params))

    per_school.__wrapped__ = fn  # type: ignore[attr-defined]
    return per_school


def compile_policy(
    reg: Registry,
    active_packs: Iterable[str] | None,
    overrides: Mapping[str, Mapping[str, Any]] | None,
    school_overrides: SchoolOverrides | None = None,
) -> CompiledPolicy:
    """Index the active rules by action with their parameters resolved.

    Parameters resolve as the pack's defaults, then the municipality's overrides, then (for a
    request whose ``context["school_id"]`` or ``target.school_id`` names a school with its own
    values, e.g. school hours) that school's overrides. Rules no school overrides are called
    directly, so per-school settings cost nothing elsewhere.
    """
    core = {p for p in reg.packs if is_core_pack(p)}
    active = set(reg.packs) if active_packs is None else set(active_packs) | core
    overrides = overrides or {}
    school_overrides = school_overrides or {}
    by_action: dict[str, list[Entry]] = {}
    params: dict[str, Mapping[str, Any]] = {}
    school_params: dict[int, dict[str, Mapping[str, Any]]] = {}
    for spec in reg.rules.values():
        if spec.pack not in active:
            continue
        resolved = {name: p.default for name, p in spec.params.items()}
        resolved.update({k: v for k, v in overrides.get(spec.id, {}).items() if k in spec.params})
        params[spec.id] = resolved
        by_school: dict[Any, Mapping[str, Any]] = {}
        for school_id, rules in school_overrides.items():
            own = {k: v for k, v in rules.get(spec.id, {}).items() if k in spec.params}
            if own:
                by_school[school_id] = {**resolved, **own}
                school_params.setdefault(school_id, {})[spec.id] = by_school[school_id]
        if not spec.logic:
            continue
        fn = _LOGIC[spec.logic]
        if by_school:
            fn = _per_school(fn, by_school)
        for action in spec.actions:
            by_action.setdefault(action, []).append((spec, fn, resolved))
    return CompiledPolicy(
        by_action={a: tuple(rs) for a, rs in by_action.items()},
        params=params,
        active_packs=frozenset(active & set(reg.packs)),
        school_params=school_params,
    )


# municipality id (or None) -> (compiled policy, time compiled)
_compiled: dict[int | None, tuple[CompiledPolicy, float]] = {}
# Another process may change the configuration; re-read it this often.
CONFIG_TTL_SECONDS = 5.0


def invalidate(municipality_id: int | None = None) -> None:
    """Forget compiled policies so the next decision reads the configuration again."""
    if municipality_id is None:
        _compiled.clear()
    else:
        _compiled.pop(municipality_id, None)


def policy_for(municipality_id: int | None) -> CompiledPolicy:
    entry = _compiled.get(municipality_id)
    now = time.monotonic()
    if entry is not None and now - entry[1] < CONFIG_TTL_SECONDS:
        return entry[0]
    active, overrides, school_overrides = _configuration(municipality_id)
    compiled = compile_policy(registry(), active, overrides, school_overrides)
    _compiled[municipality_id] = (compiled, now)
    return compiled


def _configuration(
    municipality_id: int | None,
) -> tuple[list[str] | None, dict[str, dict[str, Any]], dict[int, dict[str, dict[str, Any]]]]:
    if municipality_id is None:
        return None, {}, {}
    from trygg.policy.models import PolicyConfig

    config = PolicyConfig.objects.filter(municipality_id=municipality_id).first()
    if config is None:
        return None, {}, {}
    return list(config.active_packs), dict(config.overrides), config.school_overrides_map()


def params_for(rule_id: str, municipality_id: int | None, school_id: int | None = None) -> Mapping[str, Any]:
    """Return a rule's parameters in force for a municipality, or one of its schools.

    For callers outside ``decide`` (a worker computing when school hours end, a page showing
    the retention period). A rule in an inactive pack has no parameters: ``{}``.
    """
    compiled = policy_for(municipality_id)
    if school_id is not None:
        own = compiled.school_params.get(school_id, {}).get(rule_id)
        if own is not None:
            return own
    return compiled.params.get(rule_id, {})


_EMPTY: Mapping[str, Any] = {}


def decide(
    action: str,
    actor: Any,
    target: Any = None,
    context: Mapping[str, Any] | None = None,
    *,
    policy: CompiledPolicy | None = None,
) -> Decision:
    """Return the decision on ``actor`` doing ``action`` to ``target``.

    ``actor`` is a ``Person`` or a ``PersonFacts``. Deny wins over allow; an action that
    no active rule allows is denied.
    """
    facts = getattr(actor, "facts", actor)
    compiled = policy or policy_for(getattr(facts, "municipality_id", None))
    entries = compiled.by_action.get(action)
    audience = audience_of(facts)
    if not entries:
        return Decision(action, False, (FiredRule(NO_RULE, "deny"),), audience=audience)
    request = Request(action, facts, target, context or _EMPTY)
    fired: list[FiredRule] = []
    obligations: list[Obligation] = []
    allowed = denied = False
    for spec, fn, params in entries:
        effect = fn(request, params)
        if effect is None:
            continue
        verdict = effect.verdict
        if verdict == "deny":
            denied = True
        elif verdict == "allow":
            allowed = True
        fired.append(FiredRule(spec, verdict, effect.reason_params, params))
        if effect.obligations:
            for ob in effect.obligations:
                obligations.append(Obligation(ob.kind, spec.id, ob.data))
    if denied:
        # Deny-first ordering puts the reason a person needs at the front.
        fired.sort(key=_not_deny)
        return Decision(action, False, tuple(fired), tuple(obligations), audience)
    if not allowed:
        fired.append(FiredRule(NO_RULE, "deny"))
        return Decision(action, False, tuple(fired), tuple(obligations), audience)
    return Decision(action, True, tuple(fired), tuple(obligations), audience)


def audience_of(facts: Any) -> str:
    """Return whom a reason speaks to: staff (whatever else they are), a guardian, or a pupil."""
    roles = getattr(facts, "roles", None) or frozenset()
    if getattr(facts, "is_staff_member", False):
        return "staff"
    if "guardian" in roles:
        return "guardian"
    return "pupil" if "pupil" in roles else ""


def _not_deny(fired: FiredRule) -> bool:
    return fired.verdict != "deny"


def check(
    action: str, actor: Any, target: Any = None, context: Mapping[str, Any] | None = None, *, status: int = 403
) -> Decision:
    """Return the decision if allowed, else raise ``PolicyDenied`` (403 unless ``status`` says 404/409)."""
    decision = decide(action, actor, target, context)
    if not decision.allowed:
        from trygg.errors import PolicyDenied

        language = getattr(actor, "language", None) or getattr(getattr(actor, "facts", None), "language", None)
        raise PolicyDenied(decision, language=_active_language() or language, status=status)
    return decision


def _active_language() -> str | None:
    from django.utils.translation import get_language

    lang = get_language()
    return lang[:2] if lang else None
