"""The writes messaging asks for when a message with signals is sent or edited (issue 14).

Called inside the send or edit transaction, so a signal's record and its alerts exist exactly when
the message does. They hold categories, ids, the writing pupil and times; never the text
(R-SAFE-02). Each alert is audited, pushed to its recipient (``safety.alert``) and, where the rule
says so, announced by a neutral notice outside the app with no names (R-STAFF-06).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.utils import timezone

from trygg.audit.actions import do_audit
from trygg.directory.models import Person, PersonFacts, TeachingAssignment, TeachingKind
from trygg.events.log import emit_event
from trygg.notifications.actions import queue_notice
from trygg.policy.engine import Decision
from trygg.safety import events as et
from trygg.safety.models import Alert, SignalRecord

SIGNAL_CATEGORIES = ("threat", "selfharm", "bullying", "sexual", "exclusion", "about_absent")
NOTICE_KIND = "safety_alert"


def signal_categories(decision: Decision) -> list[str]:
    """The categories of a decision's safety obligations (nudges, alerts, repeats), in a fixed order."""
    found: set[str] = set()
    for kind in ("nudge", "safety_alert"):
        for ob in decision.obligations_of(kind):
            if ob.data.get("category") in SIGNAL_CATEGORIES:
                found.add(ob.data["category"])
    for ob in decision.obligations_of("safety_repeat"):
        found.update(c for c in ob.data.get("categories") or () if c in SIGNAL_CATEGORIES)
    return [c for c in SIGNAL_CATEGORIES if c in found]


def offers_show_an_adult(decision: Decision) -> bool:
    """Whether the receivers of this message are offered "show an adult" at once (a threat, R-PUP-02)."""
    return any(ob.data.get("offer_show_an_adult") for ob in decision.obligations_of("safety_alert"))


def contact_teachers(class_ids: Iterable[int]) -> dict[int, list[int]]:
    """Return each class's contact teachers' ids."""
    result: dict[int, list[int]] = {}
    for teacher_id, class_id in TeachingAssignment.objects.filter(
        school_class_id__in=list(class_ids), kind=TeachingKind.CONTACT
    ).values_list("teacher_id", "school_class_id"):
        result.setdefault(class_id, []).append(teacher_id)
    return result


def _pupil_ref(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.pk, "username": person.username, "name": person.name}


def raise_alert(
    recipients: Iterable[int], *, kind: str, category: str, pupil: Person | None = None,
    conversation_id: int | None = None, conversation_kind: str = "", message_id: int | None = None,
    school_class_id: int | None = None, receiver_ids: Sequence[int] = (), counts: dict[str, int] | None = None,
    rule_id: str = "", notice: bool = True, actor: Person | None = None,
) -> list[Alert]:
    """Write one alert per recipient, audit it, push it to them, and queue a neutral notice."""
    now = timezone.now()
    ids = sorted(set(recipients) - ({pupil.pk} if pupil is not None else set()))
    if not ids:
        return []
    alerts = [
        Alert.objects.create(
            recipient_id=pid, kind=kind, category=category, pupil=pupil, conversation_id=conversation_id,
            conversation_kind=conversation_kind, message_id=message_id, school_class_id=school_class_id,
            receiver_ids=list(receiver_ids), counts=dict(counts or {}), rule_id=rule_id, created_at=now,
        )
        for pid in ids
    ]
    for alert in alerts:
        do_audit(actor, "safety.alert_raised", alert, recipient_id=alert.recipient_id, kind=kind,
                 category=category, pupil_id=pupil.pk if pupil else None, conversation_id=conversation_id,
                 rule=rule_id)
        emit_event(et.SAFETY_ALERT, [alert.recipient_id], {
            "alert_id": alert.pk, "kind": kind, "category": category, "pupil": _pupil_ref(pupil),
            "conversation_id": conversation_id, "counts": alert.counts, "created_at": now.isoformat(),
        })
        if notice:
            # Neutral words, no names, no text (R-STAFF-06): "Something new is waiting for you in Trygg."
            queue_notice(alert.recipient_id, NOTICE_KIND, now=now)
    return alerts


def record_signals(
    writer: Person, writer_facts: PersonFacts, conversation: Any, message_id: int,
    members: Sequence[PersonFacts], decision: Decision, *, edited: bool = False,
) -> list[Alert]:
    """Record a sent or edited message's signals and raise the alerts its rules ask for.

    Call inside the send or edit transaction; returns the alerts raised.
    """
    categories = signal_categories(decision)
    if not categories:
        return []
    now = timezone.now()
    SignalRecord.objects.create(person=writer, conversation_id=conversation.pk, message_id=message_id,
                                categories=categories, edited=edited, created_at=now)
    raised: list[Alert] = []
    own_classes = sorted(writer_facts.pupil_class_ids)
    receivers = [m for m in members if m.id != writer_facts.id]
    receiver_classes = sorted({cid for m in receivers if "pupil" in m.roles for cid in m.pupil_class_ids})
    teachers = contact_teachers(set(own_classes) | set(receiver_classes))
    member_ids = {m.id for m in members}
    seen: set[str] = set()
    for ob in decision.obligations_of("safety_alert"):
        category = ob.data.get("category")
        if category in seen or category not in SIGNAL_CATEGORIES:
            continue
        seen.add(category)
        if edited and Alert.objects.filter(message_id=message_id, category=category, kind=Alert.Kind.SIGNAL).exists():
            # An edit of a message already alerted for this category tells nobody twice.
            continue
        to: set[int] = {t for cid in own_classes for t in teachers.get(cid, ())}
        if ob.data.get("tell_receivers_teacher"):
            to |= {t for cid in receiver_classes for t in teachers.get(cid, ())}
        raised += raise_alert(
            to, kind=Alert.Kind.SIGNAL, category=category, pupil=writer, conversation_id=conversation.pk,
            conversation_kind=conversation.kind, message_id=message_id,
            school_class_id=own_classes[0] if own_classes else None,
            receiver_ids=sorted(member_ids - {writer.pk}) if category == "threat" else (),
            rule_id=ob.rule_id, notice=bool(ob.data.get("notice", True)), actor=None,
        )
    for ob in decision.obligations_of("safety_repeat")[:1]:
        raised += _repeated(writer, own_classes, teachers, ob.data, ob.rule_id, now)
    return raised


def _repeated(writer: Person, own_classes: Sequence[int], teachers: dict[int, list[int]], data: Any,
              rule_id: str, now: Any) -> list[Alert]:
    """One aggregated alert when a pupil's watched signals in the window reach the threshold, and
    none was raised for them in that window yet (counts by category, no text)."""
    window = timedelta(days=max(int(data.get("window_days") or 7), 1))
    watched = set(data.get("watched") or ())
    since = now - window
    if Alert.objects.filter(pupil=writer, kind=Alert.Kind.REPEATED, created_at__gte=since).exists():
        return []
    # One message counts once: an edit's record replaces the send's.
    latest: dict[int, list[str]] = {}
    for message_id, categories in SignalRecord.objects.filter(person=writer, created_at__gte=since).order_by(
        "id"
    ).values_list("message_id", "categories"):
        latest[message_id] = categories
    counts: Counter[str] = Counter()
    for categories in latest.values():
        counts.update(c for c in categories if c in watched)
    if sum(counts.values()) < max(int(data.get("threshold") or 3), 1):
        return []
    to = {t for cid in own_classes for t in teachers.get(cid, ())}
    return raise_alert(to, kind=Alert.Kind.REPEATED, category="repeated", pupil=writer,
                       school_class_id=own_classes[0] if own_classes else None,
                       counts={c: counts[c] for c in SIGNAL_CATEGORIES if counts.get(c)}, rule_id=rule_id)


# The longest window a municipality may set for repeats (``window_days`` max); older records serve
# no rule, so they are deleted: Trygg keeps no history of who was nudged beyond what a rule needs.
SIGNAL_RECORD_DAYS = 31


def purge_signal_records(now: Any = None) -> int:
    """Delete signal records older than any repeat window; return how many went."""
    now = now or timezone.now()
    deleted, _rows = SignalRecord.objects.filter(created_at__lt=now - timedelta(days=SIGNAL_RECORD_DAYS)).delete()
    return deleted
