"""The shell's middleware: pages need a signed-in person, signed-in answers are never cached, and
static files are served without leaving the event loop.

Every middleware here runs in both modes. Under the ASGI server (``trygg.asgi``) a request for
a sync view runs the sync chain in one hop to the process's shared thread, and a request for an
async view (the long poll) runs the async chain on the loop: one sync-only middleware in that
chain would make the long poll hold the shared thread for as long as it waits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import urlencode
from whitenoise.middleware import WhiteNoiseMiddleware

OPEN_PREFIXES = ("/login/", "/healthz", "/readyz", "/static/", "/api/", "/admin/", "/i18n/", "/favicon.ico",
                 "/calendar/feed/", "/signin/oidc/", "/signin/unknown/", "/manifest.webmanifest", "/sw.js", "/offline/")


class BothModes:
    """Base for middleware that runs sync under WSGI and tests, async under the ASGI server."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.async_mode:
            return self.__acall__(request)
        early = self.before(request, request.user if hasattr(request, "user") else None)
        if early is not None:
            return early
        return self.after(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser() if hasattr(request, "auser") else None
        early = self.before(request, user)
        if early is not None:
            return early
        return self.after(request, await self.get_response(request))

    def before(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response


class SignedInPagesMiddleware(BothModes):
    def before(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        signed_in = bool(user is not None and user.is_authenticated)
        request.trygg_signed_in = signed_in
        if not signed_in and not request.path.startswith(OPEN_PREFIXES):
            return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
        if signed_in and user.language and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            # A person's own language applies until they choose another in the switcher.
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return None

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "trygg_signed_in", False) or request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, able to sit in an async chain: a static file is a dictionary look-up and an
    opened file, cheap enough for the event loop; everything else is passed on."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(get_response, *args, **kwargs)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)


class StepUpPagesMiddleware(BothModes):
    """Pages that need a step-up send the browser to the step-up page instead of an error page."""

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        from trygg.signin.stepup import StepUpRequired, step_up_url

        # The API answers 403 step_up_required as JSON (trygg.api_errors); only pages redirect.
        if isinstance(exc, StepUpRequired) and not request.path.startswith("/api/"):
            return HttpResponseRedirect(exc.extra.get("step_up_url") or step_up_url(request.get_full_path()))
        return None
