"""The JSON API, v1: one Ninja instance; each app contributes a router."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from trygg.api_auth import BearerAuth, SessionAuth
from trygg.api_errors import error_response, trygg_error_response
from trygg.errors import TryggError

api = NinjaAPI(
    title="Trygg API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)


@api.exception_handler(TryggError)
def trygg_error(request: HttpRequest, exc: TryggError) -> HttpResponse:
    return trygg_error_response(exc)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        fields.append({"field": ".".join(loc), "problem": err.get("msg", "")})
    return error_response(
        400,
        {
            "error": "bad_input",
            "message": _("Some of the input is not valid."),
            "rule": None,
            "requirement": None,
            "fields": fields,
        },
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        401, {"error": "not_signed_in", "message": _("You need to sign in."), "rule": None, "requirement": None}
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code, None)


def _mount() -> None:
    from trygg.cases.api import router as cases
    from trygg.classlist.api import router as classlist
    from trygg.directory.api import router as directory
    from trygg.events.api import router as events
    from trygg.meetings.api import calendar_router
    from trygg.meetings.api import router as meetings
    from trygg.messaging.api import router as messaging
    from trygg.notifications.api import router as notifications
    from trygg.policy.api import router as policy
    from trygg.safety.api import router as safety
    from trygg.signin.api import router as signin
    from trygg.web.api import router as web

    api.add_router("/", signin)
    api.add_router("/", directory)
    api.add_router("/", events)
    api.add_router("/", messaging)
    api.add_router("/", notifications)
    api.add_router("/", classlist)
    api.add_router("/meetings", meetings)
    api.add_router("/", calendar_router)
    api.add_router("/", cases)
    api.add_router("/", safety)
    api.add_router("/policy", policy)
    api.add_router("/", web)


_mount()
