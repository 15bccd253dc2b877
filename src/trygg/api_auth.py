"""API authentication: a bearer token, or the browser's session cookie with CSRF."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.security import APIKeyCookie, HttpBearer

from trygg.directory.models import ApiToken, Person


def _activate(request: HttpRequest, person: Person) -> Person:
    request.user = person
    # API clients get answers in the person's language unless the request asked for another.
    if "HTTP_ACCEPT_LANGUAGE" not in request.META:
        translation.activate(person.language)
        request.LANGUAGE_CODE = person.language
    return person


def token_in_use(raw: str) -> ApiToken | None:
    """Return the live token ``raw`` names, its person loaded, noting (every 5 minutes at most)
    that it was used; None for anything else. Every door a bearer token opens asks this."""
    found = ApiToken.find(raw)
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Person | None:
        found = token_in_use(token)
        if found is None:
            return None
        request.api_token = found
        return _activate(request, found.person)


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods need the CSRF token (checked by the base class)."""

    param_name = "sessionid"

    def __init__(self) -> None:
        from django.conf import settings

        # "__Host-sessionid" under TRYGG_HTTPS=1.
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__()

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is nothing to forge, and a bad bearer token must
        # answer 401, not a CSRF failure.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Person | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None
