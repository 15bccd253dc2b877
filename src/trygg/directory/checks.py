"""Deployment checks Django's own checklist misses for Trygg."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# The fallback key of settings.py: long and varied enough to pass Django's security.W009, so the
# deployment checklist would not notice a production server running with it.
DEVELOPMENT_KEY_MARK = "trygg-insecure-development-key"


@register(Tags.security, deploy=True)
def check_secret_key_is_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a deployment that still uses the development secret key."""
    if DEVELOPMENT_KEY_MARK in str(settings.SECRET_KEY):
        return [Error(
            "The development SECRET_KEY is in use.",
            hint="Set TRYGG_SECRET_KEY to a long random value (e.g. python -c 'import secrets; "
                 "print(secrets.token_urlsafe(64))').",
            id="trygg.E001",
        )]
    return []
