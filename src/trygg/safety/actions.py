"""Writes of the safety app's upper half: staff acknowledge an alert or turn it into a case
(R-SAFE-02: the text reaches staff only through a report), and the receiver of a threat shows it
to an adult at once (R-PUP-02), which makes a report that keeps the message as evidence."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.cases.actions import check_report
from trygg.cases.models import Case
from trygg.directory.models import Person
from trygg.errors import NotFoundOrHidden
from trygg.events.log import emit_event
from trygg.messaging.queries import access_message
from trygg.safety import events as et
from trygg.safety.models import Alert
from trygg.safety.queries import access_alert

# A case made from a threat is about a threat of violence (R-CASE-10); everything else is the
# teacher's concern about the pupil, which goes to leadership (R-STAFF-03).
THREAT_CATEGORY = "threat_violence_stalking"
CONCERN_CATEGORY = "teacher_concern"


def _updated(alert: Alert) -> None:
    emit_event(et.SAFETY_ALERT_UPDATED, [alert.recipient_id], {
        "alert_id": alert.pk, "acknowledged": alert.acknowledged_at is not None, "case_id": alert.case_id,
    })


def check_acknowledge(actor: Person, alert_id: int) -> Alert:
    """The member of staff has seen the alert (audited)."""
    alert = access_alert(actor, alert_id)
    if alert.acknowledged_at is not None:
        return alert
    with transaction.atomic():
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_at"])
        do_audit(actor, "safety.alert_acknowledged", alert, kind=alert.kind, category=alert.category)
        _updated(alert)
    return alert


def _description(alert: Alert) -> str:
    # Names no text and quotes nothing: what the alert said, in the handler's words.
    return _("Opened from a safety alert (%(category)s, %(when)s). The message text is not part of the alert; "
             "ask the receiver to report the message to keep it as evidence.") % {
        "category": alert.category, "when": timezone.localtime(alert.created_at).strftime("%Y-%m-%d %H:%M")}


def check_make_case(actor: Person, alert_id: int) -> Case:
    """Turn an alert into a case (once): a threat becomes a threat case with the receivers harmed,
    anything else the teacher's concern about the pupil. Audited on the alert and the case."""
    alert = access_alert(actor, alert_id)
    if alert.case_id:
        existing = Case.objects.filter(pk=alert.case_id).first()
        if existing is not None:
            return existing
    harmed: list[str] = []
    category = CONCERN_CATEGORY
    if alert.category == "threat" and alert.receiver_ids:
        harmed = list(Person.objects.filter(id__in=alert.receiver_ids, is_active=True)
                      .exclude(pk=actor.pk).values_list("username", flat=True))
        if harmed:
            category = THREAT_CATEGORY
    with transaction.atomic():
        case = check_report(
            actor, category=category, description=_description(alert),
            reported_username=alert.pupil.username if alert.pupil else None, harmed_usernames=harmed,
        )
        alert.case_id = case.pk
        if alert.acknowledged_at is None:
            alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["case_id", "acknowledged_at"])
        do_audit(actor, "safety.alert_to_case", alert, case_id=case.pk, category=alert.category)
        _updated(alert)
    return case


def check_show_an_adult(actor: Person, message_id: int) -> Case:
    """R-PUP-02: the receiver of a message read as a threat shows it to an adult with one press.

    A report of the message: its snapshot is kept as evidence (R-SAFE-02) and the contact teacher
    and leadership handle it. Only for a receiver of a flagged message (404 otherwise).
    """
    message = access_message(actor, message_id)
    if not message.show_an_adult or message.sender_id == actor.pk or message.deleted_at is not None:
        raise NotFoundOrHidden()
    return check_report(actor, category=THREAT_CATEGORY, message_id=message.pk, description="")
