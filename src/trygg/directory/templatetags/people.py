"""``{% load people %}{{ person|seen_by:user }}``: a person's name as the viewer may see it.

Pages that name people from model objects go through the same visibility function as the API's
serialisers (``trygg.directory.queries.display_name``): a protected pupil or guardian is "a pupil"
or "a guardian" to anyone it hides them from (R-LIST-05).
"""

from __future__ import annotations

from typing import Any

from django import template

from trygg.directory.queries import display_name

register = template.Library()


@register.filter
def seen_by(person: Any, viewer: Any) -> str:
    """Return ``person``'s name as ``viewer`` may see it ("" for no person)."""
    if person is None or viewer is None or not getattr(viewer, "is_authenticated", False):
        return ""
    return display_name(viewer, person)
