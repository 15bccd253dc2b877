"""Web Push (RFC 8030, 8291 encryption, 8292 VAPID) through ``pywebpush``.

The server's VAPID key pair is made once per installation and kept in the data directory, so
browsers' subscriptions stay valid across restarts and across the processes of one installation.
"""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

KEY_FILE = "vapid_private.pem"
GONE = (404, 410)


class PushGone(Exception):
    """The push service says the subscription no longer exists (404/410): forget the device."""


class PushFailed(Exception):
    """The push service could not be reached or refused for now: try again later."""


def _key_path() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE


@cache
def vapid_key() -> Vapid02:
    """Return the installation's VAPID key, making it the first time (one process wins the race)."""
    path = _key_path()
    if not path.exists():
        key = Vapid02()
        key.generate_keys()
        pem = key.private_pem()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: of two processes starting at once, one writes the key and both then read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    return Vapid02.from_file(str(path))


def public_key() -> str:
    """Return the application server key for ``pushManager.subscribe`` (base64url, no padding)."""
    raw = vapid_key().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def send(endpoint: str, p256dh: str, auth: str, payload: dict[str, Any]) -> None:
    """Encrypt ``payload`` for one browser (aes128gcm) and hand it to its push service."""
    try:
        webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps(payload, ensure_ascii=False),
            vapid_private_key=vapid_key(),
            vapid_claims={"sub": settings.TRYGG_VAPID_SUBJECT},
            content_encoding="aes128gcm",
            timeout=settings.TRYGG_PUSH_TIMEOUT,
            # A day: a phone that is off for a night still gets the digest in the morning.
            ttl=24 * 3600,
            headers={"Urgency": "normal"},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in GONE:
            raise PushGone(str(status)) from None
        raise PushFailed(str(status) if status else "unreachable") from None
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors
        raise PushFailed(type(exc).__name__) from None
