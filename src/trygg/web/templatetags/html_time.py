"""``{{ moment|html_datetime }}``: a ``<time datetime>`` value the HTML standard accepts.

``isoformat()`` writes six digits of fractions of a second, which a valid global date and time
string does not allow (at most three); the W3C checker flags every such ``<time>``. Seconds are
as fine as anyone reads a message's time, so fractions are dropped.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

register = template.Library()


@register.filter
def html_datetime(value: Any) -> str:
    """Return ``value`` (a datetime, a date, or an ISO string as stored in JSON) as a valid
    ``datetime`` attribute; an empty string for anything else."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return ""
