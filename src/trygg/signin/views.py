"""Sign-in pages: the provider round trip, the unknown-identity page with its link code, the
back-channel logout endpoint, step-up, adding an authenticator app, one's own sign-ins, and the
leaders' link codes."""

from __future__ import annotations

import logging
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from trygg.audit.actions import do_audit
from trygg.errors import NotFoundOrHidden, TryggError
from trygg.signin import actions, oidc, queries
from trygg.signin.models import OidcProvider
from trygg.signin.revocation import session_credential
from trygg.signin.stepup import is_stepped_up, strong_until, window_for

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    """Return ``candidate`` if it is a path on this site, else ``default`` (no open redirects)."""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()) \
            and candidate.startswith("/") and not candidate.startswith("//"):
        return candidate
    return default


def _unavailable(request: HttpRequest, provider: OidcProvider | None) -> HttpResponse:
    response = render(request, "signin/unavailable.html", {"provider": provider}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _refused(request: HttpRequest, exc: TryggError, provider: OidcProvider | None) -> HttpResponse:
    reason = getattr(exc, "reason", exc.code)
    log.info("sign-in through a provider refused: %s", reason)
    do_audit(request.user if request.user.is_authenticated else None, "auth.oidc_refused", provider,
             reason=reason)
    return render(request, "signin/refused.html", {"error": exc.as_dict(), "provider": provider},
                  status=exc.status)


def needs_second_factor(person: Any, request: HttpRequest) -> bool:
    """Return whether a staff member signed in without any way to step up, and must add one."""
    return person.facts.is_staff_member and not is_stepped_up(request) and not queries.has_second_factor(person)


def after_sign_in(request: HttpRequest, next_url: str) -> HttpResponse:
    """Where a fresh sign-in goes: staff with no second factor first add one (R-STAFF-02)."""
    if needs_second_factor(request.user, request):
        return redirect(f"{reverse('signin:otp')}?{urlencode({'required': '1', 'next': next_url})}")
    return redirect(next_url)


@require_GET
def oidc_start(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = queries.access_provider(provider_id)
    next_url = safe_next(request, request.GET.get("next"))
    step_up = request.GET.get("step_up") == "1"
    try:
        url = actions.check_begin_sign_in(request, provider, step_up=step_up, next_url=next_url)
    except oidc.ProviderUnavailable as exc:
        log.warning("sign-in provider %s unavailable: %s", provider.pk, exc)
        return _unavailable(request, provider)
    except actions.SignInRefused as exc:
        return _refused(request, exc, provider)
    return HttpResponseRedirect(url)


@require_GET
def oidc_callback(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = queries.access_provider(provider_id)
    params = {k: request.GET.get(k, "") for k in ("state", "code", "error")}
    try:
        outcome = actions.check_finish_sign_in(request, provider, params)
    except oidc.ProviderUnavailable as exc:
        log.warning("sign-in provider %s unavailable: %s", provider.pk, exc)
        return _unavailable(request, provider)
    except actions.SignInRefused as exc:
        return _refused(request, exc, provider)
    if outcome.unknown:
        return redirect("signin:unknown")
    return after_sign_in(request, safe_next(request, outcome.next_url))


@require_http_methods(["GET", "POST"])
def unknown_identity(request: HttpRequest) -> HttpResponse:
    """The page for an identity no one in the directory has: nothing is created; a link code links it."""
    waiting = request.session.get(actions.UNLINKED_KEY)
    provider = OidcProvider.objects.filter(pk=waiting.get("provider")).first() if isinstance(waiting, dict) else None
    error = None
    status = 200
    if request.method == "POST":
        try:
            outcome = actions.check_link_with_code(request, request.POST.get("code", ""))
        except actions.SignInRefused as exc:
            return _refused(request, exc, provider)
        except TryggError as exc:
            error, status = exc.as_dict(), exc.status
        else:
            return after_sign_in(request, safe_next(request, outcome.next_url))
    return render(request, "signin/unknown.html", {
        "provider": provider, "waiting": provider is not None, "error": error,
        "codes": provider is not None and provider.allow_link_codes,
    }, status=status if provider is not None or request.method == "GET" else 400)


@csrf_exempt
@require_POST
def backchannel_logout(request: HttpRequest, provider_id: int) -> HttpResponse:
    """OpenID Connect Back-Channel Logout 1.0: the provider says a person signed out there."""
    provider = OidcProvider.objects.filter(pk=provider_id).first() if 0 < provider_id < 2**63 else None
    if provider is None:
        response = JsonResponse({"error": "invalid_request"}, status=400)
    else:
        try:
            actions.do_backchannel_logout(provider, request.POST.get("logout_token", ""))
        except oidc.TokenRefused as exc:
            log.info("back-channel logout token refused: %s", exc.reason)
            response = JsonResponse({"error": "invalid_request", "error_description": exc.reason}, status=400)
        except oidc.ProviderUnavailable:
            response = JsonResponse({"error": "temporarily_unavailable"}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        else:
            response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def step_up_page(request: HttpRequest) -> HttpResponse:
    """Confirm it is you: a code from the authenticator app, or the provider's higher level."""
    person = request.user
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    error = None
    status = 200
    if request.method == "POST":
        try:
            actions.check_step_up_with_otp(request, person, request.POST.get("otp", ""))
        except TryggError as exc:
            error, status = exc.as_dict(), exc.status
        else:
            return redirect(next_url)
    return render(request, "signin/step_up.html", {
        "next": next_url,
        "has_app": bool(queries.confirmed_devices(person)),
        "providers": queries.list_strong_providers(person),
        "staff": person.facts.is_staff_member,
        "error": error,
        "window": int(window_for(person).total_seconds() // 60),
    }, status=status)


def _qr_svg(device: TOTPDevice) -> str:
    # segno writes a plain SVG (no inline style or script), which the page's CSP allows.
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1a1a1a", light="#ffffff")


@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app (TOTP). Replacing one that exists needs a step-up with it first."""
    person = request.user
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    has_app = bool(queries.confirmed_devices(person))
    if has_app and not is_stepped_up(request):
        return redirect(f"{reverse('signin:step_up')}?next={reverse('signin:otp')}")
    context: dict[str, Any] = {"next": next_url, "has_app": has_app, "required": request.GET.get("required") == "1"}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            device = actions.do_start_totp(person)
            context.update(device=device, qr=mark_safe(_qr_svg(device)),  # noqa: S308 - segno's own SVG
                           secret=_b32(device))
        elif action == "confirm":
            raw_id = request.POST.get("device", "")
            try:
                actions.check_confirm_totp(request, person, int(raw_id) if raw_id.isdigit() and len(raw_id) < 19
                                           else None, request.POST.get("otp", ""))
            except TryggError as exc:
                device = TOTPDevice.objects.filter(pk=raw_id, user=person, confirmed=False).first() \
                    if raw_id.isdigit() and len(raw_id) < 19 else None
                context.update(error=exc.as_dict(), device=device)
                if device is not None:
                    context.update(qr=mark_safe(_qr_svg(device)), secret=_b32(device))  # noqa: S308
                status = exc.status
            else:
                return redirect(next_url if next_url != "/" else reverse("signin:sessions"))
    return render(request, "signin/otp.html", context, status=status)


def _b32(device: TOTPDevice) -> str:
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode()
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


@login_required
@require_http_methods(["GET", "POST"])
def password_page(request: HttpRequest) -> HttpResponse:
    """Change one's password: every other sign-in (browsers, tokens, their sockets) ends; this
    browser stays signed in."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.do_change_password(request, form)
        return render(request, "signin/password.html", {"form": None, "changed": True})
    return render(request, "signin/password.html", {"form": form, "changed": False},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def sessions_page(request: HttpRequest) -> HttpResponse:
    """One's signed-in browsers and API tokens, and "sign out everywhere" (R-PRIV-01)."""
    person = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        raw_id = request.POST.get("id", "")
        item_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 19 else 0
        if action == "everywhere":
            actions.do_revoke_everywhere(person, person, reason="person")
            return redirect("web:login")
        if action == "session":
            row = queries.access_my_session(person, item_id)
            current = row.session_key == request.session.session_key
            actions.do_revoke_session(person, row)
            return redirect("web:login" if current else "signin:sessions")
        if action == "token":
            actions.do_revoke_token(person, queries.access_my_token(person, item_id))
            return redirect("signin:sessions")
        raise NotFoundOrHidden()
    mine = session_credential(request.session.session_key)
    until = strong_until(request)
    return render(request, "signin/sessions.html", {
        "sessions": [{"row": s, "current": session_credential(s.session_key) == mine}
                     for s in queries.list_my_sessions(person)],
        "tokens": list(queries.list_my_tokens(person)),
        "links": list(queries.list_my_links(person)),
        "has_app": bool(queries.confirmed_devices(person)),
        "strong_until": until,
        "may_hand_out_codes": bool(person.facts.led_school_ids or person.facts.admin_municipality_ids),
    })


@login_required
@require_http_methods(["GET", "POST"])
def link_code_page(request: HttpRequest) -> HttpResponse:
    """A leader or administrator makes a one-time link code for a person; it is shown once."""
    person = request.user
    if not (person.facts.led_school_ids or person.facts.admin_municipality_ids):
        raise NotFoundOrHidden()
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        context["username"] = username
        try:
            target = queries.find_person_for_link_code(username)
            code, raw = actions.check_create_link_code(person, target)
        except TryggError as exc:
            # A person the viewer may not hand a code to does not exist for them (R-PRIV-01).
            shown = NotFoundOrHidden() if exc.status in (403, 404) else exc
            context["error"] = shown.as_dict()
            status = shown.status
        else:
            context.update(code=raw, target=target, expires_at=code.expires_at)
    return render(request, "signin/link_code.html", context, status=status)
