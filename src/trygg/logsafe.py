"""No secret reaches a log line by way of a request's address (DEVELOPERS.md: logs never carry tokens).

Two secrets travel in addresses: a meeting's link key (``/meetings/<id>/room/<key>/``, the link an
intruder's entry voids, R-MEET-18) and the sign-in provider's one-time code and state
(``/signin/oidc/<id>/callback/?code=…&state=…``). uvicorn's access log wrote both, whole, for every
request, and Django's ``django.request`` warning names the path of a refused room
("Forbidden: /meetings/5/room/<key>/") — where the key may well be live.

``RedactSecrets`` cleans every record on its way to a handler: the key becomes ``…``, and so does a
query string, whatever it holds. It sits on Trygg's console handler and on uvicorn's own handlers
(``uvicorn_log_config``).

uvicorn's access log is off unless ``TRYGG_ACCESS_LOG`` is on: the proxy in front of Trygg keeps
access lines where a municipality runs one, and writing a line per request cost a tenth of the
server's CPU in the peer bench's phase a2, where 30 long polls answer each message (issue 15).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_ROOM_KEY = re.compile(r"(/meetings/\d+/room/)[^/\s\"'?#]+")
_QUERY = re.compile(r"(/[^\s\"'?]*)\?[^\s\"'#]*")


def clean(text: str) -> str:
    """Return ``text`` with meeting link keys and query strings in addresses replaced by ``…``."""
    if "/" not in text:
        return text
    return _QUERY.sub(r"\1?…", _ROOM_KEY.sub(r"\1…", text))


class RedactSecrets(logging.Filter):
    """A handler's filter that cleans each record's message (``clean``); it drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted: the handler reports it
            return True
        cleaned = clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """Return uvicorn's own logging set-up with ``RedactSecrets`` on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["trygg_secrets"] = {"()": "trygg.logsafe.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("trygg_secrets")
    return config
