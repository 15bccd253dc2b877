"""Case pages: the report dialog, my reports, the leader's case list, the case page and its export.

Plain forms that work without script. Every page reads through ``queries`` (404 for anyone not in
the case) and writes through ``actions``; a refusal is shown on the case page with its rule.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trygg.audit.actions import do_audit
from trygg.cases import actions, queries, words
from trygg.cases.evidence import media_root
from trygg.cases.models import WORKFLOW, Case, Category, Participant, Status
from trygg.cases.serialise import reopen_deadline, serialise_case, step_label, timeline_rows
from trygg.directory.queries import list_children
from trygg.errors import BadInput, NotFoundOrHidden, TooLarge, TryggError
from trygg.messaging.queries import access_message
from trygg.signin.stepup import require_step_up

# The simple form for a young pupil (R-PUP-02): a few plain choices, each a category.
PUPIL_CHOICES = ("bullying", "exclusion", "nicknames_threats", "threat_violence_stalking")


def _lang() -> str:
    return (get_language() or "nb")[:2]


def _is_young_pupil(person: Any) -> bool:
    facts = person.facts
    return "pupil" in facts.roles and not facts.is_adult


def _uploads(request: HttpRequest) -> list[actions.Upload]:
    limit = actions.max_upload_bytes()
    uploads = []
    for f in request.FILES.getlist("files"):
        if f.size is not None and f.size > limit:
            raise TooLarge(code="file_too_large")
        uploads.append(actions.check_upload(f.name or "file", f.read(limit + 1)))
    return uploads


@login_required
@require_GET
def my_reports(request: HttpRequest) -> HttpResponse:
    person = request.user
    child = "pupil" in person.facts.roles
    return render(request, "cases/mine.html", {
        "cases": [{"case": c, "what": words.category_words(c, child), "step": words.STEP[Status(c.status)]}
                  for c in queries.list_my_reports(person)],
        "handles": bool(person.facts.roles & {"leader", "union_rep", "safety_rep"})
        or queries.list_handled_cases(person).exists(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def report_view(request: HttpRequest) -> HttpResponse:
    """The report dialog: simple for a young pupil ("show an adult"), complete for an adult."""
    person = request.user
    raw_id = request.GET.get("message") or request.POST.get("message_id") or ""
    message = access_message(person, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 19 else None
    if message is not None and message.deleted_at is not None:
        raise NotFoundOrHidden()
    simple = _is_young_pupil(person)
    categories = [c for c in actions.available_categories(person) if not simple or c in PUPIL_CHOICES]
    context: dict[str, Any] = {
        "message": message,
        "simple": simple,
        "categories": [(c, Category(c).label) for c in categories],
        "form": request.POST,
        # A guardian reports for a child by ticking them, without knowing usernames (R-PAR-03).
        "children": [] if simple else list_children(person),
    }
    if request.method == "POST":
        try:
            harmed = [u.strip() for u in request.POST.get("harmed_usernames", "").split(",") if u.strip()]
            harmed += [u for u in request.POST.getlist("harmed") if u and u not in harmed]
            case = actions.check_report(
                person,
                category=request.POST.get("category", ""),
                description=request.POST.get("description", ""),
                message_id=message.pk if message else None,
                reported_username=(request.POST.get("reported_username") or "").strip() or None,
                harmed_usernames=harmed,
                uploads=_uploads(request),
            )
        except (BadInput, TooLarge) as exc:
            context["error"] = exc.as_dict()
            return render(request, "cases/report.html", context, status=exc.status)
        except TryggError as exc:
            if exc.status == 404:
                raise
            context["error"] = exc.as_dict()
            return render(request, "cases/report.html", context, status=exc.status)
        return redirect(reverse("cases:sent", args=[case.pk]))
    return render(request, "cases/report.html", context)


@login_required
@require_GET
def sent_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = queries.access_case(request.user, case_id)
    return render(request, "cases/sent.html", {"case": case, "simple": _is_young_pupil(request.user)})


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The leader's (and representatives') open cases, oldest first (R-CASE-12)."""
    now = timezone.now()
    rows = [{"case": c, **queries.age_of(c, now)} for c in queries.list_handled_cases(request.user)]
    return render(request, "cases/list.html", {"rows": rows})


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    person = request.user
    full = queries.is_handler(person, case)
    roles = queries.roles_in(person, case)
    data = serialise_case(person, case, _lang())
    position = WORKFLOW.index(Status(case.status))
    next_status = WORKFLOW[position + 1] if position + 1 < len(WORKFLOW) else None
    evidence = []
    if full:
        for item in case.evidence.order_by("seq"):
            evidence.append({"item": item, "content": json.loads(item.canonical)})
    steps = list(case.steps.select_related("done_by")) if full else []
    for step in steps:
        step.label = step_label(step, _lang())
    timeline = timeline_rows(case, full)
    for row in timeline:
        # A status change reads as the step's name in the reader's language, never its code.
        after = row.data.get("after")
        row.after_label = Status(after).label if after in Status.values else ""
    return {
        "case": case,
        "data": data,
        "full": full,
        "is_leader": case.assigned_leader_id == person.pk,
        "can_confirm": bool(roles & {Participant.Role.HARMED, Participant.Role.HARMED_GUARDIAN}),
        "can_reopen": bool(roles & {Participant.Role.HARMED, Participant.Role.HARMED_GUARDIAN})
        and case.is_closed and timezone.now() <= (reopen_deadline(case) or timezone.now()),
        "my_confirmation": queries.has_confirmed(person, case),
        "next_status": next_status,
        "next_label": Status(next_status).label if next_status else "",
        "steps": steps,
        "evidence": evidence,
        "timeline": timeline,
        # The reporter's side reads the case in plain words (R-PUP-02): see ``cases.words``.
        "family": None if full else words.family_view(person, case, timeline),
        "participants": case.participants.select_related("person").order_by("role", "person__name") if full else [],
        "workflow": [(s.value, s.label) for s in WORKFLOW],
        **extra,
    }


def _open_case(request: HttpRequest, case_id: int) -> Case:
    """Return the case, audited; a handler opens the case file only after a recent strong sign-in
    (R-STAFF-02). Someone outside the case gets 404 before any step-up is asked for."""
    case = queries.access_case(request.user, case_id, audit=False)
    if queries.is_handler(request.user, case):
        require_step_up(request, case, "case_file")
    do_audit(request.user, "case.viewed", case)
    return case


@login_required
@require_GET
def case_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _open_case(request, case_id)
    return render(request, "cases/case.html", _detail_context(request, case))


def _act(request: HttpRequest, case_id: int, fn: Any) -> HttpResponse:
    """Run a case action from a form; show a refusal on the case page with its rule."""
    try:
        fn()
    except TryggError as exc:
        if exc.status == 404:
            raise
        case = _open_case(request, case_id)
        return render(request, "cases/case.html", _detail_context(request, case, error=exc.as_dict()),
                      status=exc.status)
    return redirect(reverse("cases:detail", args=[case_id]))


@login_required
@require_POST
def transition_view(request: HttpRequest, case_id: int) -> HttpResponse:
    return _act(request, case_id, lambda: actions.check_transition(request.user, case_id, request.POST.get("to", "")))


@login_required
@require_POST
def confirm_view(request: HttpRequest, case_id: int) -> HttpResponse:
    confirmed = request.POST.get("confirmed") == "1"
    return _act(request, case_id, lambda: actions.check_confirm(request.user, case_id, confirmed))


@login_required
@require_POST
def step_view(request: HttpRequest, case_id: int, step_id: int) -> HttpResponse:
    return _act(request, case_id, lambda: actions.check_set_step(
        request.user, case_id, step_id, request.POST.get("done") == "1",
        request.POST.get("reference", ""), request.POST.get("note", ""),
        request.POST.get("not_applicable") == "1", request.POST.get("reason", "")))


@login_required
@require_POST
def family_message_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """R-PAR-03: the parent's message to the other family, waiting for the leader."""
    body = request.POST.get("body", "")
    return _act(request, case_id, lambda: actions.check_propose_family_message(request.user, case_id, body))


@login_required
@require_POST
def family_decision_view(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    approve = request.POST.get("approve") == "1"
    return _act(request, case_id, lambda: actions.check_decide_family_message(
        request.user, case_id, message_id, approve))


@login_required
@require_POST
def reopen_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The harmed side says a closed case is not over (R-CASE-20)."""
    return _act(request, case_id, lambda: actions.check_reopen(request.user, case_id))


@login_required
@require_POST
def contact_view(request: HttpRequest, case_id: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return _act(request, case_id, lambda: actions.check_log_contact(request.user, case_id, note))


@login_required
@require_POST
def follow_up_view(request: HttpRequest, case_id: int) -> HttpResponse:
    raw = request.POST.get("days", "")
    days: Any = int(raw) if raw.isdigit() else raw
    return _act(request, case_id, lambda: actions.check_set_follow_up(request.user, case_id, days))


@login_required
@require_POST
def evidence_view(request: HttpRequest, case_id: int) -> HttpResponse:
    queries.access_case(request.user, case_id, audit=False)
    return _act(request, case_id, lambda: actions.check_add_evidence(request.user, case_id, _uploads(request)))


def _handled_case(request: HttpRequest, case_id: int) -> Case:
    case = queries.access_case(request.user, case_id, audit=False)
    if not queries.is_handler(request.user, case):
        raise NotFoundOrHidden()
    return _open_case(request, case_id)


@login_required
@require_GET
def evidence_file(request: HttpRequest, case_id: int, seq: int) -> HttpResponse:
    item = queries.access_evidence_upload(_handled_case(request, case_id), seq)
    content = json.loads(item.canonical)
    suffix = item.file_path.rsplit(".", 1)[-1]
    response = FileResponse((media_root() / item.file_path).open("rb"), content_type=content["content_type"],
                            as_attachment=True, filename=f"case-{case_id}-item-{item.seq}.{suffix}")
    response["X-Content-Type-Options"] = "nosniff"
    # The original as reported, never rendered by Trygg's origin even if a browser tried.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@login_required
@require_GET
def print_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """A printable case file for the police or the safety system (R-CASE-02, R-CASE-10)."""
    case = _handled_case(request, case_id)
    actions.record_export(request.user, case, "print")
    return render(request, "cases/print.html", _detail_context(request, case))


def build_zip(case: Case) -> bytes:
    """Return the case's evidence as a ZIP: each item's canonical JSON, the uploaded files and a
    manifest of their SHA-256 and chain hashes, so the receiver can check them without Trygg."""
    buffer = io.BytesIO()
    manifest: dict[str, Any] = {"case_id": case.pk, "category": case.category, "status": case.status,
                                "algorithm": "sha256", "chain": "chain_hash = sha256(prev_chain_hash + sha256)",
                                "genesis": "0" * 64, "items": []}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in case.evidence.order_by("seq"):
            name = f"evidence/{item.seq:04d}-{item.kind}.json"
            archive.writestr(name, item.canonical.encode("utf-8"))
            entry = {"seq": item.seq, "kind": item.kind, "file": name, "sha256": item.sha256,
                     "prev_hash": item.prev_hash, "chain_hash": item.chain_hash}
            if item.file_path:
                upload_name = f"files/{item.seq:04d}.{item.file_path.rsplit('.', 1)[-1]}"
                archive.write(media_root() / item.file_path, upload_name)
                entry["upload"] = upload_name
                entry["upload_sha256"] = json.loads(item.canonical)["file_sha256"]
            manifest["items"].append(entry)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return buffer.getvalue()


@login_required
@require_GET
def export_zip(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _handled_case(request, case_id)
    actions.record_export(request.user, case, "zip")
    response = HttpResponse(build_zip(case), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="trygg-case-{case.pk}.zip"'
    return response
