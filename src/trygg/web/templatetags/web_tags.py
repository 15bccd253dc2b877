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


@register.filter
def when(value: Any) -> str:
    """Return a time as people say it: "today 08:14", "yesterday 17:02", "3 March 09:00"."""
    from datetime import timedelta

    from django.utils import formats, timezone
    from django.utils.translation import gettext as _

    if not value:
        return ""
    local = timezone.localtime(value)
    today = timezone.localtime().date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return _("today %(time)s") % {"time": clock}
    if local.date() == today - timedelta(days=1):
        return _("yesterday %(time)s") % {"time": clock}
    if local.year == today.year:
        return f"{formats.date_format(local, 'j. F')} {clock}"
    return f"{formats.date_format(local, 'j. F Y')} {clock}"


@register.filter
def device(user_agent: str) -> str:
    """Return a browser's name and system from its user-agent string ("Chrome · Android"), which
    is what a person recognises in a list of their sign-ins; unknown parts are left out."""
    ua = user_agent or ""
    browsers = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
    systems = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Mac OS X", "macOS"),
               ("Windows", "Windows"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
    browser = next((name for mark, name in browsers if mark in ua), "")
    system = next((name for mark, name in systems if mark in ua), "")
    return " · ".join(part for part in (browser, system) if part) or ua[:40]
