"""Every browser sign-in, whichever door it came through (the login page, a provider, the admin's
login), becomes a ``SignInSession`` its person can see and end; a sign-out forgets it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from trygg.audit.actions import do_audit
from trygg.directory.models import Person
from trygg.signin.models import SignInSession
from trygg.signin.revocation import close_sockets_of, session_credential
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


# ------------------------------------------------------------------ revocation by any route

@receiver(pre_save, sender=Person)
def remember_credentials(sender: Any, instance: Person, update_fields: Any = None, **kwargs: Any) -> None:
    """Note the stamp and the active flag as stored, so ``end_old_sign_ins`` sees a change made
    through any route: the admin, ``trygg manage changepassword``, ``set_password()`` and ``save()``."""
    watched = {"credential_stamp", "is_active"}
    if instance.pk is None or (update_fields is not None and not watched & set(update_fields)):
        instance._stored_credentials = None
        return
    instance._stored_credentials = Person.objects.filter(pk=instance.pk).values_list(
        "credential_stamp", "is_active").first()


@receiver(post_save, sender=Person)
def end_old_sign_ins(sender: Any, instance: Person, created: bool, **kwargs: Any) -> None:
    """A new password ends every older session and token (they are bound to the stamp); a
    deactivated person's sign-ins all end. Their open sockets close (4401) after the commit.

    ``instance._keep_credential`` names the sign-in that changed the password, which stays.
    """
    stored = getattr(instance, "_stored_credentials", None)
    if created or stored is None:
        return
    stamp, was_active = stored
    deactivated = was_active and not instance.is_active
    if stamp == instance.credential_stamp and not deactivated:
        return
    keep = None if deactivated else getattr(instance, "_keep_credential", None)
    person_id = instance.pk
    # The ended browsers leave the person's list of sign-ins too.
    for row in SignInSession.objects.filter(person_id=person_id):
        if keep is None or session_credential(row.session_key) != keep:
            row.delete()
    do_audit(None, "auth.sign_ins_ended", instance, reason="deactivated" if deactivated else "password_changed")
    close_sockets_of(person_id, keep=keep)  # after the commit
