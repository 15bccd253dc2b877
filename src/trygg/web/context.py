"""Template context every page shares: the navigation for the signed-in person's roles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, roles that see it; empty = everyone signed in)
NAVIGATION: list[tuple[str, Any, frozenset[str]]] = [
    ("web:home", _("Home"), frozenset()),
    ("messaging:list", _("Messages"), frozenset()),
    ("meetings:list", _("Meetings"), frozenset()),
    ("classlist:mine", _("Class list"), frozenset({"guardian", "teacher", "leader", "admin"})),
    ("cases:mine", _("Reports"), frozenset()),
    ("cases:list", _("Open cases"), frozenset({"leader", "union_rep", "safety_rep", "admin"})),
    ("safety:alerts", _("Safety alerts"), frozenset({"teacher", "leader"})),
    ("policy:rulebook", _("Guidelines"), frozenset()),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    roles = user.facts.roles
    nav = []
    for name, label, wanted in NAVIGATION:
        if wanted and not (wanted & roles):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the app has not mounted that page yet
        nav.append({"url": url, "label": label, "current": request.path == url})
    return {"nav": nav, "roles": roles}
