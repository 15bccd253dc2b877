"""Web Push: devices, a real local push endpoint that decrypts what it gets, holds, retries, 404/410.

The push endpoint in these tests is a small HTTP server playing the browser's push service: it
checks the VAPID signature (RFC 8292), decrypts the body with the subscription's own keys
(RFC 8291, aes128gcm) and keeps the payload for the test to read.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.notifications.test_notices import OSLO, next_monday
from trygg.messaging import actions as chat
from trygg.notifications import actions, push
from trygg.notifications.models import Notice, PushDelivery, PushSubscription
from trygg.notifications.texts import push_payload


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """One browser's push subscription: its own key pair and auth secret, as a real browser makes."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b64(__import__("os").urandom(16))
        raw = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                         serialization.PublicFormat.UncompressedPoint)
        self.p256dh = b64(raw)

    def subscription(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class PushService:
    """A local push service. ``/ok/N`` accepts, ``/gone/N`` answers 410, ``/flaky/N`` fails once."""

    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.failures: dict[str, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                browser = service.browsers[self.path]
                if self.path.startswith("/gone/"):
                    self.send_response(410)
                elif self.path.startswith("/flaky/") and service.failures.get(self.path, 0) == 0:
                    service.failures[self.path] = 1
                    self.send_response(503)
                else:
                    service.check_vapid(self.headers["Authorization"], browser.endpoint)
                    assert self.headers["Content-Encoding"] == "aes128gcm"
                    assert int(self.headers["TTL"]) > 0
                    clear = http_ece.decrypt(body, private_key=browser.private_key,
                                             auth_secret=unb64(browser.auth), version="aes128gcm")
                    service.received.setdefault(self.path, []).append(json.loads(clear))
                    self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def browser(self, path: str) -> Browser:
        browser = Browser(self.url + path)
        self.browsers[path] = browser
        return browser

    @staticmethod
    def check_vapid(header: str, endpoint: str) -> None:
        """The request is signed with the installation's VAPID key for this push service (RFC 8292)."""
        scheme, _, params = header.partition(" ")
        assert scheme == "vapid"
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert fields["k"] == push.public_key()
        head, claims, signature = fields["t"].split(".")
        raw = unb64(signature)
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        assert json.loads(unb64(claims))["aud"] == endpoint.rsplit("/", 2)[0]


@pytest.fixture
def push_service(settings: Any) -> Iterator[PushService]:
    settings.TRYGG_PUSH_ALLOW_HTTP_ENDPOINTS = True
    service = PushService()
    yield service
    service.server.shutdown()


def subscribe(api_client: Any, username: str, browser: Browser, device: str = "Firefox on Android") -> int:
    response = api_client(username).post("/api/v1/push/subscriptions",
                                         data=json.dumps({**browser.subscription(), "device": device}),
                                         content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


SECRETS = ("Emma", "magen", "Marte", "Ring meg", "Kari", "Nordmann", "Solheim", "Sara", "Jonas", "Hei", "Gjengen")


def test_vapid_key_is_made_once_per_installation_in_the_data_directory(settings: Any) -> None:
    key = push.public_key()
    assert len(unb64(key)) == 65
    path = Path(settings.DATA_DIR) / push.KEY_FILE
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    push.vapid_key.cache_clear()
    assert push.public_key() == key  # read back from the file, not made anew


def test_r_staff_06_push_reaches_the_device_encrypted_and_neutral(api_client, person, push_service) -> None:
    """The push service gets an encrypted, VAPID-signed message that says only that something is new."""
    browser = push_service.browser("/ok/1")
    assert api_client("mor.emma").get("/api/v1/push/key").json()["public_key"] == push.public_key()
    subscribe(api_client, "mor.emma", browser)
    kari, mor = person("kari.4a"), person("mor.emma")
    conversation = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    chat.check_send(kari, conversation.pk, "Emma har vondt i magen og bør hentes", "p-1")
    chat.check_send(kari, conversation.pk, "Ring meg, Marte", "p-2")
    assert Notice.objects.filter(person=mor, channel="push").count() == 1  # coalesced, as e-mail is
    now = next_monday(16)
    actions.deliver_due(now=now)
    assert actions.deliver_pushes(now=now) == 1
    [payload] = push_service.received["/ok/1"]
    assert set(payload) == {"title", "body", "url", "tag", "count"}
    assert isinstance(payload["count"], int) and payload["count"] >= 1  # the app badge: a number only
    assert payload["url"] == "/messages/"
    assert "1" in payload["body"]
    text = json.dumps(payload, ensure_ascii=False)
    for secret in (*SECRETS, kari.name, mor.name):
        assert secret not in text
    assert PushSubscription.objects.get(endpoint=browser.endpoint).last_success_at == now


def test_r_chat_05_social_push_held_in_school_hours_then_one_digest(api_client, person, push_service) -> None:
    """Push obeys the same holds as e-mail: nothing during school hours, then one digest."""
    browser = push_service.browser("/ok/2")
    subscribe(api_client, "sara.9b", browser, "Safari on iPhone")
    sara, jonas = person("sara.9b"), person("jonas.9b")
    first = chat.check_create_conversation(jonas, "direct", "", ["sara.9b"]).conversation
    second = chat.check_create_conversation(jonas, "group", "Gjengen", ["sara.9b", "eirik.9b"]).conversation
    chat.check_send(jonas, first.pk, "Hei", "ph-1")
    chat.check_send(jonas, second.pk, "Hallo", "ph-2")
    school_time = next_monday(10)
    actions.deliver_due(now=school_time)
    actions.deliver_pushes(now=school_time)
    assert push_service.received.get("/ok/2") is None
    held = Notice.objects.filter(person=sara, channel="push", sent_at__isnull=True)
    assert held.count() == 2 and {n.due_at.astimezone(OSLO).strftime("%H:%M") for n in held} == {"14:30"}
    after = school_time.replace(hour=14, minute=31)
    actions.deliver_due(now=after)
    actions.deliver_pushes(now=after)
    [digest] = push_service.received["/ok/2"]
    assert "2" in digest["body"]
    assert digest["title"] == push_payload(sara.language, ["new_message"], 2, True)["title"]


def test_a_device_the_push_service_reports_gone_is_removed(api_client, person, push_service) -> None:
    """410 from the push service: the subscription and its waiting rows are removed, nothing retried."""
    browser = push_service.browser("/gone/1")
    sub_id = subscribe(api_client, "far.emma", browser)
    actions._queue_push(person("far.emma"), {"title": "Trygg", "body": "x", "url": "/", "tag": "t"}, next_monday(16))
    assert actions.deliver_pushes(now=next_monday(16)) == 0
    assert not PushSubscription.objects.filter(pk=sub_id).exists()
    assert not PushDelivery.objects.filter(subscription_id=sub_id).exists()


def test_a_failed_push_is_retried_later(api_client, person, push_service) -> None:
    """A push service that fails (503) gets the row again after a wait; the second try arrives."""
    browser = push_service.browser("/flaky/1")
    subscribe(api_client, "far.jonas", browser)
    now = next_monday(16)
    actions._queue_push(person("far.jonas"), push_payload("nb", ["new_message"], 1, False), now)
    assert actions.deliver_pushes(now=now) == 0
    row = PushDelivery.objects.get(subscription__endpoint=browser.endpoint)
    assert row.attempts == 1 and row.sent_at is None and row.due_at > now
    assert actions.deliver_pushes(now=now) == 0  # not due yet
    assert actions.deliver_pushes(now=row.due_at) == 1
    assert len(push_service.received["/flaky/1"]) == 1


def test_production_accepts_only_https_push_endpoints(api_client, settings) -> None:
    settings.TRYGG_PUSH_ALLOW_HTTP_ENDPOINTS = False
    browser = Browser("http://127.0.0.1:9/push")
    response = api_client("mor.ali").post("/api/v1/push/subscriptions", data=json.dumps(browser.subscription()),
                                          content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "bad_push_endpoint"
    browser.endpoint = "https://push.example.org/abc"
    bad_keys = {**browser.subscription(), "keys": {"p256dh": "AAAA", "auth": browser.auth}}
    response = api_client("mor.ali").post("/api/v1/push/subscriptions", data=json.dumps(bad_keys),
                                          content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "bad_push_keys"
    assert subscribe(api_client, "mor.ali", browser) > 0


def test_a_person_sees_and_turns_off_only_their_own_devices(api_client, person) -> None:
    """The owner lists and removes a device; someone else gets 404 and never sees it."""
    phone = Browser("https://push.example.org/phone")
    tablet = Browser("https://push.example.org/tablet")
    phone_id = subscribe(api_client, "mor.sara", phone, "Chrome on Android")
    subscribe(api_client, "mor.sara", tablet, "Safari on iPad")
    owner = api_client("mor.sara")
    assert [d["device"] for d in owner.get("/api/v1/push/subscriptions").json()] == ["Safari on iPad",
                                                                                     "Chrome on Android"]
    assert api_client("mor.ali").get("/api/v1/push/subscriptions").json() == []
    assert api_client("mor.ali").delete(f"/api/v1/push/subscriptions/{phone_id}").status_code == 404
    assert owner.delete(f"/api/v1/push/subscriptions/{phone_id}").status_code == 204
    assert [d["device"] for d in owner.get("/api/v1/push/subscriptions").json()] == ["Safari on iPad"]


def test_r_staff_06_no_push_payload_carries_a_name_or_message_text(person) -> None:
    """Every push payload Trygg can make, in every language, is one of the fixed neutral sentences:
    it is built from the notice kinds and counts alone, so no name or text can reach it."""
    kinds_seen = [["new_message"], ["classlist_reminder"], ["case_new"], ["case_follow_up"],
                  ["meeting_request"], ["meeting_request_answered"], ["new_message", "case_new"], ["other"]]
    people_names = [p.name for p in person("kari.4a").__class__.objects.all()]
    for language in ("nb", "da", "en"):
        for kinds in kinds_seen:
            for digest in (False, True):
                payload = push_payload(language, kinds, 3, digest)
                assert set(payload) == {"title", "body", "url", "tag"}
                assert payload["url"].startswith("/") and "//" not in payload["url"]
                text = json.dumps(payload, ensure_ascii=False)
                assert not [name for name in people_names if name in text]
    # What the outbox stores for a device is such a payload, and nothing else.
    for row in PushDelivery.objects.all():
        assert set(row.payload) <= {"title", "body", "url", "tag", "count"}


def test_the_notices_page_lists_devices_and_turns_one_off(api_client, person) -> None:
    """The notices page shows the person's push devices, and "Turn off" removes one of theirs only."""
    from django.test import Client

    sub_id = subscribe(api_client, "mor.emma", Browser("https://push.example.org/page"), "Chrome · Android")
    other_id = subscribe(api_client, "far.emma", Browser("https://push.example.org/other"), "Firefox · Linux")
    client = Client()
    client.force_login(person("mor.emma"))
    page = client.get("/messages/notices/").content.decode()
    assert "Chrome · Android" in page and "Firefox · Linux" not in page
    assert client.post("/me/", {"form": "push_off", "device_id": other_id}).status_code == 404
    assert PushSubscription.objects.filter(pk=other_id).exists()
    client.post("/me/", {"form": "push_off", "device_id": sub_id, "next": "/messages/notices/"})
    assert not PushSubscription.objects.filter(pk=sub_id).exists()
