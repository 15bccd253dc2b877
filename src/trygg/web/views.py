"""The shell: sign-in, sign-out, the home page per role, and the health check."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trygg.audit.actions import do_audit
from trygg.directory import actions as directory_actions
from trygg.directory.models import Person
from trygg.directory.queries import list_children, list_classes
from trygg.errors import NotSignedIn, PolicyDenied, TooManyRequests
from trygg.signin import actions as signin_actions
from trygg.signin import queries as signin_queries
from trygg.signin import views as signin_views
from trygg.web.export import export_own_data
from trygg.web.forms import LoginForm


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST" and form.is_valid():
        try:
            person = directory_actions.check_credentials(
                request,
                form.cleaned_data["username"],
                form.cleaned_data["password"],
                directory_actions.client_address(request),
            )
        except (NotSignedIn, TooManyRequests, PolicyDenied) as exc:
            error = exc.message
            status = exc.status
        else:
            signin_actions.do_sign_in(request, person, method="password")
            return signin_views.after_sign_in(request, next_url)
    elif request.method == "POST":
        status = 400
    providers = [signin_queries.provider_out(p) for p in signin_queries.list_providers()]
    return render(request, "web/login.html", {"form": form, "error": error, "next": next_url,
                                              "providers": providers}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    provider_logout = signin_actions.do_sign_out(request)
    if not provider_logout:
        return redirect("web:login")
    # A page that moves on by itself, not a redirect: the sign-out form's own page allows forms to
    # go only to Trygg (CSP form-action), and a redirect after a form counts as the form's.
    return render(request, "signin/provider_logout.html", {"url": provider_logout})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    person = request.user
    roles = person.facts.roles
    return render(
        request,
        "web/home.html",
        {
            "person": person,
            "classes": list(list_classes(person)),
            "is_pupil": "pupil" in roles,
            "is_guardian": "guardian" in roles,
            "is_teacher": "teacher" in roles,
            "is_leader": "leader" in roles or "admin" in roles,
            "is_rep": bool({"union_rep", "safety_rep"} & roles),
            "children": list_children(person),
        },
    )


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """Download everything Trygg holds about the signed-in person (R-PRIV-04)."""
    return own_data_response(request.user)


def own_data_response(person: Person) -> HttpResponse:
    """Return the right-of-access document as a JSON download, and audit that it was made."""
    data = export_own_data(person)
    do_audit(person, "person.exported_own_data", person)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="trygg-{person.username}.json"'
    return response


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """One page for what is one's own: language, push devices, sign-ins, notices and one's data."""
    from trygg.notifications import actions as notice_actions
    from trygg.notifications.queries import list_push_devices
    from trygg.signin.queries import list_my_sessions

    person = request.user
    if request.method == "POST":
        form = request.POST.get("form")
        next_url = request.POST.get("next") or "/me/"
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = "/me/"
        if form == "language":
            language = request.POST.get("language", "")
            directory_actions.check_set_language(person, language)
            translation.activate(language)
            messages.success(request, _("Trygg now speaks the language you chose."))
            response = redirect(next_url)
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE, max_age=365 * 24 * 3600)
            return response
        if form == "push_off":
            raw = request.POST.get("device_id", "")
            notice_actions.check_remove_push_device(person, int(raw) if raw.isdigit() and len(raw) < 19 else 0)
            messages.success(request, _("Push notices are off for that device."))
            return redirect(next_url)
        return redirect("web:profile")
    pref = notice_actions.preferences_of([person.pk])[person.pk]
    return render(request, "web/profile.html", {
        "person": person,
        "push_devices": list_push_devices(person),
        "sessions": list(list_my_sessions(person)[:10]),
        "pref": pref,
        "languages": [(code, name) for code, name in settings.LANGUAGES],
    })
