"""JSON API of the shell: the person's own data (R-PRIV-04)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from trygg.web.views import own_data_response

router = Router(tags=["me"])


@router.get("/me/export", summary="Everything Trygg holds about me (right of access)")
def export_me(request: HttpRequest) -> HttpResponse:
    return own_data_response(request.auth)
