"""Filters for the case pages: frozen evidence read as people read it (issue 13, R-I18N-01).

A message snapshot stores its times as ISO strings and the conversation's kind as a code, byte for
byte as hashed; the page shows a local date and time and the kind in words, never the stored form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def local_time(value: Any) -> Any:
    """Return an ISO string (as stored in a snapshot) as a local, aware datetime; anything else as is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter
def conversation_kind(kind: str) -> str:
    """Return the kind of a snapshot's conversation in words ("direct" → "Direct conversation")."""
    from trygg.cases.words import CONVERSATION_KIND

    return str(CONVERSATION_KIND.get(kind, kind))
