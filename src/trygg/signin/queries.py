"""Scoped reads of sign-in: the providers offered, and one's own sessions, tokens and second factors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from trygg.directory.models import ApiToken, Person
from trygg.errors import NotFoundOrHidden
from trygg.signin.models import IdentityLink, OidcProvider, SignInSession


def list_providers() -> QuerySet[OidcProvider]:
    """Return the providers the sign-in page offers (anyone may see them: they are on a public page)."""
    return OidcProvider.objects.filter(enabled=True).order_by("name", "id")


def provider_out(provider: OidcProvider) -> dict[str, Any]:
    return {"id": provider.pk, "name": provider.name,
            "login_url": reverse("signin:oidc_start", args=[provider.pk])}


def access_provider(provider_id: int) -> OidcProvider:
    """Return an enabled provider, or raise ``NotFoundOrHidden``."""
    found = list(OidcProvider.objects.filter(pk=provider_id, enabled=True)[:1]) if 0 < provider_id < 2**63 else []
    if not found:
        raise NotFoundOrHidden()
    return found[0]


def list_strong_providers(person: Person) -> list[OidcProvider]:
    """Return the providers the person is linked to that can sign them in at a higher level."""
    return list(
        OidcProvider.objects.filter(links__person=person, enabled=True).exclude(acr_strong="").order_by("name")
    )


def has_second_factor(person: Person) -> bool:
    """Return whether the person can step up: a confirmed TOTP device, or a provider with a higher level."""
    return TOTPDevice.objects.filter(user=person, confirmed=True).exists() or bool(list_strong_providers(person))


def confirmed_devices(person: Person) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=person, confirmed=True).order_by("id"))


def list_my_sessions(person: Person) -> QuerySet[SignInSession]:
    return SignInSession.objects.filter(person=person, expires_at__gt=timezone.now()).select_related(
        "provider").order_by("-created_at")


def list_my_tokens(person: Person) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(person=person, expires_at__gt=timezone.now()).order_by("-created_at")


def list_my_links(person: Person) -> QuerySet[IdentityLink]:
    return IdentityLink.objects.filter(person=person).select_related("provider").order_by("provider__name")


def access_my_session(person: Person, session_id: int) -> SignInSession:
    found = list(SignInSession.objects.filter(pk=session_id, person=person)[:1]) if 0 < session_id < 2**63 else []
    if not found:
        raise NotFoundOrHidden()
    return found[0]


def access_my_token(person: Person, token_id: int) -> ApiToken:
    found = list(ApiToken.objects.filter(pk=token_id, person=person)[:1]) if 0 < token_id < 2**63 else []
    if not found:
        raise NotFoundOrHidden()
    return found[0]


def find_person_for_link_code(username: str) -> Person:
    """Return the active person named for a link code, or 404; whether the viewer may is the policy's
    (``check_create_link_code``), and a refusal there is answered with the same 404."""
    found = list(Person.objects.filter(username=username, is_active=True)[:1])
    if not found:
        raise NotFoundOrHidden()
    return found[0]


def export_own(viewer: Person) -> dict[str, Any]:
    """Return the viewer's sign-ins for the right of access (R-PRIV-04): browsers, tokens, linked
    services and second factors. No secrets: no session keys, token digests or identity hashes."""
    return {
        "sessions": [{"created_at": s.created_at.isoformat(), "method": s.method, "device": s.label,
                      "provider": s.provider.name if s.provider else None} for s in list_my_sessions(viewer)],
        "api_tokens": [{"created_at": t.created_at.isoformat(), "method": t.method, "device": t.label,
                        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                        "expires_at": t.expires_at.isoformat()} for t in list_my_tokens(viewer)],
        "linked_services": [{"provider": link.provider.name, "linked_by": link.linked_by,
                             "linked_at": link.created_at.isoformat()} for link in list_my_links(viewer)],
        "authenticator_apps": [{"name": d.name, "confirmed": d.confirmed} for d in confirmed_devices(viewer)],
    }
