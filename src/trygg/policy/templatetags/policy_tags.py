"""Template tags other apps' pages may use to show the policy where it applies.

``{% load policy_tags %}{% guidelines_reminder %}`` on the home page reminds a pupil or guardian who
has not acknowledged the guidelines in force (R-ACK-01); it renders nothing for anyone else.
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
