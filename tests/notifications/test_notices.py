"""Out-of-app notices: neutral text (R-STAFF-06), held in school hours (R-CHAT-05), preferences, SMS."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from trygg.directory.models import Person
from trygg.messaging import actions as chat
from trygg.notifications import actions
from trygg.notifications.models import Notice

OSLO = ZoneInfo("Europe/Oslo")


def next_monday(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(OSLO) + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def test_r_staff_06_email_notice_carries_no_name_and_no_text(person) -> None:
    """The e-mail says only that something is new: no sender, no recipient, no message text."""
    kari, mor = person("kari.4a"), person("mor.emma")
    conversation = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    chat.check_send(kari, conversation.pk, "Emma har vondt i magen og bør hentes", "n-1")
    chat.check_send(kari, conversation.pk, "Ring meg, Marte", "n-2")
    assert Notice.objects.filter(person=mor, conversation_id=conversation.pk).count() == 1  # coalesced
    mail.outbox.clear()
    assert actions.deliver_due(now=next_monday(16)) >= 1
    sent = [m for m in mail.outbox if m.to == [mor.email]]
    assert len(sent) == 1
    text = sent[0].subject + sent[0].body
    for secret in ("Emma", "magen", "Marte", "Ring meg", kari.name, mor.name, "Kari", "Solheim", "Nordmann"):
        assert secret not in text
    assert "/messages/" in sent[0].body


def test_r_chat_05_social_notices_held_in_school_hours_then_one_digest(person) -> None:
    """A social conversation's notice waits during school hours and comes as one digest after."""
    sara, jonas = person("sara.9b"), person("jonas.9b")
    first = chat.check_create_conversation(jonas, "direct", "", ["sara.9b"]).conversation
    # A classmate of no named family: ali.9b's identity is confidential, so jonas cannot add him.
    classmate = (Person.objects.filter(enrollments__school_class__name="9B")
                 .exclude(username__in=["sara.9b", "jonas.9b", "ali.9b"]).order_by("username").first())
    second = chat.check_create_conversation(jonas, "group", "Gjengen", ["sara.9b", classmate.username]).conversation
    chat.check_send(jonas, first.pk, "Hei", "h-1")
    chat.check_send(jonas, second.pk, "Hallo", "h-2")
    mail.outbox.clear()
    school_time = next_monday(10)
    actions.deliver_due(now=school_time)
    assert [m for m in mail.outbox if m.to == [sara.email]] == []
    held = Notice.objects.filter(person=sara, sent_at__isnull=True)
    assert held.count() == 2 and all(n.held for n in held)
    assert {n.due_at.astimezone(OSLO).strftime("%H:%M") for n in held} == {"14:30"}
    actions.deliver_due(now=school_time.replace(hour=14, minute=31))
    digests = [m for m in mail.outbox if m.to == [sara.email]]
    assert len(digests) == 1
    assert "2" in digests[0].body


def test_r_chat_05_school_conversation_notice_not_held(person) -> None:
    kari, far = person("kari.4a"), person("far.emma")
    conversation = chat.check_create_conversation(kari, "direct", "", ["far.emma"], school_owned=True).conversation
    chat.check_send(kari, conversation.pk, "Info", "s-1")
    mail.outbox.clear()
    actions.deliver_due(now=next_monday(10))
    assert len([m for m in mail.outbox if m.to == [far.email]]) == 1


def test_r_chat_05_contact_teacher_sets_class_quiet_hours(person, api_client) -> None:
    """Only the contact teacher sets quiet hours; notices to the class's pupils wait through them."""
    from trygg.directory.models import SchoolClass

    school_class = SchoolClass.objects.get(name="4A")
    path = f"/api/v1/classes/{school_class.pk}/quiet-hours"
    body = json.dumps({"schedule": {"mon": ["16:00", "20:00"]}})
    assert api_client("nils.9b").put(path, data=body, content_type="application/json").status_code == 404
    assert api_client("kari.4a").put(path, data=json.dumps({"schedule": {"mon": ["20:00", "16:00"]}}),
                                     content_type="application/json").status_code == 400
    assert api_client("kari.4a").put(path, data=body, content_type="application/json").status_code == 200
    kari, emma = person("kari.4a"), person("emma.4a")
    conversation = chat.check_create_conversation(kari, "direct", "", ["emma.4a"], school_owned=True).conversation
    chat.check_send(kari, conversation.pk, "Lekser", "q-1")
    mail.outbox.clear()
    actions.deliver_due(now=next_monday(17))
    assert [m for m in mail.outbox if m.to == [emma.email]] == []
    notice = Notice.objects.get(person=emma, conversation_id=conversation.pk)
    assert notice.held and notice.due_at.astimezone(OSLO).strftime("%H:%M") == "20:00"


def test_preferences_choose_channels(person, api_client) -> None:
    client = api_client("mor.ali")
    assert client.get("/api/v1/notifications/preferences").json()["email_messages"] is True
    changed = client.put("/api/v1/notifications/preferences", data=json.dumps({"email_messages": False}),
                         content_type="application/json")
    assert changed.status_code == 200 and changed.json()["email_messages"] is False
    assert client.put("/api/v1/notifications/preferences", data=json.dumps({"loud": True}),
                      content_type="application/json").status_code == 400
    ola = person("ola.9b")
    conversation = chat.check_create_conversation(ola, "direct", "", ["mor.ali"], school_owned=True).conversation
    chat.check_send(ola, conversation.pk, "Hei", "p-1")
    assert not Notice.objects.filter(person=person("mor.ali")).exists()


def test_read_in_app_means_no_notice(person) -> None:
    ola, far = person("ola.9b"), person("far.jonas")
    conversation = chat.check_create_conversation(ola, "direct", "", ["far.jonas"], school_owned=True).conversation
    chat.check_send(ola, conversation.pk, "Hei", "r-1")
    chat.check_mark_read(far, conversation.pk)
    mail.outbox.clear()
    actions.deliver_due(now=next_monday(16))
    assert [m for m in mail.outbox if m.to == [far.email]] == []


def test_outbox_row_is_claimed_once(person) -> None:
    """Two workers claiming at once: the conditional update gives each row to one of them."""
    notice = Notice.objects.create(person=person("vo"), channel="email", kind="case_update")
    from trygg.notifications.actions import _claim

    now = next_monday(16)
    first = _claim(now, 10)
    second = _claim(now, 10)
    assert notice.pk in [n.pk for n in first]
    assert notice.pk not in [n.pk for n in second]


class Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict, str]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        Gateway.received.append((json.loads(self.rfile.read(length)), self.headers.get("Authorization", "")))
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def gateway(settings):
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.received = []
    Gateway.status = 200
    settings.TRYGG_SMS_BACKEND = "trygg.notifications.sms.HttpSmsGatewayBackend"
    settings.TRYGG_SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.TRYGG_SMS_GATEWAY_TOKEN = "gateway-secret"
    yield Gateway
    server.shutdown()


def test_r_staff_06_sms_through_real_http_gateway_is_neutral_and_retried(person, gateway) -> None:
    """The HTTP gateway backend posts a neutral text with the bearer token; a failure is retried."""
    sara = person("mor.sara")
    actions.check_set_preferences(sara, sms_messages=True, email_messages=False)
    ola = person("ola.9b")
    conversation = chat.check_create_conversation(ola, "direct", "", ["mor.sara"], school_owned=True).conversation
    chat.check_send(ola, conversation.pk, "Sara kom for sent i dag", "sms-1")
    gateway.status = 503
    actions.deliver_due(now=next_monday(16))
    notice = Notice.objects.get(person=sara, channel="sms", conversation_id=conversation.pk)
    assert notice.sent_at is None and notice.attempts == 1 and not notice.failed
    gateway.status = 200
    actions.deliver_due(now=next_monday(16) + timedelta(minutes=5))
    notice.refresh_from_db()
    assert notice.sent_at is not None
    payload, auth = gateway.received[-1]
    assert auth == "Bearer gateway-secret"
    assert payload["to"] == sara.phone
    for secret in ("Sara", "sent", ola.name, "Ola"):
        assert secret not in payload["text"]


def test_worker_cli_runs_jobs_once() -> None:
    from trygg.cli import main

    assert main(["worker", "--once"]) == 0


def test_r_staff_06_logging_sms_backend_logs_neither_number_nor_text(person, caplog) -> None:
    """The default SMS backend records that a text went out, without the number or the text."""
    import logging

    far = person("mor.sara")
    assert far.phone
    actions.check_set_preferences(far, sms_messages=True, email_messages=False)
    rektor = person("rektor")
    conversation = chat.check_create_conversation(rektor, "direct", "", ["mor.sara"], school_owned=True).conversation
    chat.check_send(rektor, conversation.pk, "Møte om Sara i morgen", "log-1")
    with caplog.at_level(logging.INFO, logger="trygg.notifications.sms"):
        actions.deliver_due(now=next_monday(16))
    assert Notice.objects.get(person=far, channel="sms").sent_at is not None
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "sms to" in logged
    assert far.phone not in logged and far.phone[-4:] not in logged
    assert "Sara" not in logged and "Møte" not in logged


@pytest.mark.django_db
def test_message_notices_read_every_recipients_choices_in_one_pass_past_the_chunk() -> None:
    """The facts a message's notices need (waiting notices, chosen channels, push devices) hold for
    every recipient of a large channel: past SQLite's 300 people per statement, and on PostgreSQL
    in one statement with the ids as arrays."""
    from types import SimpleNamespace

    from trygg.directory.models import Municipality
    from trygg.notifications.models import Channel, NoticePreference, PushSubscription

    municipality = Municipality.objects.first() or Municipality.objects.create(name="Testby")
    people = Person.objects.bulk_create(
        [Person(username=f"notice.{i}", name=f"Notice {i}", municipality=municipality) for i in range(650)])
    ids = [p.pk for p in Person.objects.filter(username__startswith="notice.").order_by("pk")]
    assert len(ids) == len(people)
    conversation = SimpleNamespace(pk=987654)
    # Every 7th already has an e-mail notice waiting for this conversation; every 5th chose SMS and
    # no e-mail; every 11th has a push device.
    Notice.objects.bulk_create([Notice(person_id=pid, channel=Channel.EMAIL, kind="new_message",
                                       conversation_id=conversation.pk) for pid in ids[::7]])
    NoticePreference.objects.bulk_create([NoticePreference(person_id=pid, email_messages=False, sms_messages=True)
                                          for pid in ids[::5]])
    PushSubscription.objects.bulk_create([PushSubscription(person_id=pid, endpoint=f"https://push.example/{pid}",
                                                           p256dh="k", auth="a") for pid in ids[::11]])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as statements:
        actions._message_notice_facts(conversation.pk, ids)
    assert len(statements.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
    before = set(Notice.objects.values_list("pk", flat=True))
    actions.queue_message_notices(conversation, ids)
    queued = {(pid, channel) for pid, channel in Notice.objects.exclude(pk__in=before)
              .values_list("person_id", "channel")}
    expected = set()
    for index, pid in enumerate(ids):
        email, sms = (False, True) if index % 5 == 0 else (True, False)
        if email and index % 7:
            expected.add((pid, Channel.EMAIL))
        if sms:
            expected.add((pid, Channel.SMS))
        if index % 11 == 0:
            expected.add((pid, Channel.PUSH))
    assert queued == expected
