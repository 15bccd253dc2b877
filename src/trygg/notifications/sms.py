"""SMS gateways. A backend sends one neutral text to one number; which one is a setting.

``TRYGG_SMS_BACKEND`` names the class: ``LoggingSmsBackend`` (default; writes a log line without
the number's digits or the text) or ``HttpSmsGatewayBackend`` (POSTs JSON to
``TRYGG_SMS_GATEWAY_URL`` with ``Authorization: Bearer TRYGG_SMS_GATEWAY_TOKEN``).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

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


class HttpSmsGatewayBackend(SmsBackend):
    """A plain HTTP gateway: ``POST {"to": ..., "text": ...}``; any 2xx answer is success."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url if url is not None else settings.TRYGG_SMS_GATEWAY_URL
        self.token = token if token is not None else settings.TRYGG_SMS_GATEWAY_TOKEN
        self.timeout = timeout
        if not self.url:
            raise SmsError("TRYGG_SMS_GATEWAY_URL is not set")

    def send(self, to: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url,
            data=json.dumps({"to": to, "text": text}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
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
