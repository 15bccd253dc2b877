"""Writes of the notifications app: queueing notices, delivering them, preferences, quiet hours.

Delivery asks the policy (``notification.deliver``) when a notice is due: a hold (R-CHAT-05)
moves it to the end of school hours or the class's quiet hours, where it joins that person's
digest. Texts are neutral (R-STAFF-06): they say that something is new, never who or what.
"""

from __future__ import annotations

import base64
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.database import among
from trygg.directory.counts import counts_for
from trygg.directory.models import Person, SchoolClass
from trygg.errors import BadInput, NotFoundOrHidden
from trygg.links import absolute
from trygg.notifications import push
from trygg.notifications.calendar import is_day_off, reminder_due
from trygg.notifications.models import (
    Channel,
    ClassQuietHours,
    Notice,
    NoticePreference,
    PushDelivery,
    PushSubscription,
)
from trygg.notifications.sms import get_sms_backend
from trygg.notifications.texts import notice_text, push_payload
from trygg.policy.engine import check, decide
from trygg.policy.packs_schema import validate_schedule

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PREFERENCE_FIELDS = ("email_messages", "sms_messages", "email_other", "sms_other")


def notice_delay() -> timedelta:
    """Return how long a chat notice waits: people reading in the app get a moment before anything
    goes out of it (``TRYGG_NOTICE_DELAY_SECONDS``)."""
    return timedelta(seconds=float(settings.TRYGG_NOTICE_DELAY_SECONDS))


_DEFAULT_MESSAGE_CHANNELS = (
    NoticePreference._meta.get_field("email_messages").default,
    NoticePreference._meta.get_field("sms_messages").default,
)


def preferences_of(person_ids: Iterable[int]) -> dict[int, NoticePreference]:
    ids = list(person_ids)
    found = {p.person_id: p for p in NoticePreference.objects.filter(person_id__in=ids)}
    return {pid: found.get(pid) or NoticePreference(person_id=pid) for pid in ids}


def queue_message_notices(conversation: Any, recipient_ids: Iterable[int], now: datetime | None = None) -> int:
    """Queue one "new messages" notice per recipient and chosen channel, unless one is already waiting.

    Called inside the send transaction, so the notice exists exactly when the message does.
    """
    ids = list(recipient_ids)
    if not ids:
        return 0
    now = now or timezone.now()
    waiting, chosen, pushing = _message_notice_facts(conversation.pk, ids)
    rows = []
    for pid in ids:
        email, sms = chosen.get(pid, _DEFAULT_MESSAGE_CHANNELS)
        for channel, wanted in ((Channel.EMAIL, email), (Channel.SMS, sms), (Channel.PUSH, pid in pushing)):
            if wanted and (pid, channel) not in waiting:
                rows.append(Notice(person_id=pid, channel=channel, kind="new_message",
                                   conversation_id=conversation.pk, created_at=now, due_at=now + notice_delay()))
    Notice.objects.bulk_create(rows)
    return len(rows)


# People per statement: their ids are bound three times, under SQLite's oldest limit of 999.
_NOTICE_CHUNK = 300


def _message_notice_facts(
    conversation_id: int, ids: list[int],
) -> tuple[set[tuple[int, str]], dict[int, tuple[bool, bool]], set[int]]:
    """Return, for a message's recipients: the (person, channel) notices already waiting for this
    conversation, the channels each chose (people who never chose are left out), and who has a
    push device.

    One statement per 300 people (one in all on PostgreSQL, ``trygg.database.among``) instead of
    three ORM queries: this runs on every message sent, and building the three queries cost more
    than running them (a sixth of a message's CPU, ``bench/bench_messaging.py`` profiled).
    """
    notices = connection.ops.quote_name(Notice._meta.db_table)
    preferences = connection.ops.quote_name(NoticePreference._meta.db_table)
    devices = connection.ops.quote_name(PushSubscription._meta.db_table)
    waiting: set[tuple[int, str]] = set()
    chosen: dict[int, tuple[bool, bool]] = {}
    pushing: set[int] = set()
    with connection.cursor() as cursor:
        for among_them, values, _ in among(ids, _NOTICE_CHUNK):
            cursor.execute(
                f"SELECT 0, person_id, channel, NULL, NULL FROM {notices} "  # noqa: S608 - names and marks only
                f"WHERE conversation_id = %s AND kind = 'new_message' AND sent_at IS NULL AND person_id {among_them} "
                f"UNION ALL SELECT 1, person_id, NULL, email_messages, sms_messages FROM {preferences} "
                f"WHERE person_id {among_them} "
                f"UNION ALL SELECT 2, person_id, NULL, NULL, NULL FROM {devices} WHERE person_id {among_them}",
                [conversation_id, *values, *values, *values],
            )
            for what, pid, channel, email, sms in cursor.fetchall():
                if what == 0:
                    waiting.add((pid, channel))
                elif what == 1:
                    chosen[pid] = (bool(email), bool(sms))
                else:
                    pushing.add(pid)
    return waiting, chosen, pushing


def _with_push_devices(person_ids: list[int]) -> set[int]:
    """Return who of these people turned push on for at least one device (push is per device)."""
    return set(PushSubscription.objects.filter(person_id__in=person_ids).values_list("person_id", flat=True))


def queue_notice(person_id: int, kind: str, *, other: bool = True, now: datetime | None = None) -> int:
    """Queue a neutral notice of ``kind`` (meetings, cases) on the channels the person chose."""
    now = now or timezone.now()
    # A reminder due on a day without school (the Easter holiday) waits for the next school day.
    due = reminder_due(person_id, kind, now)
    pref = preferences_of([person_id])[person_id]
    rows = []
    pushing = bool(_with_push_devices([person_id]))
    for channel, wanted in ((Channel.EMAIL, pref.email_other), (Channel.SMS, pref.sms_other),
                            (Channel.PUSH, pushing)):
        if wanted:
            rows.append(Notice(person_id=person_id, channel=channel, kind=kind, created_at=now, due_at=due))
    Notice.objects.bulk_create(rows)
    return len(rows)


def _claim(now: datetime, limit: int) -> list[Notice]:
    """Claim due notices: a row is ours only if our conditional update changed it."""
    Notice.objects.filter(sent_at__isnull=True, claimed_at__lt=now - STALE_CLAIM).update(claimed_at=None)
    candidates = list(
        Notice.objects.filter(sent_at__isnull=True, failed=False, claimed_at__isnull=True, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    claimed = []
    for notice_id in candidates:
        if Notice.objects.filter(id=notice_id, claimed_at__isnull=True).update(claimed_at=now) == 1:
            claimed.append(notice_id)
    return list(Notice.objects.filter(id__in=claimed).order_by("id"))


def _deliver_context(notice: Notice, person: Person, now: datetime,
                     conversations: Mapping[int, Any], quiet: Mapping[int, Any]) -> tuple[Any, dict[str, Any]]:
    conversation = conversations.get(notice.conversation_id) if notice.conversation_id else None
    facts = person.facts
    class_id = min(facts.pupil_class_ids) if facts.pupil_class_ids else (
        conversation.school_class_id if conversation is not None else None
    )
    school_id = conversation.school_id if conversation is not None else min(facts.school_ids, default=None)
    return conversation, {
        "recipient": facts,
        "social": bool(conversation is not None and not conversation.school_owned),
        "now": now,
        "school_id": school_id,
        "class_id": class_id,
        "class_quiet_hours": quiet.get(class_id) if class_id is not None else None,
    }


# Chat notices need the conversation (school or social, which class) and whether the person has
# read it since. The messaging app sits above this one and tells it (``register_conversation_reader``),
# so notifications imports nothing from the apps it sends notices for.
_load_conversations: Callable[[set[int]], Mapping[int, Any]] = lambda ids: {}  # noqa: E731
_has_read: Callable[[int, int], bool] = lambda person_id, conversation_id: False  # noqa: E731


def register_conversation_reader(
    load: Callable[[set[int]], Mapping[int, Any]], has_read: Callable[[int, int], bool]
) -> None:
    """Tell notices how to load conversations by id and whether a person has read one since."""
    global _load_conversations, _has_read
    _load_conversations, _has_read = load, has_read


def _already_read(notice: Notice) -> bool:
    if notice.kind != "new_message" or notice.conversation_id is None:
        return False
    return _has_read(notice.person_id, notice.conversation_id)


def _deliberate(notice: Notice, person: Person | None, now: datetime, conversations: Mapping[int, Any],
                quiet: Mapping[int, Any], days_off: dict[int | None, bool]) -> bool:
    """Settle what happens to a claimed notice; return True when it is ready to go out now."""
    if person is None or not person.is_active or _already_read(notice):
        Notice.objects.filter(pk=notice.pk).update(sent_at=now)
        return False
    conversation, context = _deliver_context(notice, person, now, conversations, quiet)
    if person.municipality_id not in days_off:
        days_off[person.municipality_id] = is_day_off(person.municipality_id, timezone.localtime(now).date())
    # R-CHAT-05: no school, no school hours to hold notices in.
    context["day_off"] = days_off[person.municipality_id]
    decision = decide("notification.deliver", person, conversation, context)
    if not decision.allowed:
        Notice.objects.filter(pk=notice.pk).update(sent_at=now, failed=True)
        return False
    holds = [ob.data["until"] for ob in decision.obligations_of("hold") if ob.data.get("until")]
    if holds:
        Notice.objects.filter(pk=notice.pk).update(due_at=max(holds), held=True, claimed_at=None)
        return False
    return True


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """Deliver due notices (one message per person and channel); return how many were sent."""
    now = now or timezone.now()
    notices = _claim(now, limit)
    if not notices:
        return 0
    people = {p.pk: p for p in Person.objects.filter(id__in={n.person_id for n in notices})}
    conversations = _load_conversations({n.conversation_id for n in notices if n.conversation_id})
    quiet = dict(ClassQuietHours.objects.values_list("school_class_id", "schedule"))
    days_off: dict[int | None, bool] = {}
    ready: dict[tuple[int, str], list[Notice]] = defaultdict(list)
    for notice in notices:
        try:
            if _deliberate(notice, people.get(notice.person_id), now, conversations, quiet, days_off):
                ready[(notice.person_id, notice.channel)].append(notice)
        except Exception as exc:  # noqa: BLE001 - one notice's trouble must not leave the batch claimed
            log.warning("notice %s could not be prepared (%s); retrying later", notice.pk, type(exc).__name__)
            _retry_later([notice], now)
    sent = 0
    for (person_id, channel), group in ready.items():
        person = people[person_id]
        digest = any(n.held for n in group)
        conversations_n = len({n.conversation_id for n in group if n.conversation_id})
        kinds = [n.kind for n in group]
        ids = [n.pk for n in group]
        if channel == Channel.PUSH:
            # Push has its own outbox, a row per device, retried on its own: one phone that is
            # off does not hold back the others, nor e-mail.
            payload = push_payload(person.language, kinds, max(conversations_n, 1), digest)
            # A number only, for the app's badge on the home screen (Badging API); never what or who.
            payload["count"] = sum(counts_for(person).values())
            _queue_push(person, payload, now)
            Notice.objects.filter(id__in=ids).update(sent_at=now)
            sent += 1
            continue
        subject, body = notice_text(person.language, kinds, max(conversations_n, 1), digest)
        try:
            _send(person, channel, subject, body, now)
        except Exception as exc:  # noqa: BLE001 - any backend failure (a relay down, a misconfigured
            # backend's TypeError, a gateway's answer) is retried; none may leave the notice claimed.
            log.warning("notice delivery on %s failed (%s); retrying later", channel, type(exc).__name__)
            _retry_later(group, now)
            continue
        Notice.objects.filter(id__in=ids).update(sent_at=now)
        sent += 1
    return sent


def _retry_later(notices: Iterable[Notice], now: datetime) -> None:
    """Release the notices for another try after a backoff of 1, 2, 4, 8… minutes; after
    ``MAX_ATTEMPTS`` tries, mark them failed (released too, so nothing stays claimed)."""
    for n in notices:
        attempts = n.attempts + 1
        Notice.objects.filter(pk=n.pk).update(
            claimed_at=None, attempts=attempts, failed=attempts >= MAX_ATTEMPTS,
            due_at=now + timedelta(minutes=2 ** n.attempts),
        )


def notice_email(person: Person, subject: str, body: str, now: datetime) -> EmailMessage:
    """Return the e-mail of a notice: marked automatic (RFC 3834, so auto-replies stay away), with a
    one-click link to the person's notice settings as List-Unsubscribe, and a Date in local time."""
    settings_link = absolute(reverse("messaging:notices"))
    return EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [person.email],
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "List-Unsubscribe": f"<{settings_link}>",
            "Date": format_datetime(timezone.localtime(now)),
        },
    )


def _send(person: Person, channel: str, subject: str, body: str, now: datetime) -> None:
    if channel == Channel.EMAIL:
        if person.email:
            notice_email(person, subject, body, now).send(fail_silently=False)
    elif channel == Channel.SMS and person.phone:
        get_sms_backend().send(person.phone, body)


def _queue_push(person: Person, payload: dict[str, Any], now: datetime) -> int:
    rows = [PushDelivery(subscription=sub, payload=payload, created_at=now, due_at=now)
            for sub in PushSubscription.objects.filter(person=person)]
    PushDelivery.objects.bulk_create(rows)
    return len(rows)


def _claim_pushes(now: datetime, limit: int) -> list[PushDelivery]:
    """Claim due push rows the way notices are claimed: ours only if our conditional update won."""
    PushDelivery.objects.filter(sent_at__isnull=True, claimed_at__lt=now - STALE_CLAIM).update(claimed_at=None)
    candidates = list(
        PushDelivery.objects.filter(sent_at__isnull=True, failed=False, claimed_at__isnull=True, due_at__lte=now)
        .order_by("due_at", "id").values_list("id", flat=True)[:limit]
    )
    claimed = [pk for pk in candidates
               if PushDelivery.objects.filter(id=pk, claimed_at__isnull=True).update(claimed_at=now) == 1]
    return list(PushDelivery.objects.filter(id__in=claimed).select_related("subscription").order_by("id"))


def deliver_pushes(now: datetime | None = None, limit: int = 200) -> int:
    """Send due push rows, one per device; return how many the push services accepted.

    A refusal or an unreachable service is retried with a growing wait, up to ``MAX_ATTEMPTS``;
    a subscription the service reports gone (404/410) is removed with its waiting rows.
    """
    now = now or timezone.now()
    sent = 0
    for delivery in _claim_pushes(now, limit):
        sub = delivery.subscription
        try:
            push.send(sub.endpoint, sub.p256dh, sub.auth, delivery.payload)
        except push.PushGone:
            log.info("push device %s is gone; removing it", sub.pk)
            with transaction.atomic():
                do_audit(None, "notifications.push_device_gone", sub, person_id=sub.person_id)
                sub.delete()
            continue
        except push.PushFailed as exc:
            log.warning("push delivery %s failed (%s); retrying later", delivery.pk, exc)
            attempts = delivery.attempts + 1
            PushDelivery.objects.filter(pk=delivery.pk).update(
                claimed_at=None, attempts=attempts, failed=attempts >= MAX_ATTEMPTS,
                due_at=now + timedelta(minutes=2 ** delivery.attempts),
            )
            continue
        PushDelivery.objects.filter(pk=delivery.pk).update(sent_at=now)
        PushSubscription.objects.filter(pk=sub.pk).update(last_success_at=now)
        sent += 1
    return sent


def check_add_push_device(actor: Person, endpoint: str, p256dh: str, auth: str, device: str = "") -> PushSubscription:
    """Turn push on for one of the actor's devices (the browser's subscription)."""
    _validate_subscription(endpoint, p256dh, auth)
    device = " ".join(device.split())[:80]
    with transaction.atomic():
        existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if existing is None and PushSubscription.objects.filter(person=actor).count() >= \
                settings.TRYGG_PUSH_MAX_DEVICES:
            raise BadInput(_("Push is already on for as many devices as allowed. Turn one off first."),
                           code="too_many_devices")
        if existing is not None:
            # The browser has one subscription: whoever turned push on last on it owns it, so a
            # shared family tablet never shows one person's notices to the next.
            existing.person, existing.p256dh, existing.auth = actor, p256dh, auth
            existing.device = device or existing.device
            existing.save()
            sub = existing
        else:
            sub = PushSubscription.objects.create(person=actor, endpoint=endpoint, p256dh=p256dh, auth=auth,
                                                  device=device)
        do_audit(actor, "notifications.push_device_added", sub)
    return sub


def check_remove_push_device(actor: Person, subscription_id: int) -> None:
    """Turn push off for one of the actor's devices; another person's device is 404."""
    with transaction.atomic():
        sub = PushSubscription.objects.filter(pk=subscription_id, person=actor).first()
        if sub is None:
            raise NotFoundOrHidden()
        do_audit(actor, "notifications.push_device_removed", sub)
        sub.delete()


def _b64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        return None


def _validate_subscription(endpoint: str, p256dh: str, auth: str) -> None:
    scheme = urlsplit(endpoint).scheme if isinstance(endpoint, str) else ""
    allowed = ("https", "http") if settings.TRYGG_PUSH_ALLOW_HTTP_ENDPOINTS else ("https",)
    if scheme not in allowed or not urlsplit(endpoint).hostname or len(endpoint) > 2000:
        raise BadInput(_("The push service's address must be https."), code="bad_push_endpoint")
    key, secret = _b64url_bytes(p256dh or ""), _b64url_bytes(auth or "")
    # An uncompressed P-256 point (65 bytes, 0x04 first) and a 16-byte secret (RFC 8291).
    if not key or len(key) != 65 or key[0] != 4 or not secret or len(secret) != 16:
        raise BadInput(_("The device's push keys are not valid."), code="bad_push_keys")


def check_set_preferences(actor: Person, **values: Any) -> NoticePreference:
    """Each person chooses which out-of-app notices they get."""
    unknown = set(values) - set(PREFERENCE_FIELDS)
    if unknown:
        raise BadInput(_("Unknown notice preference."), code="unknown_preference")
    if not all(isinstance(v, bool) for v in values.values()):
        raise BadInput(_("Notice preferences are true or false."), code="bad_preference")
    with transaction.atomic():
        pref, _created = NoticePreference.objects.select_for_update().get_or_create(person=actor)
        for name, value in values.items():
            setattr(pref, name, value)
        pref.save()
        do_audit(actor, "notifications.preferences_changed", actor, **values)
    return pref


def check_set_quiet_hours(actor: Person, class_id: int, schedule: Any) -> ClassQuietHours:
    """The contact teacher sets the class's quiet hours (R-CHAT-05)."""
    school_class = SchoolClass.objects.filter(id=class_id).first()
    if school_class is None or (
        school_class.pk not in actor.facts.taught_class_ids and school_class.school_id not in actor.facts.led_school_ids
    ):
        raise NotFoundOrHidden()
    try:
        validate_schedule(schedule)
    except ValueError as exc:
        raise BadInput(str(exc), code="bad_schedule") from None
    check("notification.set_quiet_hours", actor, school_class)
    with transaction.atomic():
        quiet, _created = ClassQuietHours.objects.update_or_create(
            school_class=school_class, defaults={"schedule": schedule, "set_by": actor}
        )
        do_audit(actor, "notifications.quiet_hours_set", school_class, schedule=schedule)
    return quiet


def check_import_calendar(actor: Person, text: Any) -> int:
    """Import days off into the actor's municipality's school calendar (CSV lines ``first date,last
    date,name``); a school's leaders and the municipality's administrator may (R-CHAT-05). A broken
    file is refused whole. Return how many days were added."""
    from trygg.notifications.calendar import import_days_off
    from trygg.notifications.queries import access_school_calendar

    calendar = access_school_calendar(actor)
    municipality = calendar.municipality
    check("calendar.import", actor, municipality, {"municipality_id": municipality.pk})
    if not isinstance(text, str) or not text.strip() or len(text) > 100_000:
        raise BadInput(_("Paste or upload the days off, one line per period: first date,last date,name."),
                       code="bad_calendar")
    with transaction.atomic():
        try:
            added = import_days_off(municipality, text)
        except ValueError as exc:
            raise BadInput(_("The calendar could not be read: %(problem)s") % {"problem": exc},
                           code="bad_calendar") from exc
        do_audit(actor, "calendar.imported", municipality, days=added)
    return added
