"""Writes of the class contact list: consent, the reminder, the access-request export.

Each asks the policy first, writes in one transaction and writes the audit row (ids only, never
contact details). A consent change is an event to the guardian who made it (their other pages);
the list itself is read when opened, so nobody else needs a live event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.classlist import queries
from trygg.classlist.events import CONSENT_CHANGED
from trygg.classlist.models import (
    AccessRequestExport,
    Consent,
    ConsentChange,
    ExportFormat,
    NoticeAcceptance,
    Reminder,
)
from trygg.directory.models import Person, SchoolClass
from trygg.errors import BadInput, PolicyDenied, WrongState
from trygg.events.log import emit_event
from trygg.policy.engine import Decision, check, decide, registry
from trygg.policy.queries import language_of
from trygg.policy.rules.classlist import FIELDS

MAX_REQUESTER_CHARS = 200


def notice_version() -> str:
    """Return the current version of the public-records notice: a hash of its texts in every
    language, so a changed wording needs a new acceptance and a translation alone counts as one."""
    spec = registry().rules[queries.NOTICE_RULE]
    canonical = json.dumps(dict(sorted(spec.reason.items())), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def notice_for(viewer: Person, language: str | None = None) -> dict[str, str]:
    """Return the notice a guardian is shown before sharing (R-LIST-04): text, language, rule and
    version."""
    lang = language_of(viewer, language)
    spec = registry().rules[queries.NOTICE_RULE]
    return {"text": spec.reason.get(lang) or spec.reason["en"], "language": lang, "rule": spec.id,
            "version": notice_version()}


def accepted_notice(guardian: Person) -> NoticeAcceptance | None:
    """Return the guardian's latest acceptance of the current notice version, if any."""
    return NoticeAcceptance.objects.filter(guardian=guardian, version=notice_version()).order_by("-id").first()


# ----------------------------------------------------------------------------------- consent


def check_set_consent(
    actor: Person, class_id: int, student_username: str, fields: Mapping[str, bool], *, via: str = "api",
    notice_accepted: bool = False,
) -> dict[str, bool]:
    """Set the actor's consent for each field about their child in the class; return the new state.

    The whole request is refused if any field turned on is confidential (R-LIST-05): nothing is
    written, so no route turns on part of what the school protects. Turning a field on needs the
    current public-records notice accepted, in this request (``notice_accepted``) or earlier
    (R-LIST-04): otherwise 409 with the notice. Turning fields off is always possible (R-LIST-06).
    """
    school_class = queries.access_class(actor, class_id)
    pupil = queries.access_child(actor, school_class, student_username)
    unknown = set(fields) - set(FIELDS)
    missing = set(FIELDS) - set(fields)
    if unknown or missing or not all(isinstance(v, bool) for v in fields.values()):
        raise BadInput(_("Give true or false for each of: %(fields)s.") % {"fields": ", ".join(FIELDS)})
    wanted = tuple(f for f in FIELDS if fields[f])
    turning_on = set(wanted) - set(Consent.objects.filter(guardian=actor, pupil=pupil).values_list("field", flat=True))
    decision = decide(
        "classlist.set_consent",
        actor,
        school_class,
        {"pupil_id": pupil.pk, "fields": wanted, "protection": queries.protection_of(pupil),
         "guardian_protection": queries.protection_of(actor),

         "turning_on": tuple(sorted(turning_on)),
         "notice_accepted": bool(notice_accepted) or accepted_notice(actor) is not None},
    )
    if not decision.allowed:
        others = tuple(f for f in decision.fired if not (f.verdict == "deny" and f.rule.id == queries.NOTICE_RULE))
        if any(f.verdict == "deny" for f in others):
            # What the school protects (R-LIST-05) is refused as such, notice or not.
            raise PolicyDenied(Decision(decision.action, False, others, decision.obligations, decision.audience))
        fired = decision.denied_by
        if fired is not None and fired.rule.id == queries.NOTICE_RULE:
            notice = notice_for(actor)
            raise WrongState(
                _("Before you share anything, read and accept that the class list is public."),
                code="notice_required", rule=fired.rule.id, requirement="R-LIST-04",
                extra={"notice": notice["text"], "notice_version": notice["version"],
                       "notice_language": notice["language"]},
            )
        raise PolicyDenied(decision)
    return do_set_consent(actor, school_class, pupil, set(wanted), decision, via=via,
                          notice_accepted=bool(notice_accepted))


def do_set_consent(
    actor: Person, school_class: SchoolClass, pupil: Person, wanted: set[str], decision: Decision, *, via: str,
    notice_accepted: bool = False,
) -> dict[str, bool]:
    now = timezone.now()
    with transaction.atomic():
        if notice_accepted:
            shown = notice_for(actor)
            NoticeAcceptance.objects.create(guardian=actor, version=shown["version"], text=shown["text"],
                                            language=shown["language"], rule=shown["rule"], accepted_at=now, via=via)
        # What the guardian really accepted: the current version, in the language shown then; a
        # change made without any (turning off) records no notice.
        accepted = accepted_notice(actor)
        notice = ({"text": accepted.text, "language": accepted.language, "rule": accepted.rule,
                   "version": accepted.version} if accepted is not None
                  else {"text": "", "language": "", "rule": "", "version": ""})
        current = set(
            Consent.objects.select_for_update()
            .filter(guardian=actor, pupil=pupil)
            .values_list("field", flat=True)
        )
        added = [f for f in FIELDS if f in wanted - current]
        removed = [f for f in FIELDS if f in current - wanted]
        if removed:
            Consent.objects.filter(guardian=actor, pupil=pupil, field__in=removed).delete()
        Consent.objects.bulk_create([Consent(guardian=actor, pupil=pupil, field=f, given_at=now) for f in added])
        ConsentChange.objects.bulk_create(
            [
                ConsentChange(
                    guardian=actor, pupil=pupil, school_class=school_class, field=f, given=f in added, at=now,
                    notice_text=notice["text"], notice_language=notice["language"], notice_rule=notice["rule"],
                    notice_version=notice["version"], via=via,
                )
                for f in FIELDS
                if f in added or f in removed
            ]
        )
        state = {f: f in wanted for f in FIELDS}
        if added or removed:
            do_audit(actor, "classlist.consent_changed", pupil, class_id=school_class.pk,
                     turned_on=added, turned_off=removed, rules=decision.rule_ids)
            # Last, as emit_event asks: the log lock is held only from here to the commit.
            emit_event(CONSENT_CHANGED, [actor.pk],
                       {"class_id": school_class.pk, "student_username": pupil.username, "fields": state})
    return state


# ----------------------------------------------------------------------------------- reminder


@dataclass(frozen=True)
class ReminderResult:
    reminder: Reminder
    completeness: queries.Completeness


def check_remind(actor: Person, class_id: int) -> ReminderResult:
    """Send every guardian of the class the same neutral reminder, at most once per interval (R-LIST-03).

    The notice says only that the school asks them to look at the class list: no names, and
    nothing about who has or has not shared (R-STAFF-06).
    """
    from trygg.notifications.actions import queue_notice

    school_class = queries.access_class(actor, class_id)
    decision = queries.remind_decision(actor, school_class, timezone.now())
    if not decision.allowed:
        queries.raise_remind_refusal(actor, decision)
    with transaction.atomic():
        # Two clicks at once: the row lock makes the second see the first reminder and wait.
        SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
        decision = queries.remind_decision(actor, school_class, timezone.now())
        if not decision.allowed:
            queries.raise_remind_refusal(actor, decision)
        guardian_ids = queries.guardian_ids_of_class(school_class)
        reminder = Reminder.objects.create(school_class=school_class, sent_by=actor, recipients=len(guardian_ids))
        for guardian_id in guardian_ids:
            queue_notice(guardian_id, "classlist_reminder")
        do_audit(actor, "classlist.reminder_sent", school_class, reminder_id=reminder.pk,
                 recipients=len(guardian_ids))
    return ReminderResult(reminder, queries.get_completeness(school_class))


# ----------------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportResult:
    export: AccessRequestExport
    rows: list[queries.Row]
    lines: list[list[str]]


def check_export(actor: Person, class_id: int, requester: str, export_format: str) -> ExportResult:
    """Export the list as handed out on an access request (R-LIST-04): shared, non-confidential
    fields only; who exported it, when, and for whom is recorded and audited."""
    school_class = queries.access_export_class(actor, class_id)
    requester = (requester or "").strip()
    if export_format not in ExportFormat.values:
        raise BadInput(_("Choose CSV or a printable page."))
    if not requester or len(requester) > MAX_REQUESTER_CHARS:
        raise BadInput(_("Say who asked for access (at most %(n)d characters).") % {"n": MAX_REQUESTER_CHARS},
                       rule="oslo.access-request-export", requirement="R-LIST-04")
    decision = check("classlist.export", actor, school_class,
                     {"requester": requester, "municipality_id": school_class.school.municipality_id})
    rows = queries.export_rows(school_class)
    with transaction.atomic():
        export = AccessRequestExport.objects.create(
            school_class=school_class, exported_by=actor, requester=requester, format=export_format, rows=len(rows)
        )
        do_audit(actor, "classlist.exported", school_class, export_id=export.pk, format=export_format,
                 rows=len(rows), rules=decision.rule_ids)
    return ExportResult(export, rows, queries.flat_rows(rows))
