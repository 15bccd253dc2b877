"""Changing a municipality's policy configuration: which packs are active, which parameters differ.

``check_update_policy_config`` asks the policy and validates every value against its pack's
parameter type; ``do_update_policy_config`` writes it in one transaction with an audit record of
the configuration before and after, and makes every process forget its compiled policy.
A refused change raises ``BadInput`` and leaves the stored configuration untouched.

``check_acknowledge_guidelines`` records that a pupil or guardian read the guidelines in force
(R-ACK-01).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.errors import BadInput, WrongState
from trygg.policy import engine
from trygg.policy.engine import Registry, check, is_core_pack
from trygg.policy.models import Acknowledgement, PolicyConfig, SchoolPolicy
from trygg.policy.packs_schema import validate_value
from trygg.policy.queries import ACK_ACTION, access_own_child, guidelines_version, language_of

Overrides = dict[str, dict[str, Any]]


def validate_overrides(reg: Registry, overrides: Any, where: str = "overrides") -> list[str]:
    """Return what is wrong with ``{rule id: {parameter: value}}``, one sentence per problem."""
    problems: list[str] = []
    if not isinstance(overrides, Mapping):
        return [f"{where}: expected {{rule id: {{parameter: value}}}}, got {overrides!r}"]
    for rule_id, values in overrides.items():
        spec = reg.rules.get(rule_id)
        if spec is None:
            problems.append(f"{where}: there is no rule {rule_id!r}")
            continue
        if not isinstance(values, Mapping):
            problems.append(f"{where}.{rule_id}: expected {{parameter: value}}, got {values!r}")
            continue
        for name, value in values.items():
            param = spec.params.get(name)
            if param is None:
                known = ", ".join(spec.params) or "none"
                problems.append(f"{where}.{rule_id}: no parameter {name!r} (parameters: {known})")
                continue
            try:
                validate_value(param, value)
            except ValueError as exc:
                problems.append(f"{where}.{rule_id}.{name}: {exc}")
    return problems


def validate_config(
    reg: Registry,
    active_packs: Any,
    overrides: Any,
    school_overrides: Any = None,
    school_ids: Iterable[int] | None = None,
) -> list[str]:
    """Return every problem with a proposed configuration (empty when it is valid)."""
    problems: list[str] = []
    if not isinstance(active_packs, list | tuple) or not all(isinstance(p, str) for p in active_packs):
        problems.append(f"active_packs: expected a list of pack ids, got {active_packs!r}")
    else:
        unknown = sorted(set(active_packs) - set(reg.packs))
        if unknown:
            problems.append(f"active_packs: unknown packs {unknown!r}; packs are {sorted(reg.packs)!r}")
    problems += validate_overrides(reg, overrides)
    if school_overrides:
        if not isinstance(school_overrides, Mapping):
            problems.append(f"schools: expected {{school id: {{rule id: {{parameter: value}}}}}}, got "
                            f"{school_overrides!r}")
        else:
            allowed = set(school_ids) if school_ids is not None else None
            for school_id, rules in school_overrides.items():
                sid = _as_int(school_id)
                if sid is None or (allowed is not None and sid not in allowed):
                    problems.append(f"schools: {school_id!r} is not a school in this municipality")
                    continue
                problems += validate_overrides(reg, rules, where=f"schools.{sid}")
    return problems


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_update_policy_config(
    actor: Any,
    municipality: Any,
    *,
    active_packs: Iterable[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    school_overrides: Mapping[Any, Mapping[str, Mapping[str, Any]]] | None = None,
) -> PolicyConfig:
    """Ask the policy, validate, and save; ``None`` keeps that part of the configuration as it is."""
    if not getattr(actor, "is_superuser", False):
        check("policy.configure", actor, municipality)
    reg = engine.registry()
    config = PolicyConfig.objects.filter(municipality=municipality).first()
    current_packs = list(config.active_packs) if config else sorted(p for p in reg.packs if not is_core_pack(p))
    new_packs = list(active_packs) if active_packs is not None else current_packs
    new_overrides = overrides if overrides is not None else (config.overrides if config else {})
    new_schools = school_overrides if school_overrides is not None else (
        config.school_overrides_map() if config else {}
    )
    school_ids = set(municipality.schools.values_list("id", flat=True))
    problems = validate_config(reg, new_packs, new_overrides, new_schools, school_ids)
    if problems:
        raise BadInput("; ".join(problems), extra={"problems": problems})
    return do_update_policy_config(
        actor,
        municipality,
        active_packs=sorted(set(new_packs)),
        overrides={k: dict(v) for k, v in new_overrides.items() if v},
        school_overrides={int(k): {r: dict(p) for r, p in v.items() if p} for k, v in new_schools.items()},
    )


def do_update_policy_config(
    actor: Any,
    municipality: Any,
    *,
    active_packs: list[str],
    overrides: Overrides,
    school_overrides: Mapping[int, Overrides],
) -> PolicyConfig:
    """Write a validated configuration and its audit record (before/after) in one transaction."""
    with transaction.atomic():
        config, created = PolicyConfig.objects.select_for_update().get_or_create(municipality=municipality)
        before = None if created else config.snapshot()
        config.active_packs = active_packs
        config.overrides = overrides
        config.updated_at = timezone.now()
        config.updated_by = actor if getattr(actor, "pk", None) else None
        config.save()
        kept = {sid: ov for sid, ov in school_overrides.items() if ov}
        SchoolPolicy.objects.filter(config=config).exclude(school_id__in=kept).delete()
        for school_id, values in kept.items():
            SchoolPolicy.objects.update_or_create(config=config, school_id=school_id,
                                                  defaults={"overrides": values})
        after = config.snapshot()
        if before != after:
            do_audit(actor, "policy.config_changed", config, municipality_id=municipality.pk,
                     before=before, after=after)
        transaction.on_commit(lambda: engine.invalidate(municipality.pk))
    engine.invalidate(municipality.pk)
    return config


# ---------------------------------------------------------------- R-ACK-01: acknowledging the guidelines


def check_acknowledge_guidelines(
    actor: Any, *, child_id: int | None = None, version: str | None = None
) -> tuple[Acknowledgement, bool]:
    """Record that ``actor`` read the guidelines in force (with ``child_id``, together with that child).

    Return ``(acknowledgement, created)``; confirming the same version again returns the first
    record. ``version`` is the fingerprint the person was shown: if the rules changed since, the
    confirmation would be for text they did not read, so it is refused (409) and they read again.
    A child the actor has no parental responsibility for answers 404, like one that does not exist.
    """
    child = access_own_child(actor, child_id) if child_id is not None else None
    check(ACK_ACTION, actor, None, {"child_id": child.pk if child else None})
    current, packs, count = guidelines_version(actor)
    if version is not None and version != current:
        raise WrongState(
            _("The guidelines have changed since you opened them. Read them again, then confirm."),
            code="guidelines_changed",
            requirement="R-ACK-01",
        )
    existing = Acknowledgement.objects.filter(person=actor, child=child, version=current).first()
    if existing is not None:
        return existing, False
    return do_acknowledge_guidelines(actor, child, current, packs, count, language_of(actor)), True


def do_acknowledge_guidelines(
    actor: Any, child: Any, version: str, packs: list[str], rule_count: int, language: str
) -> Acknowledgement:
    """Write the acknowledgement, its audit record and the person's event in one transaction."""
    from trygg.events.log import emit_event
    from trygg.policy.events import GUIDELINES_ACKNOWLEDGED

    try:
        with transaction.atomic():
            ack = Acknowledgement.objects.create(
                person=actor, child=child, version=version, packs=packs, rule_count=rule_count, language=language
            )
            do_audit(actor, "policy.guidelines_acknowledged", ack, version=version,
                     child_id=child.pk if child else None, language=language)
            emit_event(GUIDELINES_ACKNOWLEDGED, [actor.pk], {
                "version": version,
                "child_id": child.pk if child else None,
                "acknowledged_at": ack.acknowledged_at.isoformat(),
            })
    except IntegrityError:
        # A double click raced the first confirmation; the first one stands.
        return Acknowledgement.objects.get(person=actor, child=child, version=version)
    return ack
