"""Answering "why was I not allowed to…?": rebuild a request and show every rule that fired.

Used by ``trygg policy explain`` and the leaders' explain page. A target is written
``<kind>:<id>`` (``class:3``, ``person:emma.4a``, ``conversation:12``, ``meeting:4``, ``case:2``,
``municipality:1``); context values are given as JSON. Apps whose callers put more into the
context than the target holds (members of a conversation, a meeting's invited people) register
a builder with ``register_context_builder`` so the explanation sees what the real call saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps

from trygg.errors import BadInput
from trygg.policy.engine import Decision, decide

# kind -> (app label, model name, lookup field for a non-numeric id)
TARGET_KINDS: dict[str, tuple[str, str, str]] = {
    "class": ("directory", "SchoolClass", "name"),
    "school": ("directory", "School", "name"),
    "municipality": ("directory", "Municipality", "name"),
    "person": ("directory", "Person", "username"),
    "conversation": ("messaging", "Conversation", "id"),
    "message": ("messaging", "Message", "id"),
    "meeting": ("meetings", "Meeting", "id"),
    "case": ("cases", "Case", "id"),
}

ContextBuilder = Callable[[str, Any, Any], dict[str, Any]]
_BUILDERS: dict[str, ContextBuilder] = {}


def register_context_builder(action_prefix: str, builder: ContextBuilder) -> None:
    """Let an app fill in the context its callers pass for actions starting with ``action_prefix``.

    ``builder(action, actor_person, target)`` returns context keys; explicit values win.
    """
    _BUILDERS[action_prefix] = builder


def _conversation_context(action: str, actor: Any, target: Any) -> dict[str, Any]:
    """Members (as facts), kind and ownership of a conversation, as the messaging actions pass them."""
    if target is None or not hasattr(target, "memberships"):
        return {}
    members = tuple(m.person.facts for m in target.memberships.select_related("person"))
    return {
        "members": members,
        "kind": getattr(target, "kind", None),
        "school_owned": getattr(target, "school_owned", False),
        "school_id": getattr(target, "school_id", None),
        "class_id": getattr(target, "school_class_id", None),
    }


register_context_builder("message.", _conversation_context)
register_context_builder("conversation.", _conversation_context)


def resolve_target(ref: str | None) -> Any:
    """Return the object ``<kind>:<id>`` names (a person as their facts), or raise ``BadInput``."""
    if not ref:
        return None
    kind, sep, key = ref.partition(":")
    if not sep or kind not in TARGET_KINDS or not key:
        raise BadInput(f"target must look like kind:id with kind one of {', '.join(TARGET_KINDS)}")
    app_label, model_name, field = TARGET_KINDS[kind]
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as exc:
        raise BadInput(f"{kind} targets are not available yet") from exc
    lookup = {"pk": int(key)} if key.isdigit() else {field: key}
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        raise BadInput(f"no {kind} {key!r}", code="unknown")
    return obj.facts if kind == "person" else obj


def parse_context(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"context is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadInput("context must be a JSON object")
    return value


@dataclass
class Explanation:
    action: str
    actor: Any
    target: Any
    context: dict[str, Any]
    decision: Decision

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        data = self.decision.as_dict(lang)
        data["actor"] = getattr(self.actor, "username", None)
        data["target"] = str(self.target) if self.target is not None else None
        data["context_keys"] = sorted(self.context)
        return data


def explain(action: str, actor_username: str, target_ref: str | None = None,
            context: str | Mapping[str, Any] | None = None) -> Explanation:
    """Rebuild the request and decide it; raise ``BadInput`` for an unknown person or target."""
    from trygg.directory.models import Person

    actor = Person.objects.filter(username=actor_username).first()
    if actor is None:
        raise BadInput(f"no person {actor_username!r}", code="unknown")
    target = resolve_target(target_ref)
    ctx: dict[str, Any] = {}
    for prefix, builder in _BUILDERS.items():
        if action.startswith(prefix):
            ctx.update(builder(action, actor, target))
    ctx.update(parse_context(context))
    if isinstance(ctx.get("members"), list):
        ctx["members"] = tuple(_facts_of(m) for m in ctx["members"])
    for key in ("recipient", "new_member", "guardian"):
        if isinstance(ctx.get(key), str):
            ctx[key] = _facts_of(ctx[key])
    return Explanation(action, actor, target, ctx, decide(action, actor, target, ctx))


def _facts_of(value: Any) -> Any:
    """Turn a username in hand-written context into that person's facts."""
    if isinstance(value, str):
        from trygg.directory.models import Person

        person = Person.objects.filter(username=value).first()
        if person is None:
            raise BadInput(f"no person {value!r}", code="unknown")
        return person.facts
    return value


def known_actions() -> list[str]:
    """Return every action some active-or-not rule decides, for the explain form's list."""
    from trygg.policy.engine import registry

    return sorted({a for spec in registry().rules.values() for a in spec.actions})
