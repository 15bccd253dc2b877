"""The shell: sign-in, sign-out, the home page per role, and the health check."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
from trygg.signin.stepup import require_step_up
from trygg.web import audit
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
                device=request.COOKIES.get(settings.TRYGG_DEVICE_COOKIE),
            )
        except (NotSignedIn, TooManyRequests, PolicyDenied) as exc:
            error = exc.message
            status = exc.status
        else:
            signin_actions.do_sign_in(request, person, method="password")
            response = signin_views.after_sign_in(request, next_url)
            # This browser signed in to this account: its next sign-ins skip the throttling delay.
            response.set_cookie(settings.TRYGG_DEVICE_COOKIE, directory_actions.device_value(person.username),
                                max_age=directory_actions.DEVICE_MAX_AGE, secure=settings.HTTPS, httponly=True,
                                samesite="Lax", path="/")
            return response
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


def _dependencies() -> dict[str, str]:
    """Return each dependency's state: ``ok``, ``down`` or ``not_configured`` (Redis without REDIS_URL)."""
    parts = {"database": "ok", "redis": "not_configured"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure here means the database cannot serve
        parts["database"] = "down"
        # A broken connection is dropped, so the next request opens a fresh one.
        connection.close_if_unusable_or_obsolete()
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            parts["redis"] = "ok"
        except Exception:  # noqa: BLE001 - any failure here means Redis cannot serve
            parts["redis"] = "down"
    return parts


def _health_response(body: dict[str, str], healthy: bool) -> JsonResponse:
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    if not healthy:
        response["Retry-After"] = "5"
    return response


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Say which part is down: ``{"status": "ok"|"unavailable", "database", "redis"}`` (503 if any)."""
    parts = _dependencies()
    healthy = "down" not in parts.values()
    return _health_response({"status": "ok" if healthy else "unavailable", **parts}, healthy)


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when this worker can serve, 503 with Retry-After when it cannot."""
    healthy = "down" not in _dependencies().values()
    return _health_response({"status": "ready" if healthy else "unavailable"}, healthy)


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


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log's page: filter by person, kind of thing and position (R-PRIV-02)."""
    viewer = request.user
    audit.access_audit_log(viewer)
    require_step_up(request, None, "audit_log")
    raw_after = request.GET.get("after", "")
    flt = audit.AuditFilter(
        person=(request.GET.get("person") or "").strip()[:150] or None,
        kind=(request.GET.get("kind") or "").strip()[:60] or None,
        after=int(raw_after) if raw_after.isdigit() and len(raw_after) < 19 else None,
    )
    rows = list(audit.list_audit(viewer, flt))
    do_audit(viewer, "audit.read", None, person=flt.person, kind=flt.kind, after=flt.after, rows=len(rows))
    return render(request, "web/audit.html", {
        "rows": rows, "filter": flt, "next_after": rows[-1].pk if len(rows) == audit.PAGE_SIZE else None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def school_calendar(request: HttpRequest) -> HttpResponse:
    """The school calendar for staff: the year's holidays and imported days off, which school-hours
    holds and reminders follow (R-CHAT-05); the import form for a school's leaders."""
    from trygg.errors import TryggError
    from trygg.notifications import actions as notice_actions
    from trygg.notifications.queries import access_school_calendar

    person = request.user
    raw_year = request.GET.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
    calendar = access_school_calendar(person, year)
    refusal, status = None, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        text = request.POST.get("days", "")
        if upload is not None:
            text = upload.read(100_001).decode("utf-8", errors="replace")
        try:
            added = notice_actions.check_import_calendar(person, text)
        except TryggError as exc:
            if exc.status == 404:
                raise
            refusal, status = exc.as_dict(), exc.status
        else:
            messages.info(request, _("%(n)d days off were added to the calendar.") % {"n": added})
            return redirect(f"{request.path}?year={calendar.year}")
    return render(request, "web/school_calendar.html", {
        "calendar": calendar, "refusal": refusal, "form": request.POST,
        "previous_year": calendar.year - 1, "next_year": calendar.year + 1,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """One page for what is one's own: language, push devices, sign-ins, notices and one's data.

    Each signed-in browser can be signed out here, as each push device can be turned off: a
    grandparent who lost a phone finds both on one page."""
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
        if form == "session_off":
            raw = request.POST.get("session_id", "")
            row = signin_queries.access_my_session(person, int(raw) if raw.isdigit() and len(raw) < 19 else 0)
            current = row.session_key == request.session.session_key
            signin_actions.do_revoke_session(person, row)
            if current:
                return redirect("web:login")
            messages.success(request, _("That device is signed out."))
            return redirect("web:profile")
        if form == "push_off":
            raw = request.POST.get("device_id", "")
            notice_actions.check_remove_push_device(person, int(raw) if raw.isdigit() and len(raw) < 19 else 0)
            messages.success(request, _("Push notices are off for that device."))
            return redirect(next_url)
        return redirect("web:profile")
    from trygg.signin.revocation import session_credential

    pref = notice_actions.preferences_of([person.pk])[person.pk]
    mine = session_credential(request.session.session_key)
    return render(request, "web/profile.html", {
        "person": person,
        "push_devices": list_push_devices(person),
        "sessions": [{"row": s, "current": session_credential(s.session_key) == mine}
                     for s in list_my_sessions(person)[:10]],
        "pref": pref,
        "languages": [(code, name) for code, name in settings.LANGUAGES],
    })
