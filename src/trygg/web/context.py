"""Template context every page shares: the navigation for the signed-in person's roles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

# (url name, label, roles that see it (empty = everyone signed in), the count shown beside it)
NAVIGATION: list[tuple[str, Any, frozenset[str], str]] = [
    ("web:home", _("Home"), frozenset(), ""),
    ("messaging:list", _("Messages"), frozenset(), "messages"),
    ("meetings:list", _("Meetings"), frozenset(), "meetings_today"),
    ("classlist:mine", _("Class list"), frozenset({"guardian", "teacher", "leader", "admin"}), ""),
    ("cases:mine", _("Reports"), frozenset(), ""),
    ("cases:list", _("Open cases"), frozenset({"leader", "union_rep", "safety_rep", "admin", "teacher"}), "cases"),
    ("safety:alerts", _("Safety alerts"), frozenset({"teacher", "leader"}), ""),
    ("policy:rulebook", _("Guidelines"), frozenset(), ""),
]
# What the number beside a menu item means, for screen readers ("3 unread").
COUNT_WORDS = {"messages": _("unread"), "meetings_today": _("today"), "cases": _("waiting for you")}


def _with_total(counts: dict[str, int]) -> dict[str, int]:
    return {**counts, "total": sum(counts.values())}


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    from trygg.directory.counts import counts_for
    from trygg.events.log import latest_event_id

    roles = user.facts.roles
    # Counted when a template first asks, once per page (JSON answers never ask).
    counts = SimpleLazyObject(lambda: _with_total(counts_for(user)))
    from trygg.policy.short import has_short_page

    nav = []
    for name, label, wanted, count in NAVIGATION:
        if wanted and not (wanted & roles):
            continue
        if name == "policy:rulebook" and has_short_page(roles):
            # Pupils and guardians get the guidelines in short; the rulebook is a tap from there.
            name = "policy:short"
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the app has not mounted that page yet
        nav.append({"url": url, "label": label, "current": request.path == url, "count_key": count,
                    "count_words": COUNT_WORDS.get(count, "")})
    return {"nav": nav, "roles": roles, "counts": counts,
            "latest_event_id": SimpleLazyObject(lambda: latest_event_id(user.pk))}
