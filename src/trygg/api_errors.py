"""Turn every error under /api/ into the JSON error of design.md, and refuse bodies over the limit."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from trygg.api_schemas import ApiError
from trygg.database import is_unavailable
from trygg.errors import TryggError, Unavailable
from trygg.web.middleware import BothModes

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


ERROR_DESCRIPTIONS = {
    400: "Bad input (also a NUL character or an id beyond 64 bits anywhere in the request)",
    401: "Not signed in, or wrong credentials",
    403: "Denied by policy or role, a step-up needed, or a missing CSRF token",
    404: "Not visible to the caller (or does not exist: the same answer)",
    409: "Wrong state for this action",
    413: "The request body is too large",
    429: "Too many requests; see Retry-After",
    503: "A dependency (database, Redis) is unreachable; see Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """Return the error statuses an operation can answer, by what every request passes through.

    Every request can be bad input (the middleware's checks) and meet an unreachable dependency;
    a signed-in route can answer 401, 403 (policy, step-up, CSRF for a session) and 404 (what
    the caller cannot see); a write can also meet a wrong state (409), a body over the limit (413)
    and the abuse limits (429; sign-in throttling too).
    """
    statuses = {400, 503}
    signed_in = bool(operation.get("security"))
    has_path_ids = any(p.get("in") == "path" for p in operation.get("parameters", []))
    if signed_in:
        statuses |= {401, 403, 404}
    if has_path_ids:
        statuses.add(404)
    if method.lower() in ("post", "put", "patch", "delete"):
        statuses |= {409, 413, 429}
        if not signed_in:
            statuses.add(401)  # the sign-in routes answer wrong credentials with 401
    return sorted(statuses)


NO_NUL = r"^[^\x00]*$"


def _refuse_nul(node: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Give every string of a request schema without a pattern the NUL-free one: the middleware
    answers 400 to a NUL anywhere in a path, a query or a JSON body (PostgreSQL cannot store it)."""
    if isinstance(node, list):
        for item in node:
            _refuse_nul(item, components, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _refuse_nul(components[name], components, seen)
        return
    if node.get("type") == "string" and "pattern" not in node and "format" not in node and "enum" not in node \
            and "const" not in node:
        node["pattern"] = NO_NUL
    for key, value in node.items():
        if key not in ("pattern", "$ref"):
            _refuse_nul(value, components, seen)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation really gives to an OpenAPI document, in place; return it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # Named ApiError: generators keep "Error" for their own classes (openapi-python-client does).
    error = ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error.pop("$defs", {}))
    components["ApiError"] = error
    seen: set[str] = set()
    for ops in schema.get("paths", {}).values():
        for operation in ops.values():
            for parameter in operation.get("parameters", []):
                _refuse_nul(parameter.get("schema"), components, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _refuse_nul(media.get("schema"), components, seen)
    for ops in schema.get("paths", {}).values():
        for method, operation in ops.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                if str(status) in responses or status in responses:
                    continue
                answer: dict[str, Any] = {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}},
                }
                if status in (429, 503):
                    answer["headers"] = _RETRY_AFTER
                responses[status] = answer
    return schema


def default_error(status: int) -> dict[str, Any]:
    codes = {
        400: ("bad_input", _("Some of the input is not valid.")),
        401: ("not_signed_in", _("You need to sign in.")),
        403: ("forbidden", _("You are not allowed to do this.")),
        404: ("not_found", _("Not found.")),
        405: ("method_not_allowed", _("This method is not allowed here.")),
        409: ("wrong_state", _("That cannot be done in the current state.")),
        413: ("too_large", _("The request is too large.")),
        429: ("too_many_requests", _("Too many requests. Wait a little and try again.")),
    }
    code, message = codes.get(status, ("server_error", _("Something went wrong on our side.")))
    return {"error": code, "message": message, "rule": None, "requirement": None}


def error_response(status: int, body: dict[str, Any] | None, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse(body or default_error(status), status=status)
    response["Cache-Control"] = "no-store"
    if retry_after is not None:
        response["Retry-After"] = str(int(retry_after))
    return response


def trygg_error_response(exc: TryggError) -> JsonResponse:
    """Return the JSON answer of a raised ``TryggError``, with ``Retry-After`` when it has one."""
    return error_response(exc.status, exc.as_dict(), exc.retry_after)


class ApiErrorMiddleware(BothModes):
    """Give API clients JSON errors for what Django answers itself (unknown routes, 405, big bodies)."""

    def before(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, None)
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        if length > (settings.TRYGG_API_MAX_UPLOAD_BODY if multipart else settings.TRYGG_API_MAX_BODY):
            return error_response(413, None)
        beyond = _beyond_64_bits(request)
        if beyond is not None:
            return error_response(beyond, None)
        try:
            if _has_nul(request):
                return error_response(400, None)
        except RequestDataTooBig:
            return error_response(413, None)
        return None

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and response.status_code >= 400 and not _is_json(response):
            answer = error_response(response.status_code, None)
            for header in ("Allow", "Retry-After"):
                # RFC 9110: a 405 names the methods the resource supports.
                if response.has_header(header):
                    answer[header] = response[header]
            return answer
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return exception_response(request, exc)


def exception_response(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    """Return the answer to an exception a view raised, or None for Django's 500 (``server_error``)."""
    is_api = request.path.startswith(API_PREFIX)
    if isinstance(exc, TryggError):
        if is_api:
            return trygg_error_response(exc)
        page = render(request, "web/error.html", {"error": exc.as_dict(), "status": exc.status},
                      status=exc.status)
        if exc.retry_after is not None:
            page["Retry-After"] = str(int(exc.retry_after))
        return page
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, None) if is_api else None
    if is_api and isinstance(exc, Http404):
        return error_response(404, None)
    if is_api and isinstance(exc, PermissionDenied):
        return error_response(403, None)
    if is_api and isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | ValueError | OverflowError):
        return error_response(400, None)
    if is_unavailable(exc):
        return unavailable_response(request, exc)
    if is_api and isinstance(exc, DataError):
        # The database refused a value validation let through (too long, out of range):
        # bad input all the same, but a gap in some schema, so it is logged.
        log.warning("database refused input on %s %s: %s", request.method, request.path, type(exc).__name__)
        return error_response(400, None)
    return None


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """Return the honest answer to an unreachable database or Redis: 503 with ``Retry-After``."""
    log.warning("dependency unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
    unavailable = Unavailable()
    if request.path.startswith(API_PREFIX):
        return trygg_error_response(unavailable)
    response = HttpResponse(str(unavailable.message), status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(unavailable.retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: an unreachable dependency is a 503 (``unavailable_response``), not a 500.

    Called inside the exception's handling, wherever it was raised (a view or any middleware,
    such as the session's read), so ``sys.exc_info`` names it.
    """
    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc):
        return unavailable_response(request, exc)
    if request.path.startswith(API_PREFIX):
        return error_response(500, None)
    return HttpResponse(_("Something went wrong on our side."), status=500, content_type="text/plain; charset=utf-8")


def _has_nul(request: HttpRequest) -> bool:
    """Return whether the path, a query value or a JSON body carries a NUL character.

    PostgreSQL text cannot hold NUL; no name, id or message needs one. Uploads (multipart) may.
    """
    if "\x00" in request.path or any("\x00" in v for _k, values in request.GET.lists() for v in values):
        return True
    if request.content_type == "application/json" and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = request.body
        return b"\x00" in body or b"\\u0000" in body
    return False


# No row id fits beyond a signed 64-bit integer; such a number sent on to the database overflows
# (SQLite raises OverflowError, PostgreSQL a DataError that also aborts the transaction).
MAX_ID = 2**63 - 1


def _beyond_64_bits(request: HttpRequest) -> int | None:
    """Return 404 for a path id, 400 for a query value, that no 64-bit id can be; else None."""
    for segment in request.path.split("/"):
        stem = segment.split(".", 1)[0]
        if stem.isdigit() and len(stem) >= 19 and int(stem) > MAX_ID:
            return 404
    for values in request.GET.lists():
        for value in values[1]:
            digits = value.strip().lstrip("+-")
            if digits.isdigit() and len(digits) >= 19 and int(digits) > MAX_ID:
                return 400
    return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
