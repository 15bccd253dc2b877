"""Template filters of the shell."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_count(counts: Any, key: str) -> int:
    """Return ``counts[key]`` (0 when missing), for a menu item's count."""
    try:
        return int(counts[key])
    except (KeyError, TypeError, ValueError):
        return 0
