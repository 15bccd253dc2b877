"""Template tags other apps' pages may use to show the policy where it applies.

``{% load policy_tags %}{% guidelines_reminder %}`` on the home page reminds a pupil or guardian who
has not acknowledged the guidelines in force (R-ACK-01); it renders nothing for anyone else.
``{% rule_notice "kolding.confidentiality" %}`` shows an inform rule on the page it applies to.
"""

from __future__ import annotations

from typing import Any

from django import template

from trygg.policy.queries import acknowledgement_status
from trygg.policy.short import has_short_page

register = template.Library()


def reminder_context(person: Any) -> dict[str, Any]:
    """Return what the reminder shows: whether to show it, and whether the rules changed since last time."""
    if person is None or not getattr(person, "is_authenticated", False):
        return {"show": False}
    status = acknowledgement_status(person, history=1)
    return {
        "show": status["required"] and not status["current"],
        "changed": bool(status["acknowledgements"]),
        "children": bool(status["children"]),
        # Pupils and guardians read the guidelines in short first; the confirmation is at its end.
        "short": has_short_page(person.facts.roles),
    }


@register.inclusion_tag("policy/ack_reminder.html", takes_context=True)
def guidelines_reminder(context: template.Context) -> dict[str, Any]:
    """Render the R-ACK-01 reminder for the signed-in person (nothing once they have acknowledged)."""
    request = context.get("request")
    return reminder_context(getattr(request, "user", None) or context.get("user"))


def rule_notice_text(person: Any, rule_id: str) -> str:
    """Return an inform rule's words in the person's language with their municipality's numbers, or
    "" when the rule's pack is not active there (the Kolding reminder shows only where Kolding applies)."""
    from django.utils.translation import get_language

    from trygg.policy.engine import policy_for, registry

    spec = registry().rules.get(rule_id)
    municipality_id = getattr(person, "municipality_id", None)
    params = policy_for(municipality_id).params.get(rule_id) if spec is not None else None
    if params is None:
        return ""
    lang = (getattr(person, "language", "") or get_language() or "nb")[:2]
    text = spec.reason.get(lang) or spec.reason.get("en", "")
    try:
        return text.format_map(dict(params)) if "{" in text else text
    except (KeyError, IndexError, ValueError):
        return text


@register.inclusion_tag("policy/rule_notice.html", takes_context=True)
def rule_notice(context: template.Context, rule_id: str) -> dict[str, Any]:
    """Show an ``inform`` rule where it applies (issue 11, item 14): its words, never its id."""
    request = context.get("request")
    person = getattr(request, "user", None) or context.get("user")
    if person is None or not getattr(person, "is_authenticated", False):
        return {"text": ""}
    return {"text": rule_notice_text(person, rule_id)}
