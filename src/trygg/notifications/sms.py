"""SMS gateways. A backend sends one neutral text to one number; which one is a setting.

``TRYGG_SMS_BACKEND`` names the class: ``LoggingSmsBackend`` (default; writes a log line without
the number's digits or the text) or ``HttpSmsGatewayBackend``, which POSTs JSON to
``TRYGG_SMS_GATEWAY_URL``: the body is ``TRYGG_SMS_GATEWAY_BODY``, a JSON template whose string
values may hold ``{to}`` (the number as stored, e.g. +4791234567), ``{msisdn}`` (digits only),
``{text}`` and ``{sender}`` (``TRYGG_SMS_SENDER``); a value that is exactly ``"{msisdn:int}"``
becomes a number, for gateways that want one. Login is ``Authorization: Bearer
TRYGG_SMS_GATEWAY_TOKEN`` or HTTP Basic with ``TRYGG_SMS_GATEWAY_USER``/``_PASSWORD``. The
README shows the shapes of a Norwegian and a Danish gateway.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not accept the message; the notice is retried later."""


class SmsBackend:
    def send(self, to: str, text: str) -> None:
        raise NotImplementedError


def masked(number: str) -> str:
    return "***" + number[-2:] if len(number) > 2 else "***"


class LoggingSmsBackend(SmsBackend):
    """Development default: records that a text would be sent; neither the number nor the text."""

    def send(self, to: str, text: str) -> None:
        log.info("sms to %s (%d characters) not sent: logging backend", masked(to), len(text))


def fill(template: Any, values: dict[str, str]) -> Any:
    """Return the parsed JSON ``template`` with placeholders in its strings replaced (never re-parsed,
    so a text with quotes or braces cannot change the body's shape)."""
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    if isinstance(template, str):
        if template == "{msisdn:int}":
            return int(values["msisdn"] or 0)
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
    return template


class HttpSmsGatewayBackend(SmsBackend):
    """An HTTP gateway: ``POST`` the configured JSON body; any 2xx answer is success."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None,
                 body: str | None = None) -> None:
        self.url = url if url is not None else settings.TRYGG_SMS_GATEWAY_URL
        self.token = token if token is not None else settings.TRYGG_SMS_GATEWAY_TOKEN
        self.timeout = timeout if timeout is not None else settings.TRYGG_SMS_GATEWAY_TIMEOUT
        if not self.url:
            raise SmsError("TRYGG_SMS_GATEWAY_URL is not set")
        try:
            self.template = json.loads(body if body is not None else settings.TRYGG_SMS_GATEWAY_BODY)
        except ValueError as exc:
            raise SmsError("TRYGG_SMS_GATEWAY_BODY is not JSON") from exc

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif settings.TRYGG_SMS_GATEWAY_USER:
            pair = f"{settings.TRYGG_SMS_GATEWAY_USER}:{settings.TRYGG_SMS_GATEWAY_PASSWORD}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return headers

    def send(self, to: str, text: str) -> None:
        values = {"to": to, "msisdn": "".join(ch for ch in to if ch.isdigit()), "text": text,
                  "sender": settings.TRYGG_SMS_SENDER}
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url, data=json.dumps(fill(self.template, values)).encode(), headers=self.headers(), method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"gateway unreachable: {type(exc).__name__}") from exc
        log.info("sms to %s handed to the gateway", masked(to))


def get_sms_backend() -> SmsBackend:
    return import_string(settings.TRYGG_SMS_BACKEND)()
