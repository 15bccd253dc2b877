"""What waits for a person, as counts for ``GET /api/v1/me`` and every page's menu.

The counts come from apps above the directory (messages, photos, cases, meetings); the web
layer, which sits above them all, registers the function that adds them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EMPTY = {"messages": 0, "photos": 0, "cases": 0, "meetings_today": 0}
_counter: Callable[[Any], dict[str, int]] = lambda person: dict(EMPTY)  # noqa: E731


def register_counter(counter: Callable[[Any], dict[str, int]]) -> None:
    """Tell the directory how to count what waits for a person."""
    global _counter
    _counter = counter


def counts_for(person: Any) -> dict[str, int]:
    """Return ``{messages, photos, cases, meetings_today}`` for the person."""
    return _counter(person)
