"""Notices a municipality can run (issue 18): its mail relay (STARTTLS and login) and SMS gateway,
settings from the environment, retries for any failure, the headers of an automatic e-mail, and
links that name the server's real address. R-STAFF-06 (neutral notices), R-PRIV-01.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.utils import timezone

from tests.notifications.test_notices import next_monday
from trygg.messaging import actions as chat
from trygg.notifications import actions
from trygg.notifications.models import Notice
from trygg.notifications.sms import HttpSmsGatewayBackend, fill
from trygg.notifications.texts import notice_text

REPO = Path(__file__).resolve().parents[2]
SECRETS = ("Emma", "magen", "Kari", "Solheim", "Nordmann")


def send_a_message(person: Any, txn: str) -> Any:
    """Kari writes to mor.emma; return mor.emma, whose notice is then due on Monday afternoon."""
    kari, mor = person("kari.4a"), person("mor.emma")
    conversation = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    chat.check_send(kari, conversation.pk, "Emma har vondt i magen", txn)
    return mor


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[str] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's API
        self.messages.append(envelope.original_content)
        self.tls.append(session.ssl is not None)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"trygg-relay", b"relay-secret")
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def relay(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real SMTP server on a free port that demands STARTTLS and a login, with a certificate of a
    throwaway authority the client is told to trust (SSL_CERT_FILE)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, authenticator=inbox.authenticate)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = True, False
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "trygg-relay", "relay-secret"
    settings.EMAIL_TIMEOUT = 10
    settings.TRYGG_PUBLIC_URL = "https://trygg.fjordvik.kommune.example"
    yield inbox
    controller.stop()


def test_r_staff_06_a_notice_goes_through_a_real_relay_with_starttls_and_login(person: Any, relay: Inbox) -> None:
    """The e-mail reaches a real SMTP server over STARTTLS after a login; what arrived is neutral, marked
    automatic, offers a one-click link to the person's notice settings, and its Date has the offset."""
    mor = send_a_message(person, "relay-1")
    now = next_monday(16)
    assert actions.deliver_due(now=now) >= 1
    assert Notice.objects.get(person=mor, channel="email").sent_at is not None
    assert relay.logins == ["trygg-relay"] and relay.tls == [True]
    message = message_from_bytes(relay.messages[0], policy=default_policy)
    assert message["To"] == mor.email
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == "<https://trygg.fjordvik.kommune.example/messages/notices/>"
    assert "-0000" not in message["Date"]
    sent_at = parsedate_to_datetime(message["Date"])
    assert sent_at == now
    assert sent_at.utcoffset() == timezone.localtime(now).utcoffset() != timedelta(0)
    body = message.get_body().get_content()
    assert "https://trygg.fjordvik.kommune.example/messages/" in body
    for secret in (*SECRETS, mor.name):
        assert secret not in body and secret not in message["Subject"]


def test_the_file_backend_delivers_instead_of_crashing(person: Any, settings: Any, tmp_path: Path) -> None:
    """The file backend writes the notice where TRYGG_EMAIL_FILE_PATH says (it used to raise TypeError)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    mor = send_a_message(person, "file-1")
    actions.deliver_due(now=next_monday(16))
    assert Notice.objects.get(person=mor, channel="email").sent_at is not None
    written = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "Auto-Submitted: auto-generated" in written and mor.email in written


class BrokenBackend:
    """An e-mail backend that fails the way a misconfigured one does: not with an OSError."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")


def test_any_backend_failure_is_retried_with_backoff_then_failed_and_never_left_claimed(
    person: Any, settings: Any
) -> None:
    """A backend raising TypeError does not crash the job: the notice is released, retried after 1, 2,
    4, 8 minutes, and after the fifth try marked failed; it is never left claimed."""
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenBackend"
    mor = send_a_message(person, "broken-1")
    now = next_monday(16)
    waits = []
    for attempt in range(1, actions.MAX_ATTEMPTS + 1):
        assert actions.deliver_due(now=now) == 0
        notice = Notice.objects.get(person=mor, channel="email")
        assert notice.claimed_at is None and notice.sent_at is None
        assert notice.attempts == attempt
        waits.append(round((notice.due_at - now).total_seconds() / 60))
        now = notice.due_at
    assert waits == [1, 2, 4, 8, 16]
    assert notice.failed
    actions.deliver_due(now=now + timedelta(hours=1))
    notice.refresh_from_db()
    assert notice.attempts == actions.MAX_ATTEMPTS and notice.claimed_at is None


def test_every_mail_and_sms_setting_comes_from_the_environment(tmp_path: Path) -> None:
    """A deployment sets its relay and gateway by environment variables alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({
        "TRYGG_DATA_DIR": str(tmp_path), "TRYGG_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "TRYGG_EMAIL_HOST": "smtp.kommune.example", "TRYGG_EMAIL_PORT": "587", "TRYGG_EMAIL_USE_TLS": "true",
        "TRYGG_EMAIL_USE_SSL": "false", "TRYGG_EMAIL_HOST_USER": "trygg", "TRYGG_EMAIL_HOST_PASSWORD": "pw",
        "TRYGG_EMAIL_TIMEOUT": "7", "TRYGG_EMAIL_FILE_PATH": "/var/spool/trygg", "TRYGG_FROM_EMAIL":
        "varsel@kommune.example", "TRYGG_SMS_GATEWAY_URL": "https://sms.example/send", "TRYGG_SMS_GATEWAY_USER":
        "u", "TRYGG_SMS_GATEWAY_PASSWORD": "p", "TRYGG_SMS_GATEWAY_BODY": '{"msg": "{text}"}',
        "TRYGG_SMS_SENDER": "Kommunen", "TRYGG_SMS_GATEWAY_TIMEOUT": "4",
    })
    script = ("import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'trygg.settings'; django.setup(); "
              "from django.conf import settings as s; print(json.dumps([s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, "
              "s.EMAIL_USE_SSL, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_TIMEOUT, s.EMAIL_FILE_PATH, "
              "s.DEFAULT_FROM_EMAIL, s.TRYGG_SMS_GATEWAY_URL, s.TRYGG_SMS_GATEWAY_USER, s.TRYGG_SMS_GATEWAY_BODY, "
              "s.TRYGG_SMS_SENDER, s.TRYGG_SMS_GATEWAY_TIMEOUT]))")
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["smtp.kommune.example", 587, True, False, "trygg", "pw", 7.0,
                                       "/var/spool/trygg", "varsel@kommune.example", "https://sms.example/send",
                                       "u", '{"msg": "{text}"}', "Kommunen", 4.0]


# --- SMS gateway shapes ------------------------------------------------------------------------

NORWEGIAN = ('{"source": "{sender}", "destination": "{to}", "userData": "{text}", "platformId": "COMMON_API", '
             '"platformPartnerId": "12345"}')
DANISH = '{"sender": "{sender}", "message": "{text}", "recipients": [{"msisdn": "{msisdn:int}"}]}'


class Gateway(BaseHTTPRequestHandler):
    received: list[tuple[Any, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.received.append((body, self.headers.get("Authorization", "")))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.mark.parametrize("template,expected", [
    (NORWEGIAN, {"source": "Kommunen", "destination": "+4791234567", "userData": 'Ny "melding" {x}',
                 "platformId": "COMMON_API", "platformPartnerId": "12345"}),
    (DANISH, {"sender": "Kommunen", "message": 'Ny "melding" {x}', "recipients": [{"msisdn": 4791234567}]}),
])
def test_r_staff_06_the_sms_gateway_posts_the_shape_the_operator_configured(
    settings: Any, template: str, expected: dict[str, Any]
) -> None:
    """A Norwegian-style and a Danish-style gateway body, with Basic login; quotes and braces in the text
    cannot change the JSON's shape."""
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Gateway.received = []
    settings.TRYGG_SMS_SENDER = "Kommunen"
    settings.TRYGG_SMS_GATEWAY_USER, settings.TRYGG_SMS_GATEWAY_PASSWORD = "kommune", "hemmelig"
    try:
        HttpSmsGatewayBackend(url=f"http://127.0.0.1:{server.server_port}/sms", token="", body=template).send(
            "+4791234567", 'Ny "melding" {x}')
    finally:
        server.shutdown()
    body, auth = Gateway.received[0]
    assert body == expected
    assert auth == "Basic a29tbXVuZTpoZW1tZWxpZw=="
    assert fill({"n": "{msisdn:int}"}, {"msisdn": "4512345678"}) == {"n": 4512345678}


# --- links ----------------------------------------------------------------------------------


def test_links_outside_a_request_name_the_address_the_server_listens_on(settings: Any) -> None:
    """Without TRYGG_PUBLIC_URL, a notice names the address `trygg serve` listens on (here port 8123),
    never a port of its own choosing; with TRYGG_PUBLIC_URL, that address."""
    from trygg.links import set_listen_url

    settings.TRYGG_PUBLIC_URL = ""
    previous = os.environ.get("TRYGG_LISTEN_URL")
    try:
        set_listen_url("0.0.0.0", 8123)  # noqa: S104 - what `trygg serve --host 0.0.0.0` is given
        _subject, body = notice_text("nb", ["new_message"], 1, False)
        assert "http://127.0.0.1:8123/messages/" in body
    finally:
        if previous is None:
            os.environ.pop("TRYGG_LISTEN_URL", None)
        else:
            os.environ["TRYGG_LISTEN_URL"] = previous
    settings.TRYGG_PUBLIC_URL = "https://trygg.kommune.example/"
    assert "https://trygg.kommune.example/messages/" in notice_text("nb", ["new_message"], 1, False)[1]


def test_calendar_links_in_a_request_name_the_request_host(api_client: Any, settings: Any) -> None:
    """The calendar feed's address is built from the host the request came to, not from a fixed port."""
    settings.TRYGG_PUBLIC_URL = ""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "trygg.skole.example"]
    client = api_client("mor.emma")
    answer = client.get("/api/v1/calendar/feed", HTTP_HOST="trygg.skole.example:8443")
    assert answer.status_code == 200
    assert answer.json()["url"].startswith("http://trygg.skole.example:8443/api/v1/calendar/feed/")
