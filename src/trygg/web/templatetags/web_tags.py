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
