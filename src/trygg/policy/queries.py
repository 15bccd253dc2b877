"""Scoped reads of the policy: the rulebook a person sees (active rules that concern their role), and
whether they have acknowledged the guidelines in force (R-ACK-01)."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from trygg.policy import engine
from trygg.policy.engine import is_core_pack
from trygg.policy.packs_schema import RuleSpec

LEVEL_ORDER = {"enforce": 0, "workflow": 1, "nudge": 2, "inform": 3}
# Leaders and administrators answer for every rule at their school, so their rulebook has them all.
SEES_EVERY_RULE = frozenset({"leader", "admin"})


def obligation_notes(decision: engine.Decision, kind: str, lang: str | None = None) -> list[dict[str, Any]]:
    """Return the obligations of ``kind`` (nudge, inform) as texts to show: each with its rule, first
    requirement, level, the rule's localised reason and the obligation's own data."""
    if lang is None:
        from django.utils.translation import get_language

        lang = (get_language() or "nb")[:2]
    rules = engine.registry().rules
    notes = []
    for ob in decision.obligations_of(kind):
        spec = rules.get(ob.rule_id)
        if spec is None:
            continue
        notes.append({
            "rule": spec.id,
            "requirement": spec.requirements[0] if spec.requirements else None,
            "level": spec.level,
            "message": spec.reason.get(lang) or spec.reason.get("en", ""),
            "data": ob.data,
        })
    return notes


def language_of(viewer: Any, requested: str | None = None) -> str:
    """Return nb, da or en: the requested language, the active one, or the person's own."""
    from django.utils.translation import get_language

    for lang in (requested, (get_language() or "")[:2], getattr(viewer, "language", None)):
        if lang in engine.LANGS:
            return lang
    return "en"


def concerns(spec: RuleSpec, roles: frozenset[str]) -> bool:
    """Return whether a rule concerns someone with ``roles`` (a rule naming no roles concerns everyone)."""
    return not spec.roles or bool(roles & set(spec.roles)) or bool(roles & SEES_EVERY_RULE)


def fill_in(text: str, params: dict[str, Any]) -> str:
    """Return ``text`` with "{name}" replaced by the parameter in force (left as is if it cannot be)."""
    if "{" not in text:
        return text
    try:
        return text.format_map(params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return text


def show_value(value: Any) -> str:
    """Return a parameter value as a person reads it: a schedule as "mon 08:15–14:30", a list joined."""
    if isinstance(value, dict):
        return ", ".join(f"{day} {span[0]}–{span[1]}" for day, span in value.items() if span) or "–"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "–"
    return str(value)


def rule_entry(spec: RuleSpec, lang: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return one rule as the rulebook shows it, in ``lang`` (the quote stays in its original language)."""
    pack = engine.registry().packs[spec.pack]
    params = dict(params or {})
    return {
        "id": spec.id,
        "pack": spec.pack,
        "pack_title": pack.title.get(lang) or pack.title["en"],
        "title": spec.title.get(lang) or spec.title["en"],
        "what_to_do": fill_in(spec.reason.get(lang) or spec.reason["en"], params),
        "requirements": list(spec.requirements),
        "level": spec.level,
        "enforced": spec.level == "enforce",
        "wired": bool(spec.logic),
        "quote": spec.quote,
        "quote_language": pack.source_language,
        "source": {"file": pack.source_file, "owner": pack.source_owner, "title": pack.source_title},
        "roles": list(spec.roles),
        "params": params,
        "core": is_core_pack(spec.pack),
    }


def list_rules(viewer: Any, lang: str | None = None, *, everyone: bool = False) -> list[dict[str, Any]]:
    """Return the active rules of the viewer's municipality that concern the viewer's roles.

    ``everyone`` lists every active rule (the guidelines are public; the default keeps the page short).
    Guideline packs first in file order, then Trygg's own; within a pack, as written.
    """
    facts = getattr(viewer, "facts", viewer)
    lang = language_of(viewer, lang)
    compiled = engine.policy_for(facts.municipality_id)
    reg = engine.registry()
    rows: list[dict[str, Any]] = []
    for spec in reg.rules.values():
        if spec.pack not in compiled.active_packs:
            continue
        if not everyone and not concerns(spec, facts.roles):
            continue
        rows.append(rule_entry(spec, lang, dict(compiled.params.get(spec.id, {}))))
    # Seed files are numbered S0..S4, so their names give the order of requirements.md.
    rows.sort(key=lambda r: (r["core"], r["source"]["file"] or r["pack"]))
    return rows


def group_by_pack(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return ``[{pack, title, source, rules}]`` in the order of ``rows``."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row["pack"],
            {"pack": row["pack"], "title": row["pack_title"], "source": row["source"],
             "quote_language": row["quote_language"], "rules": []},
        )
        group["rules"].append(row)
    return list(groups.values())


# ---------------------------------------------------------------- R-ACK-01: acknowledging the guidelines

ACK_ACTION = "policy.acknowledge"


def guidelines_version(viewer: Any) -> tuple[str, list[str], int]:
    """Return (fingerprint, pack ids, rule count) of the active rules that concern the viewer.

    The fingerprint is a SHA-256 over each rule's id, level, quote, and title and reason in every
    language with the parameters in force, so it does not depend on the language the person reads
    in, and changes whenever a rule shown to them is added, removed, reworded or re-parametrised.
    """
    facts = getattr(viewer, "facts", viewer)
    compiled = engine.policy_for(facts.municipality_id)
    digest = hashlib.sha256()
    packs: dict[str, None] = {}
    count = 0
    for spec in sorted(engine.registry().rules.values(), key=lambda s: s.id):
        if spec.pack not in compiled.active_packs or not concerns(spec, facts.roles):
            continue
        params = dict(compiled.params.get(spec.id, {}))
        texts = [spec.id, spec.level, spec.quote]
        for lang in engine.LANGS:
            texts += [spec.title.get(lang, ""), fill_in(spec.reason.get(lang, ""), params)]
        digest.update(json.dumps(texts, ensure_ascii=False).encode())
        packs.setdefault(spec.pack, None)
        count += 1
    return digest.hexdigest(), list(packs), count


def list_own_children(viewer: Any) -> list[Any]:
    """Return the pupils the viewer has parental responsibility for (by name)."""
    from trygg.directory.models import Person

    child_ids = getattr(viewer, "facts", viewer).child_ids
    if not child_ids:
        return []
    return list(Person.objects.filter(id__in=child_ids).order_by("name", "id"))


def access_own_child(viewer: Any, child_id: Any) -> Any:
    """Return a child the viewer has parental responsibility for; anyone else is hidden (404)."""
    from trygg.directory.models import Person
    from trygg.errors import NotFoundOrHidden

    try:
        child_id = int(child_id)
    except (TypeError, ValueError):
        raise NotFoundOrHidden() from None
    if child_id not in getattr(viewer, "facts", viewer).child_ids:
        raise NotFoundOrHidden()
    child = Person.objects.filter(pk=child_id).first()
    if child is None:
        raise NotFoundOrHidden()
    return child


def link_label(url: str) -> str:
    """Return how a resource link reads: its host without "www." (``https://www.nettvett.no`` → nettvett.no)."""
    host = urlsplit(url).netloc or url
    return host.removeprefix("www.")


def acknowledgement_entry(ack: Any, version: str) -> dict[str, Any]:
    """Return one acknowledgement as the page and the API show it."""
    return {
        "id": ack.pk,
        "version": ack.version,
        "current": ack.version == version,
        "language": ack.language,
        "acknowledged_at": ack.acknowledged_at.isoformat(),
        "child": {"id": ack.child_id, "name": ack.child.name} if ack.child_id else None,
        "rule_count": ack.rule_count,
        "packs": list(ack.packs),
    }


def acknowledgement_status(viewer: Any, *, history: int = 20) -> dict[str, Any]:
    """Return whether the viewer is asked to acknowledge the guidelines in force, and whether they have.

    ``required``: the municipality's packs ask it of this person (R-ACK-01: pupils and guardians).
    ``current``: they have acknowledged the rules in force now (alone or with a child); a change
    of the active rules makes it false again. ``children``: for a guardian, each child with parental
    responsibility and whether they went through the rules in force together.
    """
    from trygg.policy.models import Acknowledgement

    decision = engine.decide(ACK_ACTION, viewer, None, {})
    version, packs, count = guidelines_version(viewer)
    own = list(
        Acknowledgement.objects.filter(person=viewer).select_related("child").order_by("-acknowledged_at", "-id")[
            :history
        ]
    )
    done = {a.child_id for a in own if a.version == version}
    links: list[str] = []
    for fired in decision.fired:
        if fired.verdict == "allow":
            links += [str(u) for u in fired.params.get("links", ()) if str(u).startswith(("https://", "http://"))]
    return {
        "required": decision.allowed,
        "current": bool(done),
        "version": version,
        "rule_count": count,
        "packs": packs,
        "links": [{"url": url, "label": link_label(url)} for url in dict.fromkeys(links)],
        "acknowledgements": [acknowledgement_entry(a, version) for a in own],
        "children": [
            {"id": c.pk, "name": c.name, "current": c.pk in done} for c in list_own_children(viewer)
        ] if decision.allowed else [],
    }


def export_own(viewer: Any) -> dict[str, Any]:
    """Return the viewer's acknowledgements of the guidelines, for the right of access (R-PRIV-04)."""
    from trygg.policy.models import Acknowledgement

    return {
        "acknowledgements": [
            {"at": a.acknowledged_at.isoformat(), "with_child": a.child.name if a.child else None,
             "packs": a.packs, "rules": a.rule_count, "language": a.language, "version": a.version}
            for a in Acknowledgement.objects.filter(person=viewer).select_related("child").order_by("id")
        ]
    }
