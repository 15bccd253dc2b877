"""Pages that need a step-up send the browser to the step-up page instead of an error page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from trygg.api_errors import API_PREFIX
from trygg.signin.stepup import StepUpRequired, step_up_url
from trygg.web.middleware import BothModes


class StepUpPagesMiddleware(BothModes):
    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, StepUpRequired) and not request.path.startswith(API_PREFIX):
            return HttpResponseRedirect(exc.extra.get("step_up_url") or step_up_url(request.get_full_path()))
        return None
