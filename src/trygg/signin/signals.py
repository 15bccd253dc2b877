"""Every browser sign-in, whichever door it came through (the login page, a provider, the admin's
login), becomes a ``SignInSession`` its person can see and end; a sign-out forgets it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from trygg.signin.models import SignInSession
from trygg.signin.stepup import SESSION_METHOD, mark_session_strong


def device_label(request: Any) -> str:
    return (request.META.get("HTTP_USER_AGENT") or "")[:120] if request is not None else ""


@receiver(user_logged_in)
def record_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    how = getattr(request, "trygg_sign_in", None) or {}
    session[SESSION_METHOD] = how.get("method", "password")
    if how.get("strong"):
        mark_session_strong(request, how.get("strong_at"))
    for key in ("provider", "sid", "id_token"):
        if how.get(key) is not None:
            session[f"trygg_oidc_{key}"] = how[key]
    now = timezone.now()
    SignInSession.objects.filter(person=user, expires_at__lt=now).delete()
    SignInSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "person": user,
            "created_at": now,
            "expires_at": now + timedelta(seconds=settings.SESSION_COOKIE_AGE),
            "method": how.get("method", "password"),
            "provider_id": how.get("provider"),
            "oidc_sid": (how.get("sid") or "")[:200],
            "label": device_label(request),
        },
    )


@receiver(user_logged_out)
def forget_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        SignInSession.objects.filter(session_key=session.session_key).delete()
