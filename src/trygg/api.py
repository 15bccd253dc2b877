"""The JSON API, v1: one Ninja instance; each app contributes a router."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from trygg.api_auth import BearerAuth, SessionAuth
from trygg.api_errors import document_errors, error_response, trygg_error_response
from trygg.errors import TryggError


class TryggAPI(NinjaAPI):
    """Ninja with an OpenAPI document that declares every error answer (the JSON error of design.md)
    and short operation ids, which generated clients turn into function names (``send_message``)."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        return document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = TryggAPI(
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


def _answer_as_given() -> None:
    """Answer every operation with the fields its handler gave (``exclude_unset``), under their JSON
    names (``by_alias``: ``class``), and not with every optional field of its schema as null.

    Ninja takes both per operation; set here once for all rather than on each decorator.
    """
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                operation.exclude_unset = True
                operation.by_alias = True


_answer_as_given()
