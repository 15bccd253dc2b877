"""The staff's safety alerts page and the "show an adult" button's form fallback.

Plain forms that work without script. Reads through ``queries`` (404 for pupils and guardians),
writes through ``actions``. An alert shows category, the writing pupil, the conversation and the
time; never the message text (R-SAFE-02).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from trygg.events.log import latest_event_id
from trygg.safety import actions, queries
from trygg.safety.texts import category_label


@login_required
@require_GET
def alerts_page(request: HttpRequest) -> HttpResponse:
    rows = []
    for alert in queries.list_alerts(request.user):
        rows.append({"alert": alert, "label": category_label(alert.category),
                     "counts": [(category_label(k), v) for k, v in sorted((alert.counts or {}).items())]})
    return render(request, "safety/alerts.html", {"rows": rows, "latest_event_id": latest_event_id(request.user.pk)})


@login_required
@require_POST
def acknowledge_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    actions.check_acknowledge(request.user, alert_id)
    return redirect(reverse("safety:alerts") + f"#alert-{alert_id}")


@login_required
@require_POST
def case_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    case = actions.check_make_case(request.user, alert_id)
    return redirect("cases:detail", case_id=case.pk)


@login_required
@require_POST
def show_an_adult_view(request: HttpRequest, message_id: int) -> HttpResponse:
    case = actions.check_show_an_adult(request.user, message_id)
    return redirect("cases:sent", case_id=case.pk)
