"""The rulebook (every signed-in person, with the R-ACK-01 confirmation for pupils and guardians)
and the explain page (school leaders and administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from trygg.errors import BadInput, NotFoundOrHidden, WrongState
from trygg.policy import explain as explainer
from trygg.policy.actions import check_acknowledge_guidelines
from trygg.policy.engine import decide
from trygg.policy.queries import acknowledgement_status, group_by_pack, language_of, list_rules, show_value
from trygg.policy.short import has_short_page, list_cards

EXPLAINER_ROLES = frozenset({"leader", "admin"})


@require_GET
def rulebook(request: HttpRequest) -> HttpResponse:
    """The active rules that concern the viewer's roles (``?all=1``: every active rule)."""
    viewer = request.user
    everyone = request.GET.get("all") == "1"
    lang = language_of(viewer)
    rows = list_rules(viewer, lang, everyone=everyone)
    can_explain = bool(viewer.facts.roles & EXPLAINER_ROLES)
    for row in rows:
        # Settings are for those who answer for them; everyone else reads them in the text.
        row["settings"] = [(k, show_value(v)) for k, v in row["params"].items()] if can_explain else []
    ack = acknowledgement_status(viewer)
    current = [a for a in ack["acknowledgements"] if a["current"]]
    return render(
        request,
        "policy/rulebook.html",
        {
            "packs": group_by_pack(rows),
            "count": len(rows),
            "everyone": everyone,
            "can_explain": can_explain,
            "short_page": has_short_page(viewer.facts.roles),
            "ack": ack,
            "ack_latest": parse_datetime(current[0]["acknowledged_at"]) if current else None,
        },
    )


@require_GET
def short(request: HttpRequest) -> HttpResponse:
    """The guidelines in short for a pupil or a guardian, with the rulebook one tap away (R-ACK-01)."""
    viewer = request.user
    ack = acknowledgement_status(viewer)
    current = [a for a in ack["acknowledgements"] if a["current"]]
    return render(request, "policy/short.html", {
        "cards": list_cards(viewer),
        "is_pupil": "pupil" in viewer.facts.roles,
        "ack": ack,
        "ack_latest": parse_datetime(current[0]["acknowledged_at"]) if current else None,
        "ack_next": "short",
    })


@require_POST
def acknowledge(request: HttpRequest) -> HttpResponse:
    """R-ACK-01: record "I have read these" (or "with my child …") and return to the rulebook."""
    who = request.POST.get("with", "")
    child_id = None
    if who.startswith("child-"):
        child_id = who.removeprefix("child-")
        if not child_id.isdigit():
            raise NotFoundOrHidden()
    elif who not in ("", "alone"):
        raise BadInput(_("Choose who read the guidelines."))
    page = "policy:short" if request.POST.get("next") == "short" else "policy:rulebook"
    back = reverse(page) + "#acknowledge"
    try:
        ack, _created = check_acknowledge_guidelines(
            request.user, child_id=int(child_id) if child_id else None, version=request.POST.get("version") or None
        )
    except WrongState as exc:
        messages.warning(request, str(exc.message))
        return redirect(back)
    if ack.child_id:
        messages.success(request, _("Thank you. You have confirmed that you went through the guidelines with %(name)s.")
                         % {"name": ack.child.name})
    else:
        messages.success(request, _("Thank you. You have confirmed that you have read the guidelines."))
    return redirect(back)


@require_GET
def explain_page(request: HttpRequest) -> HttpResponse:
    """Leaders see why an action was allowed or refused for someone at their school (404 for others)."""
    viewer = request.user
    if not viewer.facts.roles & EXPLAINER_ROLES:
        raise NotFoundOrHidden()
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    target = request.GET.get("target", "").strip() or None
    context = request.GET.get("context", "").strip() or None
    lang = language_of(viewer)
    result = None
    error = None
    unknown = _("No such person or target at your school.")
    status = 200
    if action and actor:
        try:
            result = explainer.explain(action, actor, target, context)
        except BadInput as exc:
            error, status = (unknown if exc.code == "unknown" else exc.message), 400
        else:
            # Leaders see explanations for people at their own schools only (R-PRIV-01); someone
            # elsewhere gets the same answer as someone who does not exist.
            if not decide("policy.explain", viewer, result.actor.facts).allowed:
                result, error, status = None, unknown, 400
    return render(
        request,
        "policy/explain.html",
        {
            "actions": explainer.known_actions(),
            "form": {"action": action, "actor": actor, "target": target or "", "context": context or ""},
            "result": result,
            "decision": result.decision if result else None,
            "fired": [
                {"rule": f.rule, "verdict": f.verdict, "reason": f.reason(lang),
                 "title": f.rule.title.get(lang) or f.rule.title["en"]}
                for f in (result.decision.fired if result else ())
            ],
            "reason": result.decision.reason(lang) if result else "",
            "error": error,
        },
        status=status,
    )
