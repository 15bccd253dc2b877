"""Class list pages: the overview, the list, a guardian's consent page, the teacher's completeness
view and the leader's access-request export. They call the same queries and actions as the API,
so a page cannot do what the API refuses.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trygg.classlist import actions, queries
from trygg.classlist.csv_export import csv_response
from trygg.classlist.models import ContactField, ExportFormat
from trygg.directory.models import Person
from trygg.errors import NotFoundOrHidden, TryggError
from trygg.policy.rules.classlist import FIELDS
from trygg.signin.stepup import require_step_up

FIELD_LABELS = dict(ContactField.choices)

# What a guardian reads about why a field is locked. Only the guardian of that child ever sees
# these: everyone else sees the field as not shared, like any field nobody turned on.
FLAG_REASONS = {
    "confidential_identity": gettext_lazy(
        "The school has marked your child's identity as strictly confidential, so nothing about your child "
        "can be shown in the class list."),
    "secret_address": gettext_lazy(
        "The school has marked your address as secret, so the address and your child's name cannot be shown."),
    "address_reveals_circumstances": gettext_lazy(
        "The school has marked that the address reveals personal circumstances, so it cannot be shown."),
    "secret_phone": gettext_lazy("The school has marked your phone number as secret, so it cannot be shown."),
}
SPECIAL_EDUCATION_REASON = gettext_lazy(
    "Who is in this class is confidential, so the class has no shared class list.")


def _lock_reasons(protection: dict[str, bool], special_education: bool) -> list[str]:
    if special_education:
        return [str(SPECIAL_EDUCATION_REASON)]
    if protection.get("confidential_identity"):
        # The strongest flag explains everything; listing the others would only add detail.
        return [str(FLAG_REASONS["confidential_identity"])]
    return [str(text) for flag, text in FLAG_REASONS.items() if protection.get(flag)]


def _own_value(guardian: Person, child: Person, field: str) -> str:
    """Return what turning ``field`` on would show, so a guardian knows what they share."""
    if field == "student_name":
        return child.name
    if field == "guardian_name":
        return guardian.name
    return getattr(guardian, field) or ""


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The classes whose list the viewer may open, with the pages each role has."""
    viewer = request.user
    classes = []
    for school_class in queries.visible_classes(viewer):
        allowed, _next = queries.can_remind(viewer, school_class)
        classes.append({
            "class": school_class,
            "children": queries.children_in_class(viewer, school_class),
            "contact_teacher": allowed,
        })
    return render(request, "classlist/overview.html", {
        "classes": classes,
        "export_classes": list(queries.leader_classes(viewer)),
    })


@login_required
@require_GET
def class_list(request: HttpRequest, class_id: int) -> HttpResponse:
    """The list itself: sortable, printable, readable on a phone (R-LIST-01, R-LIST-02, R-LIST-05)."""
    viewer = request.user
    school_class, decision = queries.access_contact_list(viewer, class_id)
    fields = queries.offered_fields(decision)
    rows = queries.list_rows(viewer, school_class, decision, via="page")
    allowed, _next = queries.can_remind(viewer, school_class)
    return render(request, "classlist/list.html", {
        "school_class": school_class,
        "columns": [(f, FIELD_LABELS[f]) for f in fields],
        "lines": [list(zip([FIELD_LABELS[f] for f in fields], line, strict=True))
                  for line in queries.flat_rows(rows, fields)],
        "pupils": len(rows),
        "is_guardian": bool(queries.children_in_class(viewer, school_class)),
        "contact_teacher": allowed,
    })


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, class_id: int) -> HttpResponse:
    """A guardian's consent page: the notice first, one toggle per field, locked fields explained."""
    viewer = request.user
    school_class = queries.access_class(viewer, class_id)
    children = queries.children_in_class(viewer, school_class)
    if not children:
        raise NotFoundOrHidden()
    refusal = None
    status = 200
    if request.method == "POST":
        wanted = {f: request.POST.get(f) == "on" for f in FIELDS}
        child = next((c for c in children if c.username == request.POST.get("student_username", "")), None)
        before = queries.consents_of(viewer, child) if child is not None else None
        try:
            # R-LIST-04: the action refuses a field turned on without the current notice accepted
            # (the checkbox here, or earlier), as it does for the API.
            actions.check_set_consent(viewer, class_id, request.POST.get("student_username", ""), wanted,
                                      via="page", notice_accepted=request.POST.get("notice_read") == "on")
        except TryggError as exc:
            if exc.status in (401, 404):
                raise
            refusal = exc.as_dict()
            status = exc.status
        else:
            # Honest about what happened: "saved" only when a choice really changed.
            after = queries.consents_of(viewer, child) if child is not None else None
            if before is not None and before == after:
                messages.info(request, _("Nothing was changed: your choices were already like this."))
            else:
                messages.success(request, _("Your choices are saved."))
            return redirect(reverse("classlist:consent", args=[class_id]))
    notice = actions.notice_for(viewer)
    forms = []
    for child in children:
        state = queries.consents_of(viewer, child)
        protection = {**queries.protection_of(viewer), **{k: v for k, v in queries.protection_of(child).items() if v}}
        locked = queries.locked_for(child, school_class, viewer)
        forms.append({
            "child": child,
            "fields": [{"name": f, "label": FIELD_LABELS[f], "on": state[f] and f not in locked,
                        "locked": f in locked, "value": _own_value(viewer, child, f)} for f in FIELDS],
            "all_locked": len(locked) == len(FIELDS),
            "reasons": _lock_reasons(protection, school_class.reveals_special_education) if locked else [],
            "history": queries.list_consent_history(viewer, child)[:20],
        })
    return render(request, "classlist/consent.html", {
        "school_class": school_class,
        "notice": notice,
        # The notice checkbox is shown until the current version is accepted (R-LIST-04).
        "first_time": actions.accepted_notice(viewer) is None,
        "forms": forms,
        "refusal": refusal,
    }, status=status)


@login_required
@require_GET
def completeness(request: HttpRequest, class_id: int) -> HttpResponse:
    """The contact teacher's view: how many pupils the list covers, never who (R-LIST-03)."""
    school_class, result = queries.access_completeness(request.user, class_id)
    _allowed, next_at = queries.can_remind(request.user, school_class)
    return render(request, "classlist/completeness.html", {
        "school_class": school_class, "completeness": result, "next_at": next_at,
    })


@login_required
@require_POST
def remind(request: HttpRequest, class_id: int) -> HttpResponse:
    try:
        result = actions.check_remind(request.user, class_id)
    except TryggError as exc:
        if exc.status in (401, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The reminder goes to %(n)d guardians.") % {"n": result.reminder.recipients})
    return redirect(reverse("classlist:completeness", args=[class_id]))


@login_required
@require_GET
def export(request: HttpRequest, class_id: int) -> HttpResponse:
    """The leader's access-request export (R-LIST-04): a form, then CSV or a printable page."""
    school_class = queries.access_export_class(request.user, class_id)
    # The export hands out the list as it stands; it is confidential until handed out (R-STAFF-02).
    require_step_up(request, school_class, "classlist_export")
    export_format = request.GET.get("format")
    if not export_format:
        return render(request, "classlist/export.html", {"school_class": school_class})
    if export_format not in (ExportFormat.CSV, ExportFormat.PRINT):
        export_format = ""
    try:
        result = actions.check_export(request.user, class_id, request.GET.get("requester", ""), export_format)
    except TryggError as exc:
        if exc.status in (401, 404):
            raise
        return render(request, "classlist/export.html",
                      {"school_class": school_class, "refusal": exc.as_dict(),
                       "requester": request.GET.get("requester", "")}, status=exc.status)
    if export_format == ExportFormat.CSV:
        return csv_response(result, class_id)
    return render(request, "classlist/export_print.html", {
        "school_class": school_class,
        "export": result.export,
        "columns": [FIELD_LABELS[f] for f in FIELDS],
        "lines": result.lines,
    })

